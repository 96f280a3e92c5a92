"""`openmetadata` (alias `jwt`): a static bot JWT issued by OpenMetadata, sent as is."""

from __future__ import annotations

from typing import ClassVar, Optional

from .base import AuthError, AuthProvider


class OpenMetadataJWTProvider(AuthProvider):
    name: ClassVar[str] = "openmetadata"
    required_keys: ClassVar[tuple[str, ...]] = ("jwt_token",)

    def token(self, deadline: Optional[float] = None) -> Optional[str]:
        value = self.config.options.get("jwt_token", "").strip()
        # People paste the header value; the client adds "Bearer " itself.
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        if not value:
            raise AuthError("openmetadata: [lineage] jwt_token is empty: set it to the bot's JWT")
        return value
