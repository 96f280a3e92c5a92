"""Airflow plugin (entry point `airflow.plugins`): registers the listener of listener.py.

Loaded in every Airflow process, so the import stays cheap (no requests) and never raises.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("airflow_openmetadata_lineage")

try:
    from airflow.plugins_manager import AirflowPlugin
except Exception:  # never break an Airflow process because of us
    AirflowPlugin = object  # type: ignore[assignment,misc]


def _listeners() -> list[Any]:
    try:
        from .listener import get_listener

        found = get_listener()
        return [found] if found is not None else []
    except Exception as exc:  # lineage off, Airflow unharmed
        log.warning("OpenMetadata lineage: listener not registered (%s)", type(exc).__name__)
        return []


class OpenMetadataLineagePlugin(AirflowPlugin):
    name = "openmetadata_lineage"
    listeners = _listeners()
