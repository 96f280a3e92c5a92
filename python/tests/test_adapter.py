"""adapter.py: real Airflow 2 DAG objects -> plain data (no DB needed to build DAGs)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from airflow import DAG
from airflow.datasets import Dataset
from airflow.decorators import task
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator

from airflow_openmetadata_lineage.adapter import dag_info, logical_date_ms, task_report

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def build_dag(schedule: object = "@daily") -> DAG:
    with DAG(
        "adapter_dag", start_date=START, schedule=schedule, description="short", doc_md="# Long doc"
    ) as dag:
        first = BashOperator(task_id="first", bash_command="true", doc_md="First step")
        second = EmptyOperator(task_id="second", task_display_name="Second step")

        @task
        def mapped(x: int) -> int:
            return x

        first >> second >> mapped.expand(x=[1, 2])
    return dag


def test_dag_info_from_a_real_dag() -> None:
    info = dag_info(build_dag())
    assert info.dag_id == "adapter_dag"
    assert info.description == "# Long doc"  # doc_md preferred over the one-line description
    assert info.schedule == "0 0 * * *"
    tasks = {t.task_id: t for t in info.tasks}
    assert list(tasks) == ["first", "mapped", "second"]
    assert (tasks["first"].operator, tasks["first"].downstream, tasks["first"].doc) == (
        "BashOperator",
        ("second",),
        "First step",
    )
    assert tasks["second"].display_name == "Second step"
    assert tasks["first"].display_name is None
    assert tasks["mapped"].operator == "_PythonDecoratedOperator"


@pytest.mark.parametrize(
    "schedule, expected",
    [(None, None), ("@once", "@once"), (timedelta(hours=2), "2:00:00"), ([Dataset("s3://b/k")], None)],
)
def test_schedule_only_for_time_schedules(schedule: object, expected: object) -> None:
    assert dag_info(build_dag(schedule)).schedule == expected


def test_task_report_from_task_instances() -> None:
    dag = build_dag()
    started = START + timedelta(minutes=1)
    ti = SimpleNamespace(
        task_id="second", state="running", start_date=started, end_date=None, map_index=-1, try_number=2
    )
    first = SimpleNamespace(
        task_id="first", state="success", start_date=START, end_date=started, map_index=-1, try_number=1
    )
    dag_run = SimpleNamespace(dag_id="adapter_dag", run_id="r1", logical_date=START, state="running")
    report = task_report(
        dag.get_task("second"),
        dag,
        dag_run,
        ti,
        [{"tables": ["s.d.x.a"]}],
        [Dataset("openmetadata://s/d/x/b")],
        state="success",
        siblings=[first, ti],
        end_ms=1234,
    )
    assert (report.task_id, report.try_number, report.inlets, report.outlets) == (
        "second",
        2,
        ("s.d.x.a",),
        ("s.d.x.b",),
    )
    runs = {tr.task_id: tr for tr in report.run.task_runs}
    assert runs["second"].state == "success" and runs["second"].end_ms == 1234  # this task: finished now
    assert runs["first"].state == "success"
    assert runs["first"].start_ms == int(START.timestamp() * 1000)
    assert report.run.complete and report.run.logical_date_ms == int(START.timestamp() * 1000)
    partial = task_report(dag.get_task("second"), dag, dag_run, ti, None, None, state="failed", siblings=None)
    assert not partial.run.complete and [tr.task_id for tr in partial.run.task_runs] == ["second"]


def test_logical_date_fallbacks() -> None:
    assert logical_date_ms(SimpleNamespace(logical_date=None, run_after=START)) == int(
        START.timestamp() * 1000
    )
    assert logical_date_ms(SimpleNamespace()) > 0


def test_run_task_states_reads_a_runs_task_instances_by_their_columns() -> None:
    """The backend's sibling read: one query of the status columns on Airflow's own task_instance table, no
    TaskInstance objects (DagRun.get_task_instances() would load every column of every one)."""
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import create_engine, insert
    from sqlalchemy.orm import Session

    from airflow_openmetadata_lineage.adapter import run_task_states, task_run_info

    engine = create_engine("sqlite://")
    TaskInstance.__table__.create(engine)
    ended = START + timedelta(minutes=2)
    rows = [
        ("first", "r1", -1, "success", START, ended, 1),
        ("second", "r1", -1, "running", ended, None, 2),
        ("mapped", "r1", 0, "success", START, ended, 1),
        ("first", "r2", -1, "failed", START, ended, 3),  # another run of the DAG
    ]
    with Session(engine) as session:
        for task_id, run_id, map_index, state, start, end, tries in rows:
            session.execute(
                insert(TaskInstance.__table__).values(
                    dag_id="adapter_dag",
                    task_id=task_id,
                    run_id=run_id,
                    map_index=map_index,
                    state=state,
                    start_date=start,
                    end_date=end,
                    try_number=tries,
                    pool="default_pool",
                    pool_slots=1,
                )
            )
        ti = TaskInstance.__new__(TaskInstance)  # only its class is read: which table holds task instances
        dag_run = SimpleNamespace(dag_id="adapter_dag", run_id="r1")
        found = [task_run_info(row) for row in run_task_states(ti, dag_run, session)]
        # the statement is built once per process: the next run's read binds its own run
        other = SimpleNamespace(dag_id="adapter_dag", run_id="r2")
        assert [(r.task_id, r.state) for r in run_task_states(ti, other, session)] == [("first", "failed")]
    states = sorted(found, key=lambda s: s.task_id)
    assert [(s.task_id, s.map_index, s.state, s.try_number) for s in states] == [
        ("first", -1, "success", 1),
        ("mapped", 0, "success", 1),
        ("second", -1, "running", 2),
    ]
    first = states[0]
    assert (first.start_ms, first.end_ms) == (int(START.timestamp() * 1000), int(ended.timestamp() * 1000))


@pytest.mark.parametrize(("version", "expected"), [((2, 9, 2), 1), ((2, 10, 5), 2)])
def test_a_final_record_carries_the_try_number_the_tasks_own_records_carry(
    monkeypatch: pytest.MonkeyPatch, version: tuple[int, int, int], expected: int
) -> None:
    """Before 2.10 a finished first try shows `try_number` 2 (the property adds one once it left RUNNING);
    the task's own records carry the stored 1, and the run's final record must match them to carry their
    state (model.supersedes)."""
    from airflow_openmetadata_lineage import adapter

    monkeypatch.setattr(adapter, "airflow_version", lambda: version)
    ti = SimpleNamespace(
        task_id="a",
        state="success",
        start_date=START,
        end_date=START,
        map_index=-1,
        try_number=2,
        _try_number=1,
    )
    run = SimpleNamespace(dag_id="d", run_id="r", state="success", logical_date=START)
    [info] = adapter.final_run_info(run, [ti]).task_runs
    assert info.try_number == expected
