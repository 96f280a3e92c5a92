"""Building the wheel's config, provider and client from the identity servers' `[lineage]` options (the wheel
is installed editable in .venvs/driver: requirements/driver.txt)."""

from __future__ import annotations

from typing import Any

from omlineage_devkit.emulators.identity import IdentityServers
from omlineage_devkit.openmetadata import OpenMetadataEmulator


def lineage_options(
    idp: IdentityServers, provider: str, om: OpenMetadataEmulator, **extra: str
) -> dict[str, str]:
    """The raw `[lineage]` section as the module writes it (env form: `%%`, base64:) for `provider`."""
    raw = {k[len("AIRFLOW__LINEAGE__") :].lower(): v for k, v in idp.lineage_env(provider).items()}
    raw.update(airflow_service_name="auth_test", openmetadata_api_endpoint=om.api_url, **extra)
    return raw


def make_client(raw: dict[str, str]) -> Any:
    """(config, provider, OpenMetadataClient) from a raw `[lineage]` mapping, through the wheel's loader."""
    from airflow_openmetadata_lineage import auth
    from airflow_openmetadata_lineage.client import OpenMetadataClient
    from airflow_openmetadata_lineage.config import load_config, mapping_getter

    config = load_config(mapping_getter(raw))
    provider = auth.create_provider(config)
    return config, provider, OpenMetadataClient(config, provider)
