"""The interface every auth provider implements, and the shared token cache.

A provider turns the settings (options.AuthSettings, e.g. config.LineageConfig) into a bearer token.
Providers that fetch tokens from an identity server subclass `CachedTokenProvider` and implement `_fetch()`;
the cache gives them: one fetch shared by concurrent callers in a process, refresh `refresh_margin` seconds
before expiry, and `invalidate()` for the client's single retry on 401.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Optional

if TYPE_CHECKING:
    from ..options import AuthSettings


class AuthError(Exception):
    """A token could not be obtained. The message must name the provider and never contain a secret."""

    def __init__(self, message: str, oauth_error: Optional[str] = None) -> None:
        super().__init__(message)
        self.oauth_error = oauth_error  # the RFC 6749 error code of the answer, when there was one


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: Optional[float]  # epoch seconds; None = does not expire (static JWT)


class AuthProvider:
    """Base class. `name` is the `auth_provider_type` value; `required_keys` the `[lineage]` keys it needs."""

    name: ClassVar[str] = ""
    required_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: AuthSettings) -> None:
        self.config = config

    def token(self, deadline: Optional[float] = None) -> Optional[str]:
        """The bearer token to send, or None for no Authorization header.
        `deadline` is a time.monotonic() value."""
        raise NotImplementedError

    def invalidate(self) -> None:
        """Forget a cached token (the server answered 401)."""


class CachedTokenProvider(AuthProvider):
    refresh_margin: ClassVar[float] = 60.0

    def __init__(self, config: AuthSettings) -> None:
        super().__init__(config)
        self._lock = threading.Lock()
        self._token: Optional[Token] = None

    def _fetch(self, deadline: Optional[float]) -> Token:
        raise NotImplementedError

    def _valid(self) -> Optional[Token]:
        """The cached token while it is not within `refresh_margin` of its expiry, else None."""
        t = self._token
        if t is not None and (t.expires_at is None or t.expires_at - self.refresh_margin > time.time()):
            return t
        return None

    def token(self, deadline: Optional[float] = None) -> Optional[str]:
        t = self._valid()
        if t is not None:
            return t.value
        with self._lock:  # one fetch for all concurrent callers
            t = self._valid()
            if t is None:
                t = self._token = self._fetch(deadline)
            return t.value

    def invalidate(self) -> None:
        with self._lock:
            self._token = None
