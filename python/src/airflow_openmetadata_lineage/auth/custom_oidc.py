"""Custom OIDC: client-credentials grant at `token_endpoint`.

The client authenticates with `[lineage] token_endpoint_auth_method`: client_secret_basic (RFC 6749 §2.3.1:
every authorization server MUST support it; the OIDC default), id and secret form-urlencoded before base64 as
§2.3.1 requires; or client_secret_post (id and secret in the form). Some servers accept only the one method
an application is configured with (Auth0, for one). Unset, basic is tried first and an `invalid_client`
answer gets one retry with post; the method that worked is remembered for the process.
"""

from __future__ import annotations

import threading
from typing import ClassVar, Optional
from urllib.parse import quote

from . import oauth2
from .base import AuthError, CachedTokenProvider, Token

BASIC, POST = "client_secret_basic", "client_secret_post"

# (token endpoint, client id) -> the method that worked, when it was found by the fallback
_learned: dict[tuple[str, str], str] = {}
_learned_lock = threading.Lock()


class CustomOIDCProvider(CachedTokenProvider):
    name: ClassVar[str] = "custom-oidc"
    required_keys: ClassVar[tuple[str, ...]] = ("client_id", "secret_key", "token_endpoint")

    def _fetch(self, deadline: Optional[float]) -> Token:
        cfg = self.config
        client_id = oauth2.setting(cfg, self.name, "client_id") or ""
        url = oauth2.setting(cfg, self.name, "token_endpoint") or ""
        if not url.startswith(("https://", "http://")):
            raise AuthError(f"{self.name}: [lineage] token_endpoint must be an https:// URL")
        configured = oauth2.setting(cfg, self.name, "token_endpoint_auth_method", required=False)
        if configured:
            return self._request(url, client_id, configured, deadline)
        with _learned_lock:
            method = _learned.get((url, client_id), BASIC)
        try:
            return self._request(url, client_id, method, deadline)
        except AuthError as exc:
            if exc.oauth_error != "invalid_client":
                raise
            other = POST if method == BASIC else BASIC
            token = self._request(url, client_id, other, deadline)
            with _learned_lock:
                _learned[(url, client_id)] = other
            return token

    def _request(self, url: str, client_id: str, method: str, deadline: Optional[float]) -> Token:
        cfg = self.config
        secret = oauth2.setting(cfg, self.name, "secret_key") or ""
        data = {"grant_type": "client_credentials"}
        scope = " ".join(oauth2.scopes(cfg, self.name))
        if scope:
            data["scope"] = scope
        audience = oauth2.setting(cfg, self.name, "audience", required=False)
        if audience:
            data["audience"] = audience
        if method == POST:
            data.update(client_id=client_id, client_secret=secret)
            return oauth2.post_form(self.name, url, data, cfg, deadline)
        auth = (quote(client_id, safe=""), quote(secret, safe=""))
        return oauth2.post_form(self.name, url, data, cfg, deadline, auth=auth)
