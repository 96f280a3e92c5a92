"""adapter.task_report: automatic lineage fills a task's report only when it declares no inlets/outlets and
succeeded; real Airflow DAG objects and the real common-sql operator (connection from an env var)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

from airflow_openmetadata_lineage import runtime
from airflow_openmetadata_lineage.adapter import task_report
from airflow_openmetadata_lineage.fqn_map import parse_service_map

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
SQL = (
    "INSERT INTO mart.totals (customer_id, total) SELECT customer_id, SUM(amount) FROM raw.orders GROUP BY 1"
)


@pytest.fixture
def service_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_PG", "postgres://u:p@db.internal:5432/analytics")
    config = SimpleNamespace(service_map=parse_service_map('{"warehouse_pg": "pg_prod"}'))
    monkeypatch.setattr(runtime, "get_config", lambda: config)


def report_for(task: Any, state: str = "success") -> Any:
    ti = SimpleNamespace(
        task_id=task.task_id, state=state, start_date=START, end_date=START, map_index=-1, try_number=1
    )
    run = SimpleNamespace(dag_id=task.dag.dag_id, run_id="r1", logical_date=START, state="running")
    return task_report(task, task.dag, run, ti, task.inlets, task.outlets, state=state, siblings=None)


def build() -> DAG:
    with DAG("auto_dag", start_date=START, schedule=None) as dag:
        SQLExecuteQueryOperator(task_id="sql_auto", conn_id="warehouse_pg", sql=SQL)
        SQLExecuteQueryOperator(
            task_id="sql_declared",
            conn_id="warehouse_pg",
            sql=SQL,
            inlets=[{"tables": ["hand.db.s.a"]}],
            outlets=[{"tables": ["hand.db.s.b"]}],
        )
        BashOperator(task_id="bash", bash_command="true")
    return dag


@pytest.mark.usefixtures("service_map")
def test_sql_task_without_xlets_gets_table_and_column_lineage() -> None:
    report = report_for(build().get_task("sql_auto"))
    assert report.inlets == ("pg_prod.analytics.raw.orders",)
    assert report.outlets == ("pg_prod.analytics.mart.totals",)
    assert [(c.to_column, c.from_columns, c.function) for c in report.column_lineage] == [
        ("customer_id", ("customer_id",), None),
        ("total", ("amount",), "SUM(amount)"),
    ]
    assert report.extra["lineage_source"] == "sql"


@pytest.mark.usefixtures("service_map")
def test_declared_xlets_always_win() -> None:
    report = report_for(build().get_task("sql_declared"))
    assert (report.inlets, report.outlets, report.column_lineage) == (("hand.db.s.a",), ("hand.db.s.b",), ())
    assert "lineage_source" not in report.extra


@pytest.mark.usefixtures("service_map")
def test_failed_try_and_non_sql_tasks_get_nothing() -> None:
    dag = build()
    failed = report_for(dag.get_task("sql_auto"), state="failed")
    assert (failed.inlets, failed.outlets, failed.column_lineage) == ((), (), ())
    bash = report_for(dag.get_task("bash"))
    assert (bash.inlets, bash.outlets, bash.extra) == ((), (), {})


def test_unmapped_tables_logged_once_per_task_with_the_key(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_PG", "postgres://u:p@db.internal:5432/analytics")
    monkeypatch.setattr(runtime, "get_config", lambda: None)
    with caplog.at_level(logging.WARNING, logger="airflow_openmetadata_lineage"):
        report = report_for(build().get_task("sql_auto"))
    assert (report.inlets, report.outlets) == ((), ())
    lines = [r.getMessage() for r in caplog.records if "not mapped" in r.getMessage()]
    assert len(lines) == 1 and 'add "warehouse_pg"' in lines[0] and "raw.orders" in lines[0]
