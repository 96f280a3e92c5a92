"""`no-auth`: the server runs without authentication; no Authorization header is sent."""

from __future__ import annotations

from typing import ClassVar, Optional

from .base import AuthProvider


class NoAuthProvider(AuthProvider):
    name: ClassVar[str] = "no-auth"
    required_keys: ClassVar[tuple[str, ...]] = ()

    def token(self, deadline: Optional[float] = None) -> Optional[str]:
        return None
