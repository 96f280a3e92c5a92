"""Airflow plugin entry point (filled in by the listener work, issue 6)."""

from __future__ import annotations

try:
    from airflow.plugins_manager import AirflowPlugin
except Exception:  # never break an Airflow process because of us
    AirflowPlugin = object  # type: ignore[assignment,misc]


class OpenMetadataLineagePlugin(AirflowPlugin):  # type: ignore[misc,valid-type]
    name = "openmetadata_lineage"
