"""`[lineage]` settings of the integration tests' Airflow runs: the wheel's backend pointed at an emulator."""

from __future__ import annotations

from typing import Any

BACKEND = "airflow_openmetadata_lineage.backend.OpenMetadataLineageBackend"
SERVICE = "airflow_it"
BASE_URL = "http://airflow.example:8080"
LOGICAL_DATE = "2024-01-02T00:00:00"
LOGICAL_TS = 1704153600000  # LOGICAL_DATE in epoch ms (UTC): the PipelineStatus timestamp
TIMEOUT = 2.0
TIME_BUDGET = 3.0


def lineage_env(endpoint: str, **options: Any) -> dict[str, str]:
    """AIRFLOW__LINEAGE__* for the wheel's backend; `options` are extra/overriding [lineage] keys."""
    values: dict[str, Any] = {
        "backend": BACKEND,
        "airflow_service_name": SERVICE,
        "openmetadata_api_endpoint": endpoint,
        "auth_provider_type": "no-auth",
        "airflow_base_url": BASE_URL,
        "timeout": TIMEOUT,
        "time_budget": TIME_BUDGET,
        **options,
    }
    return {f"AIRFLOW__LINEAGE__{k.upper()}": str(v) for k, v in values.items()}
