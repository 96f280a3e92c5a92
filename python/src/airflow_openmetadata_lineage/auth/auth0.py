"""Auth0: client-credentials grant at `https://{domain}/oauth/token` (client_secret_post, as Auth0 shows)."""

from __future__ import annotations

from typing import ClassVar, Optional

from . import oauth2
from .base import CachedTokenProvider, Token


def base_url(domain: str) -> str:
    """`https://{domain}`; a domain written as a full URL (e.g. a custom domain with a port) is kept as is."""
    domain = domain.strip().rstrip("/")
    return domain if domain.startswith(("https://", "http://")) else f"https://{domain}"


class Auth0Provider(CachedTokenProvider):
    name: ClassVar[str] = "auth0"
    required_keys: ClassVar[tuple[str, ...]] = ("client_id", "secret_key", "domain")

    def _fetch(self, deadline: Optional[float]) -> Token:
        cfg = self.config
        data = {
            "grant_type": "client_credentials",
            "client_id": oauth2.setting(cfg, self.name, "client_id") or "",
            "client_secret": oauth2.setting(cfg, self.name, "secret_key") or "",
        }
        # Auth0 issues a JWT access token only for an API audience (or the tenant's default audience).
        audience = oauth2.setting(cfg, self.name, "audience", required=False)
        if audience:
            data["audience"] = audience
        scope = " ".join(oauth2.scopes(cfg, self.name))
        if scope:
            data["scope"] = scope
        url = base_url(oauth2.setting(cfg, self.name, "domain") or "") + "/oauth/token"
        return oauth2.post_form(self.name, url, data, cfg, deadline)
