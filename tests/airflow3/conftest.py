"""Fixtures for the listener tests (issue 6): one run of tests/airflow3/dags/om_parity.py per Airflow major.

Both runs happen once per module (an Airflow 3 `dags test` costs about a minute here); each test then checks
one property of the recorded outcome. The emulator is reset and re-seeded before each run, so table and entity
ids differ between the runs: tests compare by FQN. The DAG's expectations live in omlineage_devkit.parity.
"""

from __future__ import annotations

import pytest

from omlineage_devkit.lineage_settings import lineage_env
from omlineage_devkit.openmetadata import OpenMetadataEmulator
from omlineage_devkit.parity import Recorded, record_run


@pytest.fixture(scope="module")
def parity_runs(om_server: OpenMetadataEmulator) -> dict[str, Recorded]:
    """om_parity on 2.10.5 with backend + listener both active, and on 3.0.6 (listener only: no backend)."""
    bot = om_server.bot_env()  # one token: minting another would revoke it
    env2 = lineage_env(om_server.api_url, **bot)  # sets [lineage] backend: both paths active on 2.x
    env3 = {k: v for k, v in env2.items() if k != "AIRFLOW__LINEAGE__BACKEND"}
    runs = {"airflow2": record_run(om_server, "airflow2", env2, reserialize=False)}
    runs["airflow3"] = record_run(om_server, "airflow3", env3, reserialize=True)
    om_server.reset()
    return runs
