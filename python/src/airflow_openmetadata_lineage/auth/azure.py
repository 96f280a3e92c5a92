"""Azure AD / Entra ID: msal `ConfidentialClientApplication.acquire_token_for_client(scopes)` with a client
secret.

Instance discovery (a call to login.microsoftonline.com) stays on for Microsoft's own authority hosts and is
turned off for any other host (sovereign clouds, ADFS, a test authority), which msal would otherwise reject
or call out for. A fresh msal app per fetch: the wheel's cache decides when to refresh, and msal's own cache
would otherwise hand back the token OpenMetadata just refused with 401.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional
from urllib.parse import urlsplit

from . import oauth2
from .base import AuthError, CachedTokenProvider, Token

MICROSOFT_HOSTS = (
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "sts.windows.net",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
)


def is_microsoft_host(authority: str) -> bool:
    host = (urlsplit(authority).hostname or "").lower()
    return host in MICROSOFT_HOSTS


class AzureProvider(CachedTokenProvider):
    name: ClassVar[str] = "azure"
    required_keys: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "authority", "scopes")

    def _fetch(self, deadline: Optional[float]) -> Token:
        cfg = self.config
        client_id = oauth2.setting(cfg, self.name, "client_id") or ""
        secret = oauth2.setting(cfg, self.name, "client_secret") or ""
        authority = (oauth2.setting(cfg, self.name, "authority") or "").rstrip("/")
        scope_list = oauth2.scopes(cfg, self.name, required=True)
        if not authority.startswith("https://"):
            raise AuthError(
                "azure: [lineage] authority must be an https:// URL such as https://login.microsoftonline.com/<tenant>"
            )
        try:
            import msal
        except ImportError:
            raise AuthError(
                "azure: msal is not installed; install airflow-openmetadata-lineage[azure]"
            ) from None
        try:
            app = msal.ConfidentialClientApplication(
                client_id,
                client_credential=secret,
                authority=authority,
                instance_discovery=is_microsoft_host(authority),
                http_client=_HttpClient(cfg, deadline),
            )
            answer = app.acquire_token_for_client(scopes=scope_list)
        except AuthError:
            raise
        except (
            Exception
        ) as exc:  # msal raises ValueError and requests errors alike; their text may quote config
            reason = oauth2.redact(f"{type(exc).__name__}: {exc}", [secret])[:200]
            raise AuthError(f"azure: token request to {authority} failed: {reason}") from None
        if not isinstance(answer, dict) or "access_token" not in answer:
            code = answer.get("error") if isinstance(answer, dict) else None
            raise AuthError(f"azure: no token from {authority} ({str(code)[:60]})")
        return oauth2.token_from_answer(self.name, answer)


class _HttpClient:
    """msal's http_client: requests with the wheel's verify and the budgeted timeout on every call.

    verify goes per request because a Session's verify loses to REQUESTS_CA_BUNDLE."""

    def __init__(self, cfg: Any, deadline: Optional[float]) -> None:
        import requests

        self._session = requests.Session()
        self._cfg = cfg
        self._deadline = deadline

    def _kw(self, kw: dict[str, Any]) -> dict[str, Any]:
        kw["timeout"] = oauth2.timeout(self._cfg, "azure", self._deadline)
        kw["verify"] = oauth2.verify(self._cfg)
        kw.setdefault("allow_redirects", False)
        return kw

    def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any) -> Any:
        return self._session.get(url, params=params, headers=headers, **self._kw(kw))

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kw: Any) -> Any:
        return self._session.post(url, params=params, data=data, headers=headers, **self._kw(kw))

    def close(self) -> None:
        self._session.close()
