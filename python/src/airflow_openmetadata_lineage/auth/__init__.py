"""The provider registry: `auth_provider_type` -> provider class, imported only when used.

`REQUIRED_KEYS` sits here (not on the classes alone) so config validation can check a provider's keys without
importing its module, and with it google-auth, msal or PyJWT.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ..config import LineageConfig
    from .base import AuthProvider

# name -> "module:Class", relative to this package.
REGISTRY: dict[str, str] = {
    "no-auth": ".noauth:NoAuthProvider",
    "openmetadata": ".openmetadata:OpenMetadataJWTProvider",
    "google": ".google:GoogleProvider",
    "auth0": ".auth0:Auth0Provider",
    "okta": ".okta:OktaProvider",
    "azure": ".azure:AzureProvider",
    "custom-oidc": ".custom_oidc:CustomOIDCProvider",
}

ALIASES: dict[str, str] = {"jwt": "openmetadata", "noauth": "no-auth", "none": "no-auth"}

# The `[lineage]` keys each provider cannot work without (the seed's list).
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "no-auth": (),
    "openmetadata": ("jwt_token",),
    "google": ("secret_key",),
    "auth0": ("client_id", "secret_key", "domain"),
    "okta": ("client_id", "org_url", "private_key", "email"),
    "azure": ("client_id", "client_secret", "authority", "scopes"),
    "custom-oidc": ("client_id", "secret_key", "token_endpoint"),
}


def provider_names() -> list[str]:
    """The valid `auth_provider_type` values, aliases included, for error messages."""
    return [*REGISTRY, "jwt"]


def canonical_name(name: str) -> Optional[str]:
    """The registry name for a configured value (case-insensitive, aliases resolved), or None if unknown."""
    key = name.strip().lower().replace("_", "-")
    key = ALIASES.get(key, key)
    return key if key in REGISTRY else None


def required_keys(name: str) -> tuple[str, ...]:
    return REQUIRED_KEYS.get(name, ())


def provider_class(name: str) -> type[AuthProvider]:
    module_name, _, class_name = REGISTRY[name].partition(":")
    module = importlib.import_module(module_name, __name__)
    return getattr(module, class_name)


def create_provider(config: LineageConfig) -> AuthProvider:
    """Instantiate the configured provider; its heavy library is imported by the provider on first token."""
    return provider_class(config.auth_provider_type)(config)
