"""Auth providers: `auth_provider_type` -> a provider that turns the settings into a bearer token.

The provider names and the class implementing each are listed in options.AUTH_PROVIDERS; a provider's
module is imported only when that provider is used, and its library (google-auth, msal, PyJWT) only when it
fetches a token.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ..options import provider_class_path

if TYPE_CHECKING:
    from ..options import AuthSettings
    from .base import AuthProvider


def provider_class(name: str) -> type[AuthProvider]:
    module_name, class_name = provider_class_path(name)
    cls: type[AuthProvider] = getattr(importlib.import_module(module_name), class_name)
    return cls


def create_provider(settings: AuthSettings) -> AuthProvider:
    """Instantiate the configured provider; its heavy library is imported by the provider on first token."""
    return provider_class(settings.auth_provider_type)(settings)
