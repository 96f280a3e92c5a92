"""`apache_airflow_provider` entry point: `airflow providers list` shows this package.

The `[lineage]` options (options.OPTIONS) are published here in Airflow's config-option shape (description,
version_added, type, example, default, sensitive), but under "lineage-config", not "config": Airflow lets a
provider add new sections only, and `[lineage]` is a core section (it holds `backend`), so a "config" entry
for it makes `conf.load_providers_configuration()` raise AirflowConfigException and breaks every Airflow
command (checked on 2.10.5 and 3.0.6). Show them with `airflow providers get airflow-openmetadata-lineage
--full`.
"""

from __future__ import annotations

from typing import Any

from . import __version__
from .options import OPTIONS, SECTION, Option

PACKAGE = "airflow-openmetadata-lineage"
_SECRET_NOTE = " Secret: prefer `aws-secretsmanager:<secret-id>[#field]`; never logged."


def airflow_option(option: Option) -> dict[str, Any]:
    """One option in the shape of Airflow's provider_info schema (`definitions.option`)."""
    return {
        "description": option.description + (_SECRET_NOTE if option.secret else ""),
        "version_added": option.version_added,
        "type": option.type,
        "example": option.example,
        "default": option.default,
        "sensitive": option.secret,
    }


LINEAGE_OPTIONS: dict[str, dict[str, Any]] = {name: airflow_option(o) for name, o in OPTIONS.items()}


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
