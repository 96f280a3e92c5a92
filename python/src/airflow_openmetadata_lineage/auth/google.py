"""Google: an ID token for a service account (google-auth `IDTokenCredentials`), sent as the bearer token.

`secret_key` holds the whole service-account JSON or a path to it. google-auth signs a JWT-bearer assertion
with the account's key and posts it to the JSON's `token_uri`; the answer's `id_token` has
`aud = target_audience`. `audience` sets that audience; default: the OpenMetadata server's origin
(`scheme://host[:port]` of `openmetadata_api_endpoint`), the usual audience for a service behind IAP / Cloud
Run.
"""

from __future__ import annotations

import json
import os
from datetime import timezone
from typing import Any, ClassVar, Optional
from urllib.parse import urlsplit

from . import oauth2
from .base import AuthError, CachedTokenProvider, Token

_SA_FIELDS = ("client_email", "private_key", "token_uri")
_RETRYABLE = (408, 429, 500, 502, 503, 504)
_RETRYABLE_ERRORS = ("internal_failure", "server_error", "temporarily_unavailable")


def _retryable_error(data: Any) -> bool:
    try:
        return json.loads(data).get("error") in _RETRYABLE_ERRORS
    except (ValueError, TypeError, AttributeError):
        return False


def service_account_info(value: str) -> dict[str, Any]:
    """The service-account JSON from `secret_key`: inline JSON or a path to a file holding it."""
    text = value.strip()
    if not text.startswith("{"):
        if not os.path.isfile(text):
            raise AuthError(
                "google: [lineage] secret_key is neither service-account JSON nor a path to a readable file"
            )
        try:
            with open(text, encoding="utf-8") as fh:
                text = fh.read()
        except OSError:
            raise AuthError("google: [lineage] secret_key names a file that cannot be read") from None
    try:
        # strict=False: a one-line delivery may have turned the key's \n escapes into real newlines
        info = json.loads(text, strict=False)
    except ValueError:
        raise AuthError(
            "google: [lineage] secret_key is not valid JSON (a service-account key file)"
        ) from None
    if not isinstance(info, dict):
        raise AuthError("google: [lineage] secret_key is not a service-account JSON object")
    missing = [f for f in _SA_FIELDS if not info.get(f)]
    if missing:
        raise AuthError(
            f"google: [lineage] secret_key lacks {', '.join(missing)} (not a service-account key)"
        )
    return info


def default_audience(endpoint: Optional[str]) -> Optional[str]:
    if not endpoint:
        return None
    parts = urlsplit(endpoint.strip())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


class GoogleProvider(CachedTokenProvider):
    name: ClassVar[str] = "google"
    required_keys: ClassVar[tuple[str, ...]] = ("secret_key",)

    def _fetch(self, deadline: Optional[float]) -> Token:
        cfg = self.config
        info = service_account_info(oauth2.setting(cfg, self.name, "secret_key") or "")
        audience = oauth2.setting(cfg, self.name, "audience", required=False) or default_audience(
            getattr(cfg, "endpoint", None)
        )
        if not audience:
            raise AuthError(
                "google: set [lineage] audience (the ID token's audience, e.g. the OpenMetadata URL)"
            )
        try:
            from google.auth import exceptions
            from google.oauth2 import service_account
        except ImportError:
            raise AuthError(
                "google: google-auth is not installed; install airflow-openmetadata-lineage[google]"
            ) from None
        try:
            creds = service_account.IDTokenCredentials.from_service_account_info(
                info, target_audience=audience
            )
        except (ValueError, KeyError):
            raise AuthError(
                "google: [lineage] secret_key holds a private_key google-auth cannot load"
            ) from None
        try:
            creds.refresh(_request(cfg, deadline))
        except exceptions.GoogleAuthError as exc:
            reason = oauth2.redact(str(exc.args[0]) if exc.args else "", [info.get("private_key")])[:200]
            raise AuthError(f"google: ID token request to {info['token_uri']} failed: {reason}") from None
        if not creds.token:
            raise AuthError("google: the token endpoint's answer has no id_token")
        # google-auth keeps expiry as a naive UTC datetime
        expiry = creds.expiry.replace(tzinfo=timezone.utc).timestamp() if creds.expiry else None
        return Token(creds.token, expiry or oauth2.jwt_expiry(creds.token))


def _request(cfg: Any, deadline: Optional[float]) -> Any:
    """A google-auth transport that passes the wheel's verify and the budgeted timeout on every request."""
    from google.auth.transport.requests import Request

    class _Request(Request):
        def __call__(
            self,
            url: str,
            method: str = "GET",
            body: Any = None,
            headers: Any = None,
            timeout: Any = None,  # replaced: the budgeted timeout below
            **kw: Any,
        ) -> Any:
            kw["timeout"] = oauth2.timeout(cfg, "google", deadline)
            kw["verify"] = oauth2.verify(cfg)
            send: Any = super().__call__  # google-auth's transport is not annotated
            response = send(url, method=method, body=body, headers=headers, **kw)
            # google-auth retries these with backoff sleeps; a task must not wait: fail now, report later.
            if response.status in _RETRYABLE or _retryable_error(response.data):
                raise AuthError(f"google: token endpoint {url} answered {response.status}")
            return response

    return _Request()
