"""client.py against answers that are not OpenMetadata's: redirects (never followed, so the bearer token never
goes to another host) and HTML error pages of proxies, load balancers and WAFs in front of the server (a clear
error with the status, no markup in the message, and the right kind: 5xx transient, 4xx rejected).
A loopback http.server plays the proxy; a second one stands where a redirect would lead and records visits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

import pytest

from airflow_openmetadata_lineage.auth.base import AuthProvider
from airflow_openmetadata_lineage.client import OpenMetadataClient, RejectedError, TransientError
from airflow_openmetadata_lineage.config import LineageConfig

TOKEN = "eyJhbGciOiJIUzI1NiJ9.cmVkaXJlY3Q.c2ln"
HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


class Server:
    """Answers every request with (status, headers, body); records (method, path, Authorization)."""

    def __init__(
        self, status: int = 200, headers: Optional[dict[str, str]] = None, body: bytes = b""
    ) -> None:
        self.status, self.headers, self.body = status, headers or {}, body
        self.seen: list[tuple[str, str, Optional[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                outer.seen.append((self.command, self.path, self.headers.get("Authorization")))
                self.send_response(outer.status)
                for key, value in outer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            do_GET = do_PUT = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class StaticToken(AuthProvider):
    name = "static"

    def token(self, deadline: Optional[float] = None) -> Optional[str]:
        return TOKEN


@pytest.fixture
def elsewhere() -> Iterator[Server]:
    server = Server(200, {"Content-Type": "application/json"}, b'{"version": "1.12.0"}')
    yield server
    server.close()


def client_of(server: Server) -> OpenMetadataClient:
    config = LineageConfig(
        service_name="MWAA", endpoint=server.url + "/api", auth_provider_type="openmetadata", options={}
    )
    return OpenMetadataClient(config, StaticToken(config))


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_refused_and_the_token_stays_home(status: int, elsewhere: Server) -> None:
    proxy = Server(status, {"Location": elsewhere.url + "/api/v1/system/version"})
    try:
        with pytest.raises(RejectedError) as err:
            client_of(proxy).get("/v1/system/version")
    finally:
        proxy.close()
    assert err.value.status == status
    assert str(err.value) == f"GET /v1/system/version: HTTP {status}"
    assert proxy.seen == [("GET", "/api/v1/system/version", f"Bearer {TOKEN}")]
    assert elsewhere.seen == [], "the redirect was followed"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
        (403, RejectedError),
        (400, RejectedError),
    ],
)
def test_html_error_pages_give_the_status_without_markup(status: int, kind: type[Exception]) -> None:
    proxy = Server(status, {"Content-Type": "text/html"}, HTML)
    try:
        with pytest.raises(kind) as err:
            client_of(proxy).put("/v1/pipelines", {"name": "etl"})
    finally:
        proxy.close()
    assert str(err.value) == f"PUT /v1/pipelines: HTTP {status}"
    assert type(err.value) is kind and getattr(err.value, "status", None) == status


def test_an_html_page_with_200_is_not_taken_for_an_answer() -> None:
    """A captive portal or SSO login page answering 200: not JSON, so no success (transient: retry later)."""
    proxy = Server(200, {"Content-Type": "text/html"}, HTML)
    try:
        with pytest.raises(TransientError) as err:
            client_of(proxy).get("/v1/system/version")
    finally:
        proxy.close()
    assert str(err.value) == "GET /v1/system/version: HTTP 200 with a body that is not JSON"
    assert "<html" not in str(err.value)
