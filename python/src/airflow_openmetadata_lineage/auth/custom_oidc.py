"""Custom OIDC: client-credentials grant at `token_endpoint`, client authenticated with client_secret_basic.

client_secret_basic is the method RFC 6749 §2.3.1 says every authorization server MUST support and the OIDC
default (`token_endpoint_auth_method`), so it works with Keycloak, Okta, Auth0, Azure AD, Cognito, Ping, Dex
and others. Client id and secret are form-urlencoded before base64, as RFC 6749 §2.3.1 requires.
"""

from __future__ import annotations

from typing import ClassVar, Optional
from urllib.parse import quote

from . import oauth2
from .base import AuthError, CachedTokenProvider, Token


class CustomOIDCProvider(CachedTokenProvider):
    name: ClassVar[str] = "custom-oidc"
    required_keys: ClassVar[tuple[str, ...]] = ("client_id", "secret_key", "token_endpoint")

    def _fetch(self, deadline: Optional[float]) -> Token:
        cfg = self.config
        client_id = oauth2.setting(cfg, self.name, "client_id") or ""
        secret = oauth2.setting(cfg, self.name, "secret_key") or ""
        url = oauth2.setting(cfg, self.name, "token_endpoint") or ""
        if not url.startswith(("https://", "http://")):
            raise AuthError(f"{self.name}: [lineage] token_endpoint must be an https:// URL")
        data = {"grant_type": "client_credentials"}
        scope = " ".join(oauth2.scopes(cfg, self.name))
        if scope:
            data["scope"] = scope
        audience = oauth2.setting(cfg, self.name, "audience", required=False)
        if audience:
            data["audience"] = audience
        auth = (quote(client_id, safe=""), quote(secret, safe=""))
        return oauth2.post_form(self.name, url, data, cfg, deadline, auth=auth)
