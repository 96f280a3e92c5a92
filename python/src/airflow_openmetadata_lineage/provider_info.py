"""`apache_airflow_provider` entry point (completed by issue 6)."""

from __future__ import annotations

from typing import Any

from . import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-openmetadata-lineage",
        "name": "OpenMetadata lineage",
        "description": "Reports DAGs, task runs and table lineage to OpenMetadata.",
        "versions": [__version__],
    }
