"""What every loopback server of the kit offers its tests: an `/__admin/` API and a request log."""

from __future__ import annotations

from typing import Any

import requests


class AdminClient:
    """A session to one server's `/__admin/` routes (no proxies: loopback only)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False  # no proxies, no CA bundle overrides for loopback

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.http.request(method, f"{self.url}/__admin/{path}", timeout=10, **kwargs)
        resp.raise_for_status()
        return resp.json()

    def requests(self) -> list[dict[str, Any]]:
        """The server's request log, oldest first."""
        return self._admin("GET", "requests")

    def clear_requests(self) -> None:
        self._admin("DELETE", "requests")
