"""Fixtures for the listener tests (issue 6): one run of tests/airflow3/dags/om_parity.py per Airflow major.

Both runs happen once per module (an Airflow 3 `dags test` costs about a minute here); each test then checks
one property of the recorded outcome. The emulator is reset and re-seeded before each run, so table and entity
ids differ between the runs: tests compare by FQN.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.airflow.conftest import LOGICAL_DATE, lineage_env
from tests.helpers.airflow_runner import DagRunResult, run_dag
from tests.helpers.openmetadata import OpenMetadataEmulator

DAGS = Path(__file__).resolve().parent / "dags"
PARITY_DAG = "om_parity"
PARITY_TABLES = (
    "mysql.shop.public.orders",
    "mysql.shop.public.customers",
    "mysql.shop.staging.orders_raw",
    "mysql.shop.analytics.orders_daily",
    'mysql.shop.analytics."orders.v2"',
    "snowflake.dw.public.orders_fact",
    "mysql.shop.analytics.never_written",
)


@dataclass
class Recorded:
    """What one Airflow run left behind: the run itself, the emulator's state and its request log."""

    run: DagRunResult
    state: dict[str, Any]
    requests: list[dict[str, Any]]


def record_run(om: OpenMetadataEmulator, venv: str, env: dict[str, str]) -> Recorded:
    om.reset()
    om.seed_tables(*PARITY_TABLES)
    run = run_dag(
        PARITY_DAG,
        [DAGS / f"{PARITY_DAG}.py"],
        venv=venv,
        env=env,
        logical_date=LOGICAL_DATE,
        reserialize=venv == "airflow3",  # Assets need a serialized DAG on 3.x
    )
    return Recorded(run, om.state(), om.requests())


@pytest.fixture(scope="module")
def parity_runs(om_server: OpenMetadataEmulator) -> dict[str, Recorded]:
    """om_parity on 2.10.5 with backend + listener both active, and on 3.0.6 (listener only: no backend)."""
    bot = om_server.bot_env()  # one token: minting another would revoke it
    env2 = lineage_env(om_server.api_url, **bot)  # sets [lineage] backend: both paths active on 2.x
    env3 = {k: v for k, v in env2.items() if k != "AIRFLOW__LINEAGE__BACKEND"}
    runs = {"airflow2": record_run(om_server, "airflow2", env2)}
    runs["airflow3"] = record_run(om_server, "airflow3", env3)
    om_server.reset()
    return runs
