"""`apache_airflow_provider` entry point: `airflow providers list` shows this package.

The `[lineage]` options are documented here in Airflow's config-option shape (description, version_added,
type, example, default, sensitive), but under "lineage-config", not "config": Airflow lets a provider add new
sections only, and `[lineage]` is a core section (it holds `backend`), so a "config" entry for it makes
`conf.load_providers_configuration()` raise AirflowConfigException and breaks every Airflow command (checked
on 2.10.5 and 3.0.6). Show them with `airflow providers get airflow-openmetadata-lineage --full`.
docs/architecture.md §1 is the contract; python/tests/test_listener_provider.py keeps the two in step.
"""

from __future__ import annotations

from typing import Any, Optional

from . import __version__

PACKAGE = "airflow-openmetadata-lineage"
SECTION = "lineage"
_SECRET_NOTE = " Secret: prefer `aws-secretsmanager:<secret-id>[#field]`; never logged."


def _option(
    description: str,
    example: Optional[str] = None,
    default: Optional[str] = None,
    type_: str = "string",
    sensitive: bool = False,
) -> dict[str, Any]:
    return {
        "description": description + (_SECRET_NOTE if sensitive else ""),
        "version_added": "0.1.0",
        "type": type_,
        "example": example,
        "default": default,
        "sensitive": sensitive,
    }


LINEAGE_OPTIONS: dict[str, dict[str, Any]] = {
    "backend": _option(
        "Airflow 2.x only: the lineage backend class. Airflow 3 ignores it; the listener plugin of this "
        "package reports on every version (on 2.x both may be active: one report per task try).",
        example="airflow_openmetadata_lineage.backend.OpenMetadataLineageBackend",
    ),
    "airflow_service_name": _option("Pipeline service name in OpenMetadata (required).", example="MWAA"),
    "openmetadata_api_endpoint": _option(
        "OpenMetadata server URL; the trailing /api may be omitted (required).",
        example="https://openmetadata.example.com/api",
    ),
    "auth_provider_type": _option(
        "no-auth, openmetadata (alias jwt), google, auth0, okta, azure or custom-oidc.",
        example="openmetadata",
        default="no-auth",
    ),
    "jwt_token": _option("openmetadata: the ingestion bot's JWT.", sensitive=True),
    "secret_key": _option(
        "google: the service-account JSON (or a path to it); auth0 / custom-oidc: the client secret.",
        sensitive=True,
    ),
    "client_id": _option("auth0, okta, azure, custom-oidc: the client id."),
    "client_secret": _option("azure: the client secret.", sensitive=True),
    "domain": _option("auth0: the tenant domain.", example="example.eu.auth0.com"),
    "org_url": _option("okta: the org or authorization-server URL.", example="https://example.okta.com"),
    "private_key": _option(
        "okta: the private key (PEM; one line as base64:<...> or with literal \\n).", sensitive=True
    ),
    "email": _option("okta: the service account's email."),
    "scopes": _option("okta, azure: scopes as [a, b], a JSON list or a,b.", example="[scope1, scope2]"),
    "authority": _option("azure: the authority URL.", example="https://login.microsoftonline.com/<tenant>"),
    "token_endpoint": _option("custom-oidc: the token endpoint URL."),
    "token_endpoint_auth_method": _option(
        "custom-oidc: client_secret_basic or client_secret_post. Unset: basic, and on invalid_client one "
        "retry with post (remembered per process).",
        example="client_secret_post",
    ),
    "audience": _option("google / auth0 / custom-oidc: the token audience, when it differs."),
    "timeout": _option("Seconds per HTTP request.", example="5", default="5", type_="float"),
    "time_budget": _option(
        "Total seconds one report may add to a task.", example="5", default="5", type_="float"
    ),
    "verify_ssl": _option("true, false, or a path to a CA bundle.", example="true", default="true"),
    "ca_bundle": _option("A path to a CA bundle (same as verify_ssl=<path>)."),
    "airflow_base_url": _option(
        "Base of the Airflow URLs written into pipelines (default: [webserver] base_url / [api] base_url).",
        example="https://airflow.example.com",
    ),
    "spool_dir": _option(
        "Where undelivered reports and the worker-wide cache live "
        "(default: <tempdir>/airflow-openmetadata-lineage/<hash of endpoint and service>)."
    ),
    "spool_max_bytes": _option(
        "Cap on the bytes of undelivered reports kept in spool_dir; the oldest go first.",
        example="10485760",
        default="10485760",
        type_="integer",
    ),
    "spool_max_age": _option(
        "Seconds an undelivered report is kept for a later delivery.",
        example="86400",
        default="86400",
        type_="float",
    ),
    "service_map": _option(
        "Tasks without inlets/outlets: where the tables their SQL or OpenLineage facets name live in "
        "OpenMetadata. One JSON object on one line: Airflow connection id or OpenLineage namespace (longest "
        "prefix wins) -> service[.database[.schema]] (defaults that complete partial table names).",
        example='{"warehouse_pg": "pg_prod", "local_sqlite": "lake.main.main"}',
    ),
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": PACKAGE,
        "name": "OpenMetadata lineage",
        "description": "Reports DAGs, task runs and table lineage to OpenMetadata (Airflow 2 lineage "
        "backend and an Airflow 2/3 listener plugin), configured by the lineage.* options.",
        "versions": [__version__],
        "lineage-config": {
            SECTION: {
                "description": "OpenMetadata lineage reporting (airflow-openmetadata-lineage).",
                "options": LINEAGE_OPTIONS,
            }
        },
    }
