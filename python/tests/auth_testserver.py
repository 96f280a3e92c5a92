"""A loopback token endpoint for the auth unit tests (stdlib http.server: the airflow2 venv has no authlib).

It records every request (path, headers, form) and answers with `status` and `answer` after `delay` seconds.
Not emulated: any OAuth validation; tests/auth proves the real flows against the kit's emulators/identity.py.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import parse_qs

from airflow_openmetadata_lineage.config import LineageConfig, load_config, mapping_getter


class TokenServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.answer: dict[str, Any] = {"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}
        self.delay = 0.0
        # the one client authentication the application accepts (like Auth0's per-application setting);
        # None: any. Another method gets 401 {"error": "invalid_client"} (RFC 6749 §5.2).
        self.only_method: Optional[str] = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                server.requests.append({"path": self.path, "headers": dict(self.headers), "form": form})
                if server.delay:
                    time.sleep(server.delay)
                used = "client_secret_basic" if self.headers.get("Authorization") else "client_secret_post"
                status, answer = server.status, server.answer
                if server.only_method and used != server.only_method:
                    status, answer = 401, {"error": "invalid_client"}
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (deadline tests)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def make_config(provider: str, **options: Optional[str]) -> LineageConfig:
    """A LineageConfig through the wheel's own loader (so `%%`, base64: and \\n decoding apply)."""
    raw = {
        "airflow_service_name": "svc",
        "openmetadata_api_endpoint": "http://openmetadata.example:8585/api",
        "auth_provider_type": provider,
        **{k: v for k, v in options.items() if v is not None},
    }
    return load_config(mapping_getter(raw))
