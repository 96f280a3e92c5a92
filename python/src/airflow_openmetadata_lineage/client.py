"""HTTP to the OpenMetadata REST API: one session per process, each request's timeout bounded by the
report's deadline.

No retry sleeps on the task's path. A 401 gets one token refresh and one retry. Errors come in three kinds
the reporter treats differently: transient (worth spooling), not found (unknown entity), rejected (won't
ever work).
`verify` is passed per request: requests lets REQUESTS_CA_BUNDLE override a Session's verify setting.
Messages carry the method, path and status, never a token or a secret.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    import requests

    from .auth.base import AuthProvider
    from .config import LineageConfig

log = logging.getLogger(__name__)

# Below this many seconds left, a request cannot usefully start.
MIN_REQUEST_SECONDS = 0.05
# Kept back from every request's share of the budget: what runs after the last request (spooling the report,
# logging) must fit in the budget too.
WRAP_UP_SECONDS = 0.1

_session: Optional[requests.Session] = None
_session_lock = threading.Lock()


class ClientError(Exception):
    def __init__(
        self, message: str, status: Optional[int] = None, retry_after: Optional[float] = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait (429/503 Retry-After)


class TransientError(ClientError):
    """Connection error, timeout, 5xx, 429, no token: the same request may work later (spool it)."""


class BudgetExhausted(TransientError):
    """The report's time budget ran out before this request could start."""


class NotFoundError(ClientError):
    """404: the entity (table FQN, pipeline) does not exist on the server."""


class RejectedError(ClientError):
    """Any other 4xx (bad body, forbidden, 401 after a refresh): resending the same request will not help."""


class ConflictError(RejectedError):
    """409 on a create: the entity exists already (another worker created it first)."""


class IdentityError(RejectedError):
    """The server does not know who we are: an SSO principal that is no user (or bot) in OpenMetadata. The
    server answers 404 "user instance for <name> not found" on any call; that is a setup error, not a
    missing entity."""


# OpenMetadata's EntityNotFoundException text for the calling principal, on whatever path was called.
_IDENTITY_NOT_FOUND = re.compile(r"^(user|bot) instance for (?P<name>.+) not found", re.IGNORECASE)


def session() -> requests.Session:
    """The process-wide session (connection pooling across reports of one task process)."""
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                import requests  # lazy: the backend module must import cheaply

                s = requests.Session()
                s.headers.update({"Accept": "application/json", "User-Agent": "airflow-openmetadata-lineage"})
                s.trust_env = True  # proxies from the environment still apply; verify is per request
                _session = s
    return _session


def urllib3_insecure_warning() -> type[Warning]:
    try:
        from urllib3.exceptions import InsecureRequestWarning

        return InsecureRequestWarning
    except ImportError:  # pragma: no cover - urllib3 always comes with requests
        return Warning


def quote_fqn(fqn: str) -> str:
    """An FQN as one URL path segment (quotes, slashes and spaces escaped)."""
    return quote(fqn, safe="")


def deadline_in(seconds: float) -> float:
    return time.monotonic() + seconds


class OpenMetadataClient:
    def __init__(self, config: LineageConfig, auth: AuthProvider) -> None:
        self.config = config
        self.auth = auth
        self.requests_sent = 0  # for logs and benchmarks
        if config.verify is False and config.endpoint.startswith("https:"):
            log.warning(
                "OpenMetadata lineage: [lineage] verify_ssl=false: the server's certificate is not checked"
            )

    def _timeout(self, deadline: Optional[float]) -> float:
        if deadline is None:
            return self.config.timeout
        left = deadline - WRAP_UP_SECONDS - time.monotonic()
        if left < MIN_REQUEST_SECONDS:
            raise BudgetExhausted("time budget exhausted")
        return min(self.config.timeout, left)

    def _token(self, deadline: Optional[float]) -> Optional[str]:
        from .auth.base import AuthError

        try:
            return self.auth.token(deadline)
        except AuthError as exc:
            raise TransientError(f"no token from {self.auth.name or 'auth provider'}: {exc}") from None
        except Exception as exc:  # a provider bug or library error: report its type only, it may hold secrets
            raise TransientError(
                f"no token from {self.auth.name or 'auth provider'}: {type(exc).__name__}"
            ) from None

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        deadline: Optional[float],
        token: Optional[str],
        content_type: str = "application/json",
    ) -> requests.Response:
        import requests

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            headers["Content-Type"] = content_type
            data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        timeout = self._timeout(deadline)
        self.requests_sent += 1
        try:
            with warnings.catch_warnings():
                if self.config.verify is False:
                    # verify_ssl=false was chosen (and logged once): no urllib3 warning on every request
                    warnings.simplefilter("ignore", urllib3_insecure_warning())
                response = session().request(
                    method,
                    self.config.endpoint + path,
                    data=data,
                    headers=headers,
                    timeout=timeout,
                    verify=self.config.verify,
                    allow_redirects=False,
                    stream=True,
                )
                _read_body(response, deadline, f"{method} {path}")
                return response
        except requests.Timeout:
            raise TransientError(f"{method} {path}: timed out after {timeout:.2f}s") from None
        except requests.exceptions.SSLError:
            where = urlsplit(self.config.endpoint)
            raise TransientError(
                f"{method} {path}: TLS handshake with {where.hostname} failed (SSLError): check"
                " [lineage] verify_ssl / ca_bundle"
            ) from None
        except requests.ConnectionError:
            where = urlsplit(self.config.endpoint)
            raise TransientError(
                f"{method} {path}: cannot connect to {where.hostname}:{where.port or ''}"
            ) from None
        except requests.RequestException as exc:
            # requests' messages can be long and nested: the class name says enough.
            raise TransientError(f"{method} {path}: {type(exc).__name__}") from None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        deadline: Optional[float] = None,
        content_type: str = "application/json",
    ) -> Any:
        """Send one request; return the parsed JSON (or None when empty). `path` starts with /v1/."""
        token = self._token(deadline)
        response = self._send(method, path, body, deadline, token, content_type)
        if response.status_code == 401:
            self.auth.invalidate()
            fresh = self._token(deadline)
            if fresh is not None and fresh != token:  # a static token would just fail again
                response = self._send(method, path, body, deadline, fresh, content_type)
        return self._result(method, path, response)

    @staticmethod
    def _result(method: str, path: str, response: requests.Response) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise TransientError(
                    f"{method} {path}: HTTP {status} with a body that is not JSON", status
                ) from None
        detail = _server_message(response)
        message = f"{method} {path}: HTTP {status}{': ' + detail if detail else ''}"
        if status == 404:
            who = _IDENTITY_NOT_FOUND.match(detail)
            if who:
                raise IdentityError(
                    f"{method} {path}: HTTP 404: OpenMetadata has no user or bot named"
                    f" {who.group('name')!r} for the token's principal",
                    status,
                )
            raise NotFoundError(message, status)
        if status == 409:
            raise ConflictError(message, status)
        if status == 429 or status >= 500 or status in (408,):
            raise TransientError(message, status, retry_after_seconds(response.headers.get("Retry-After")))
        raise RejectedError(message, status)

    def get(self, path: str, deadline: Optional[float] = None) -> Any:
        return self.request("GET", path, None, deadline)

    def put(self, path: str, body: Any, deadline: Optional[float] = None) -> Any:
        return self.request("PUT", path, body, deadline)

    def post(self, path: str, body: Any, deadline: Optional[float] = None) -> Any:
        return self.request("POST", path, body, deadline)

    def patch(self, path: str, operations: list[dict[str, Any]], deadline: Optional[float] = None) -> Any:
        """A JSON Patch (RFC 6902), as OpenMetadata's PATCH endpoints take it."""
        return self.request("PATCH", path, operations, deadline, "application/json-patch+json")


def _read_body(response: requests.Response, deadline: Optional[float], what: str) -> None:
    """Read the body against the deadline: requests' timeout bounds each socket read, not the whole body, so a
    server that drips bytes would otherwise outlast the time budget. `read1` returns whatever has arrived
    (iter_content blocks until a whole chunk or the end of a Content-Length body)."""
    import urllib3

    read1 = getattr(response.raw, "read1", None)  # urllib3 >= 2
    if read1 is None:
        chunks: Iterator[bytes] = response.iter_content(65536)
    else:
        sock = _socket_of(response)

        def next_chunk() -> bytes:
            if deadline is not None and sock is not None:
                # each wait for the next bytes ends by the deadline, not a full read timeout later
                with contextlib.suppress(OSError):  # already closed at the end of the body
                    sock.settimeout(max(deadline - WRAP_UP_SECONDS - time.monotonic(), 0.01))
            chunk: bytes = read1(65536, decode_content=True)
            return chunk

        chunks = iter(next_chunk, b"")
    body = bytearray()
    try:
        for chunk in chunks:
            body += chunk
            if deadline is not None and time.monotonic() > deadline - WRAP_UP_SECONDS:
                response.close()
                raise BudgetExhausted(f"{what}: the answer arrived too slowly (time budget exhausted)")
    except urllib3.exceptions.HTTPError as exc:  # raw reads raise urllib3's own errors
        response.close()
        if deadline is not None and time.monotonic() >= deadline - WRAP_UP_SECONDS - 0.02:
            raise BudgetExhausted(f"{what}: the answer arrived too slowly (time budget exhausted)") from None
        raise TransientError(f"{what}: reading the answer failed ({type(exc).__name__})") from None
    response._content = bytes(body)


def _socket_of(response: requests.Response) -> Any:
    """The socket under a streamed response (urllib3 2 -> http.client -> SocketIO), or None: private
    attributes, so anything unexpected just means the per-read timeout stays as set at the start."""
    fp = getattr(getattr(response.raw, "_fp", None), "fp", None)
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock if hasattr(sock, "settimeout") else None


def _server_message(response: requests.Response) -> str:
    """OpenMetadata's `{"code":..., "message":...}` text, shortened; it describes the body, not our
    headers."""
    try:
        data = response.json()
        message = data.get("message") if isinstance(data, dict) else None
    except ValueError:
        message = None
    return str(message)[:300] if message else ""


def retry_after_seconds(value: Optional[str]) -> Optional[float]:
    """A Retry-After header (delta-seconds or an HTTP date, RFC 9110 §10.2.3) as seconds from now."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())
