"""The parity DAG (tests/airflow3/dags/om_parity.py): what one run of it must leave in the OpenMetadata
emulator, and one recorded run. Shared by the listener parity tests (tests/airflow3) and the MWAA Airflow-line
tests (tests/mwaa), which run the same DAG on other installs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .airflow_runner import DagRunResult, run_dag
from .lineage_settings import LOGICAL_DATE, SERVICE
from .openmetadata import OpenMetadataEmulator
from .paths import REPO

DAGS = REPO / "tests" / "airflow3" / "dags"
PARITY_DAG = "om_parity"
# The tables of tests/dags/om_forms.py; om_parity declares the same, plus one only a failing task writes.
FORMS_TABLES = (
    "mysql.shop.public.orders",
    "mysql.shop.public.customers",
    "mysql.shop.staging.orders_raw",
    "mysql.shop.analytics.orders_daily",
    'mysql.shop.analytics."orders.v2"',
    "snowflake.dw.public.orders_fact",
)
PARITY_TABLES = (*FORMS_TABLES, "mysql.shop.analytics.never_written")
PIPELINE = f"{SERVICE}.{PARITY_DAG}"
RAN = ("extract", "transform", "load", "notify", "boom")  # `after` never runs: boom fails
EXPECTED_EDGES = {
    ("mysql.shop.public.orders", "mysql.shop.staging.orders_raw", PIPELINE),
    ("mysql.shop.public.customers", "mysql.shop.staging.orders_raw", PIPELINE),
    ("mysql.shop.staging.orders_raw", "mysql.shop.analytics.orders_daily", PIPELINE),
    ("mysql.shop.staging.orders_raw", 'mysql.shop.analytics."orders.v2"', PIPELINE),
    ("mysql.shop.analytics.orders_daily", "snowflake.dw.public.orders_fact", PIPELINE),
}
# Differ between two runs by nature (ids, clocks) or by Airflow major on purpose (UI URLs, hence the hash).
VOLATILE = {
    *("id", "href", "updatedAt", "createdAt", "startTime", "endTime", "sourceUrl", "logLink", "sourceHash"),
    "executionId",  # the Airflow run id: `dags test` makes a new one per run
}


@dataclass
class Recorded:
    """What one Airflow run left behind: the run itself, the emulator's state and its request log."""

    run: DagRunResult
    state: dict[str, Any]
    requests: list[dict[str, Any]]


def record_run(om: OpenMetadataEmulator, venv: str, env: dict[str, str], *, reserialize: bool) -> Recorded:
    """The emulator reset and seeded with PARITY_TABLES, om_parity run once in `venv` (`reserialize`: Assets
    need a serialized DAG on 3.x)."""
    om.reset()
    om.seed_tables(*PARITY_TABLES)
    run = run_dag(
        PARITY_DAG,
        [DAGS / f"{PARITY_DAG}.py"],
        venv=venv,
        env=env,
        logical_date=LOGICAL_DATE,
        reserialize=reserialize,
    )
    return Recorded(run, om.state(), om.requests())


def normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in sorted(value.items()) if k not in VOLATILE}
    if isinstance(value, list):
        items = [normalise(v) for v in value]
        return sorted(items, key=repr)
    return value


def edges(rec: Recorded) -> set[tuple[str, str, str]]:
    return {(e["from"], e["to"], e["pipeline"]) for e in rec.state["edges"]}
