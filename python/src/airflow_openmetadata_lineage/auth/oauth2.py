"""Helpers shared by the SSO providers: reading keys, time budget, one token POST, reading the answer.

Every error raised here is an AuthError that names the provider and never carries a secret: request bodies
are never echoed, answers are reduced to the OAuth `error` code, and `redact()` scrubs known secrets from
any text.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any, Optional, Union

from ..options import parse_scopes
from .base import AuthError, Token

if TYPE_CHECKING:
    from ..options import AuthSettings

# When an answer says nothing about expiry: short, so an unknown lifetime never outlives the real one much.
DEFAULT_TTL = 300.0
_MIN_TIMEOUT = 0.05


def setting(config: AuthSettings, provider: str, key: str, required: bool = True) -> Optional[str]:
    """The decoded `[lineage] key`, or AuthError naming provider and key (never the value) when required."""
    value = (config.options.get(key) or "").strip()
    if not value:
        if required:
            raise AuthError(
                f"{provider}: [lineage] {key} is not set; set it (AIRFLOW__LINEAGE__{key.upper()})"
            )
        return None
    return value


def scopes(config: AuthSettings, provider: str, required: bool = False) -> list[str]:
    """`scopes` as a list: `[a, b]`, a JSON list, or `a,b` (space-separated also accepted)."""
    raw = setting(config, provider, "scopes", required)
    if raw is None:
        return []
    result = [s for s in parse_scopes(raw) if s]
    if required and not result:
        raise AuthError(f"{provider}: [lineage] scopes is empty; write e.g. [api://openmetadata/.default]")
    return result


def verify(config: AuthSettings) -> Union[bool, str]:
    """TLS verification for identity-server calls: the wheel's verify_ssl / ca_bundle setting."""
    value = getattr(config, "verify", True)
    return True if value is None else value


def timeout(config: AuthSettings, provider: str, deadline: Optional[float]) -> float:
    """Seconds for the next request: the per-request timeout, cut to what is left of the time budget."""
    per_request = float(getattr(config, "timeout", 5.0) or 5.0)
    if deadline is None:
        return per_request
    left = deadline - time.monotonic()
    if left <= _MIN_TIMEOUT:
        raise AuthError(f"{provider}: no time left in the time budget to fetch a token")
    return min(per_request, left)


def post_form(
    provider: str,
    url: str,
    data: dict[str, str],
    config: AuthSettings,
    deadline: Optional[float],
    auth: Optional[tuple[str, str]] = None,
) -> Token:
    """POST a token request (application/x-www-form-urlencoded) once, no retry, and read the token answer."""
    import requests

    try:
        # verify is passed per request: a Session-level verify loses to REQUESTS_CA_BUNDLE
        resp = requests.post(
            url,
            data=data,
            auth=auth,
            headers={"Accept": "application/json"},
            verify=verify(config),
            timeout=timeout(config, provider, deadline),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise AuthError(f"{provider}: token request to {url} failed: {type(exc).__name__}") from None
    payload = _json(resp)
    if resp.status_code != 200:
        code = payload.get("error") if isinstance(payload, dict) else None
        raise AuthError(
            f"{provider}: token endpoint {url} answered {resp.status_code}{_oauth_error(payload)}",
            code if isinstance(code, str) else None,
        )
    return token_from_answer(provider, payload)


def token_from_answer(provider: str, payload: Any, field: str = "access_token") -> Token:
    """A Token from an OAuth token answer: `field` plus `expires_in`, else the JWT's own `exp`."""
    value = payload.get(field) if isinstance(payload, dict) else None
    if not isinstance(value, str) or not value:
        raise AuthError(f"{provider}: the token endpoint's answer has no {field}")
    expires_in = payload.get("expires_in")
    try:
        expires_at: Optional[float] = time.time() + float(expires_in)
    except (TypeError, ValueError):
        expires_at = jwt_expiry(value)
    if expires_at is None:
        expires_at = time.time() + DEFAULT_TTL
    return Token(value, expires_at)


def jwt_expiry(token: str) -> Optional[float]:
    """The `exp` of a JWT, read without verifying it (only to schedule a refresh), or None."""
    try:
        part = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def redact(text: str, secrets: list[Optional[str]]) -> str:
    """`text` with every secret (and every line of a multi-line secret) replaced by ***."""
    for secret in secrets:
        if not secret:
            continue
        for piece in sorted({secret, *secret.splitlines()}, key=len, reverse=True):
            if len(piece.strip()) >= 6:
                text = text.replace(piece, "***")
    return text


def _json(resp: Any) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _oauth_error(payload: Any) -> str:
    # Only the RFC 6749 error code: descriptions can echo request values.
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return f" ({payload['error'][:60]})"
    return ""
