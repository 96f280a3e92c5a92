"""Fixtures for the Airflow 2 integration tests: lineage settings pointing at the emulator
(omlineage_devkit.lineage_settings)."""

from __future__ import annotations

import pytest

from omlineage_devkit.lineage_settings import lineage_env
from omlineage_devkit.openmetadata import OpenMetadataEmulator


@pytest.fixture
def om_env(om: OpenMetadataEmulator) -> dict[str, str]:
    """Lineage settings with the emulator's ingestion bot (its current token)."""
    return lineage_env(om.api_url, **om.bot_env())
