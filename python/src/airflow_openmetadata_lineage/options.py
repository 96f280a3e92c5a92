"""The `[lineage]` options: every key the wheel reads, described once.

`OPTIONS` is the table: name, type, default, whether the value is a secret, which auth providers read it, a
description (what `airflow providers get airflow-openmetadata-lineage --full` shows) and a hint (what an error
message tells you to write). config.py reads and validates `[lineage]` from it, provider_info.py publishes it
to Airflow, and the Terraform module's tests check lineage.tf against it.

`AUTH_PROVIDERS` lists the `auth_provider_type` values and the class implementing each; a provider class
declares the keys it cannot work without (`required_keys`) next to its code, read here by `required_keys()`.
Provider modules import their libraries (google-auth, msal, PyJWT, requests) only when they fetch a token, so
reading `required_keys` stays cheap.

This module imports nothing from the rest of the wheel (`required_keys()` loads a provider's module by the
name listed here, on demand), and auth/ reads settings only through the `AuthSettings` protocol below:
config.py and auth/ do not import each other.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple, Optional, Protocol, Union

SECTION = "lineage"

# `auth_provider_type` value -> "module:Class" in the auth package.
AUTH_PROVIDERS: dict[str, str] = {
    "no-auth": "noauth:NoAuthProvider",
    "openmetadata": "openmetadata:OpenMetadataJWTProvider",
    "google": "google:GoogleProvider",
    "auth0": "auth0:Auth0Provider",
    "okta": "okta:OktaProvider",
    "azure": "azure:AzureProvider",
    "custom-oidc": "custom_oidc:CustomOIDCProvider",
}
AUTH_ALIASES: dict[str, str] = {"jwt": "openmetadata", "noauth": "no-auth", "none": "no-auth"}

# custom-oidc: how the client authenticates at the token endpoint (OIDC `token_endpoint_auth_method`).
TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class Option(NamedTuple):  # not a dataclass: creating the class costs a third as much at import
    """One `[lineage]` key. `default` is the text Airflow shows (None: computed, see the description);
    `providers` are the auth providers that read the key (empty for a key every configuration reads)."""

    name: str
    description: str
    type: str = "string"  # Airflow's option types: string, float, integer
    default: Optional[str] = None
    example: Optional[str] = None
    secret: bool = False
    providers: tuple[str, ...] = ()
    hint: str = "its value"
    version_added: str = "0.1.0"
    # provider -> hint, where a key means something else for one provider
    provider_hints: Mapping[str, str] = MappingProxyType({})

    def hint_for(self, provider: str) -> str:
        return self.provider_hints.get(provider, self.hint)


_SSO = ("auth0", "okta", "azure", "custom-oidc")

OPTIONS: dict[str, Option] = {
    o.name: o
    for o in (
        Option(
            "backend",
            "Airflow 2.x only: the lineage backend class. Airflow 3 ignores it; the listener plugin of this "
            "package reports on every version (on 2.x both may be active: one report per task try).",
            example="airflow_openmetadata_lineage.backend.OpenMetadataLineageBackend",
        ),
        Option(
            "airflow_service_name",
            "Pipeline service name in OpenMetadata (required).",
            example="MWAA",
        ),
        Option(
            "openmetadata_api_endpoint",
            "OpenMetadata server URL; the trailing /api may be omitted (required).",
            example="https://openmetadata.example.com/api",
        ),
        Option(
            "auth_provider_type",
            "no-auth, openmetadata (alias jwt), google, auth0, okta, azure or custom-oidc.",
            example="openmetadata",
            default="no-auth",
        ),
        Option(
            "jwt_token",
            "openmetadata: the ingestion bot's JWT.",
            secret=True,
            providers=("openmetadata",),
            hint="the ingestion bot's JWT (Settings > Bots in OpenMetadata), or aws-secretsmanager:<id>",
        ),
        Option(
            "secret_key",
            "google: the service-account JSON (or a path to it); auth0 / custom-oidc: the client secret.",
            secret=True,
            providers=("google", "auth0", "custom-oidc"),
            hint="the client secret, or aws-secretsmanager:<id>[#field]",
            provider_hints={
                "google": "the service-account JSON (one line, or base64:<...>) or a path to the JSON file"
            },
        ),
        Option(
            "client_id",
            "auth0, okta, azure, custom-oidc: the client id.",
            providers=_SSO,
            hint="the OAuth client (application) id registered for Airflow",
        ),
        Option(
            "client_secret",
            "azure: the client secret.",
            secret=True,
            providers=("azure",),
            hint="the application's client secret, or aws-secretsmanager:<id>[#field]",
        ),
        Option(
            "domain",
            "auth0: the tenant domain.",
            example="example.eu.auth0.com",
            providers=("auth0",),
            hint="the Auth0 tenant domain, e.g. my-tenant.eu.auth0.com",
        ),
        Option(
            "org_url",
            "okta: the org or authorization-server URL.",
            example="https://example.okta.com",
            providers=("okta",),
            hint="the Okta org or authorization-server URL, e.g. https://my-org.okta.com/oauth2/default",
        ),
        Option(
            "private_key",
            "okta: the private key (PEM; one line as base64:<...> or with literal \\n).",
            secret=True,
            providers=("okta",),
            hint="the PEM private key (base64:<...> or with \\n for newlines), or aws-secretsmanager:<id>",
        ),
        Option(
            "email",
            "okta: the service account's email.",
            providers=("okta",),
            hint="the service account's email",
        ),
        Option(
            "scopes",
            "okta, azure: scopes as [a, b], a JSON list or a,b.",
            example="[scope1, scope2]",
            providers=_SSO,
            hint="a list such as [api://<app-id>/.default]",
        ),
        Option(
            "authority",
            "azure: the authority URL.",
            example="https://login.microsoftonline.com/<tenant>",
            providers=("azure",),
            hint="the Azure authority URL, e.g. https://login.microsoftonline.com/<tenant-id>",
        ),
        Option(
            "token_endpoint",
            "custom-oidc: the token endpoint URL.",
            providers=("custom-oidc",),
            hint="the identity provider's token URL, e.g. https://idp.example.com/oauth2/token",
        ),
        Option(
            "token_endpoint_auth_method",
            "custom-oidc: client_secret_basic or client_secret_post. Unset: basic, and on invalid_client one "
            "retry with post (remembered per process).",
            example="client_secret_post",
            providers=("custom-oidc",),
        ),
        Option(
            "audience",
            "google / auth0 / custom-oidc: the token audience, when it differs.",
            providers=("google", "auth0", "custom-oidc"),
        ),
        Option("timeout", "Seconds per HTTP request.", type="float", default="5", example="5"),
        Option(
            "time_budget",
            "Total seconds one report may add to a task.",
            type="float",
            default="5",
            example="5",
        ),
        Option("verify_ssl", "true, false, or a path to a CA bundle.", default="true", example="true"),
        Option("ca_bundle", "A path to a CA bundle (same as verify_ssl=<path>)."),
        Option(
            "airflow_base_url",
            "Base of the Airflow URLs written into pipelines "
            "(default: [webserver] base_url / [api] base_url).",
            example="https://airflow.example.com",
        ),
        Option(
            "spool_dir",
            "Where undelivered reports and the worker-wide cache live "
            "(default: <tempdir>/airflow-openmetadata-lineage/<hash of endpoint and service>).",
        ),
        # ~10 MiB holds thousands of reports; a day covers an outage someone notices, while older run
        # statuses would mostly be noise.
        Option(
            "spool_max_bytes",
            "Cap on the bytes of undelivered reports kept in spool_dir; the oldest go first.",
            type="integer",
            default="10485760",
            example="10485760",
        ),
        Option(
            "spool_max_age",
            "Seconds an undelivered report is kept for a later delivery.",
            type="float",
            default="86400",
            example="86400",
        ),
        Option(
            "service_map",
            "Tasks without inlets/outlets: where the tables their SQL or OpenLineage facets name live in "
            "OpenMetadata. One JSON object on one line: Airflow connection id or OpenLineage namespace "
            "(longest prefix wins) -> service[.database[.schema]] "
            "(defaults that complete partial table names).",
            example='{"warehouse_pg": "pg_prod", "local_sqlite": "lake.main.main"}',
        ),
    )
}

# Keys the wheel itself never reads: Airflow does (`backend` names the class Airflow 2 loads).
AIRFLOW_KEYS = frozenset({"backend"})
# Keys whose values must never appear in a message or log line.
SECRET_KEYS = frozenset(o.name for o in OPTIONS.values() if o.secret)
# Keys only auth providers read: every one that is set reaches the provider (`AuthSettings.options`).
PROVIDER_KEYS = tuple(o.name for o in OPTIONS.values() if o.providers)
# Keys read by every configuration.
GENERAL_KEYS = tuple(o.name for o in OPTIONS.values() if not o.providers and o.name not in AIRFLOW_KEYS)


def default(key: str) -> float:
    """The default of a numeric option, as a number."""
    text = OPTIONS[key].default
    if text is None:
        raise KeyError(f"{key} has no default")
    return float(text)


def provider_names() -> list[str]:
    """The valid `auth_provider_type` values, aliases included, for error messages."""
    return [*AUTH_PROVIDERS, "jwt"]


def canonical_provider(name: str) -> Optional[str]:
    """The provider for a configured value (case-insensitive, aliases resolved), or None if unknown."""
    key = name.strip().lower().replace("_", "-")
    key = AUTH_ALIASES.get(key, key)
    return key if key in AUTH_PROVIDERS else None


def provider_class_path(name: str) -> tuple[str, str]:
    """(module, class) implementing provider `name`; the module's dotted name is absolute."""
    module, _, cls = AUTH_PROVIDERS[name].partition(":")
    return f"{__package__}.auth.{module}", cls


def required_keys(name: str) -> tuple[str, ...]:
    """The keys provider `name` cannot work without, as its class declares them. Imports the provider's
    module, which imports no third-party library."""
    module, cls = provider_class_path(name)
    keys: tuple[str, ...] = getattr(importlib.import_module(module), cls).required_keys
    return keys


def parse_scopes(value: str) -> list[str]:
    """`scopes` as a list: `[a, b]`, a JSON list, or `a,b` / `a b` -> ["a", "b"]."""
    text = value.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return [str(s).strip() for s in parsed if str(s).strip()]
        except ValueError:
            pass
        text = text.strip("[]")
    parts = text.replace(",", " ").split()
    return [p.strip().strip("'\"") for p in parts if p.strip().strip("'\"")]


class AuthSettings(Protocol):
    """What an auth provider reads from the configuration (config.LineageConfig is one)."""

    @property
    def auth_provider_type(self) -> str: ...  # a key of AUTH_PROVIDERS

    @property
    def endpoint(self) -> str: ...  # the OpenMetadata API URL (google's default audience)

    @property
    def options(self) -> Mapping[str, str]: ...  # the PROVIDER_KEYS that are set, decoded

    @property
    def verify(self) -> Union[bool, str]: ...  # requests' `verify`

    @property
    def timeout(self) -> float: ...  # seconds per request
