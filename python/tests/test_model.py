"""model.py: request bodies, structure hash, status merging; bodies checked by the official models."""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import asdict, replace
from typing import Any

import pytest

from airflow_openmetadata_lineage.model import (
    ColumnLineage,
    DagInfo,
    RunInfo,
    TaskInfo,
    TaskReport,
    TaskRunInfo,
    execution_status,
    lineage_body,
    log_url,
    merge_task_statuses,
    pipeline_body,
    pipeline_fqn,
    service_body,
    status_body,
    supersedes,
)
from conftest import VENVS, need

BASE = "https://abc.c1.eu-west-1.airflow.amazonaws.com"
DAG = DagInfo(
    dag_id="sales.daily",
    tasks=(
        TaskInfo("extract", "PythonOperator", ("load",), doc="Pulls **orders**"),
        TaskInfo("load", "SQLExecuteQueryOperator", (), display_name="Load to DWH"),
    ),
    description="Daily sales",
    schedule="0 3 * * *",
)
T0 = 1_700_000_000_000
RUN = RunInfo(
    dag_id="sales.daily",
    run_id="scheduled__2023-11-14T22:13:20+00:00",
    logical_date_ms=T0,
    state="running",
    task_runs=(TaskRunInfo("extract", "success", T0 + 10, T0 + 20), TaskRunInfo("load", "running", T0 + 30)),
)


def test_service_body() -> None:
    assert service_body("MWAA", BASE) == {
        "name": "MWAA",
        "serviceType": "Airflow",
        "connection": {"config": {"type": "Airflow", "hostPort": BASE, "connection": {"type": "Backend"}}},
    }


def test_pipeline_body() -> None:
    body = pipeline_body(DAG, "MWAA", BASE)
    assert body["name"] == "sales.daily" and body["service"] == "MWAA"
    assert body["description"] == "Daily sales"
    assert body["sourceUrl"] == f"{BASE}/dags/sales.daily/grid"
    assert body["tasks"] == [
        {
            "name": "extract",
            "displayName": "extract",
            "taskType": "PythonOperator",
            "downstreamTasks": ["load"],
            "sourceUrl": f"{BASE}/dags/sales.daily/grid?task_id=extract",
            "description": "Pulls **orders**",
        },
        {
            "name": "load",
            "displayName": "Load to DWH",
            "taskType": "SQLExecuteQueryOperator",
            "downstreamTasks": [],
            "sourceUrl": f"{BASE}/dags/sales.daily/grid?task_id=load",
        },
    ]
    assert body["scheduleInterval"] == "0 3 * * *"
    assert len(body["sourceHash"]) == 32
    assert "owners" not in body and "tags" not in body
    assert pipeline_body(DAG, "MWAA", BASE, airflow_major=3)["sourceUrl"] == f"{BASE}/dags/sales.daily"


def test_source_hash_tracks_structure_only() -> None:
    h = pipeline_body(DAG, "MWAA", BASE)["sourceHash"]
    reordered = replace(DAG, tasks=tuple(reversed(DAG.tasks)))
    assert pipeline_body(reordered, "MWAA", BASE)["sourceHash"] == h
    changes = [
        replace(DAG, tasks=(*DAG.tasks, TaskInfo("audit", "EmptyOperator"))),
        replace(DAG, tasks=(DAG.tasks[0], TaskInfo("load", "BashOperator"))),
        replace(DAG, tasks=(TaskInfo("extract", "PythonOperator"), DAG.tasks[1])),
        replace(DAG, description="Changed description"),
        replace(DAG, schedule="@once"),
        replace(DAG, display_name="Sales"),
    ]
    hashes = {pipeline_body(d, "MWAA", BASE)["sourceHash"] for d in changes}
    assert h not in hashes and len(hashes) == len(changes)
    assert pipeline_body(DAG, "Other", BASE)["sourceHash"] != h
    assert pipeline_body(DAG, "MWAA", "http://other:8080")["sourceHash"] != h


def test_service_with_dots_is_referenced_by_its_fqn() -> None:
    assert pipeline_body(DAG, "mwaa.prod", BASE)["service"] == '"mwaa.prod"'
    assert pipeline_body(DAG, "MWAA", BASE)["service"] == "MWAA"


def test_pipeline_fqn_quotes_dots() -> None:
    assert pipeline_fqn("MWAA", "sales.daily") == 'MWAA."sales.daily"'
    assert pipeline_fqn("MWAA", "plain") == "MWAA.plain"


@pytest.mark.parametrize(
    "state, status",
    [
        ("success", "Successful"),
        ("failed", "Failed"),
        ("upstream_failed", "Failed"),
        ("skipped", "Skipped"),
        ("running", "Pending"),
        ("queued", "Pending"),
        ("up_for_retry", "Pending"),
        (None, "Pending"),
    ],
)
def test_execution_status(state: str, status: str) -> None:
    assert execution_status(state) == status


def test_status_body_carries_every_known_task() -> None:
    body = status_body(RUN, {"extract", "load"}, BASE)
    assert body["timestamp"] == T0
    assert body["executionStatus"] == "Pending"
    assert [s["name"] for s in body["taskStatus"]] == ["extract", "load"]
    extract = body["taskStatus"][0]
    assert extract == {
        "name": "extract",
        "executionStatus": "Successful",
        "startTime": T0 + 10,
        "endTime": T0 + 20,
        "logLink": log_url(BASE, RUN.dag_id, RUN.run_id, "extract"),
    }
    assert "dag_run_id=scheduled__2023-11-14T22%3A13%3A20%2B00%3A00" in extract["logLink"]
    assert "endTime" not in body["taskStatus"][1]


def test_run_status_derived_from_tasks() -> None:
    done = RunInfo(
        RUN.dag_id,
        RUN.run_id,
        T0,
        "running",
        (TaskRunInfo("extract", "success"), TaskRunInfo("load", "success")),
    )
    assert status_body(done, {"extract", "load"}, BASE)["executionStatus"] == "Successful"
    failed = RunInfo(RUN.dag_id, RUN.run_id, T0, "running", (TaskRunInfo("extract", "failed"),))
    assert status_body(failed, {"extract", "load"}, BASE)["executionStatus"] == "Failed"
    finished = RunInfo(RUN.dag_id, RUN.run_id, T0, "failed", (TaskRunInfo("extract", "success"),))
    assert status_body(finished, {"extract", "load"}, BASE)["executionStatus"] == "Failed"


def test_unknown_task_names_dropped() -> None:
    run = RunInfo(
        RUN.dag_id, RUN.run_id, T0, None, (TaskRunInfo("extract", "success"), TaskRunInfo("gone", "success"))
    )
    assert [s["name"] for s in status_body(run, {"extract", "load"}, BASE)["taskStatus"]] == ["extract"]


def test_mapped_instances_become_one_status() -> None:
    run = RunInfo(
        RUN.dag_id,
        RUN.run_id,
        T0,
        None,
        (
            TaskRunInfo("extract", "success", T0 + 1, T0 + 5, map_index=0),
            TaskRunInfo("extract", "failed", T0 + 2, T0 + 9, map_index=1),
            TaskRunInfo("load", "success", T0 + 3, T0 + 4, map_index=0),
            TaskRunInfo("load", "running", T0 + 3, None, map_index=1),
        ),
    )
    statuses = {s["name"]: s for s in status_body(run, {"extract", "load"}, BASE)["taskStatus"]}
    assert statuses["extract"]["executionStatus"] == "Failed"
    assert (statuses["extract"]["startTime"], statuses["extract"]["endTime"]) == (T0 + 1, T0 + 9)
    assert statuses["load"]["executionStatus"] == "Pending" and "endTime" not in statuses["load"]


def test_merge_with_stored() -> None:
    stored = [
        {"name": "extract", "executionStatus": "Successful", "endTime": 5},
        {"name": "load", "executionStatus": "Pending"},
    ]
    fresh = [
        {"name": "extract", "executionStatus": "Pending"},  # a stale view of a sibling: stored wins
        {"name": "load", "executionStatus": "Failed"},  # the reporting task: ours wins
    ]
    merged = merge_task_statuses(stored, fresh, {"load"})
    assert merged == [stored[0], fresh[1]]
    # a terminal sibling state beats a stored Pending
    assert (
        merge_task_statuses(
            [{"name": "a", "executionStatus": "Pending"}],
            [{"name": "a", "executionStatus": "Skipped"}],
            set(),
        )[0]["executionStatus"]
        == "Skipped"
    )


def test_status_body_merges_when_given_stored() -> None:
    run = RunInfo(RUN.dag_id, RUN.run_id, T0, None, (TaskRunInfo("load", "success"),), complete=False)
    stored = [{"name": "extract", "executionStatus": "Successful"}]
    body = status_body(run, {"extract", "load"}, BASE, stored=stored, authoritative={"load"})
    assert [(s["name"], s["executionStatus"]) for s in body["taskStatus"]] == [
        ("extract", "Successful"),
        ("load", "Successful"),
    ]
    assert body["executionStatus"] == "Successful"


def test_lineage_body() -> None:
    assert lineage_body("a", "b", "p") == {
        "edge": {
            "fromEntity": {"id": "a", "type": "table"},
            "toEntity": {"id": "b", "type": "table"},
            "lineageDetails": {"pipeline": {"id": "p", "type": "pipeline"}, "source": "PipelineLineage"},
        }
    }


def test_task_report_round_trips_through_json() -> None:
    report = TaskReport(DAG, RUN, "load", ("s.d.x.a",), ("s.d.x.b",), 2, -1, 3)
    assert TaskReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report


def test_to_dict_is_what_asdict_makes_and_shares_nothing_mutable() -> None:
    """The spool record's shape: to_dict is a fast asdict, every field included (a new one too)."""
    extra = {"sql": {"dialect": "postgres", "statements": ["select 1"]}}
    column = ColumnLineage("s.d.x.a", "s.d.x.b", "total", ("amount", "tax"), "sum(amount)")
    report = TaskReport(
        DAG, RUN, "load", ("s.d.x.a",), ("s.d.x.b",), 2, 0, 3, extra, (column,), status_only=True
    )
    assert report.to_dict() == asdict(report)
    copied = report.to_dict()["extra"]
    copied["sql"]["statements"].append("drop table x")
    assert extra["sql"]["statements"] == ["select 1"]


ORACLE = """
import json, sys
from metadata.generated.schema.api.services.createPipelineService import CreatePipelineServiceRequest
from metadata.generated.schema.api.data.createPipeline import CreatePipelineRequest
from metadata.generated.schema.entity.data.pipeline import PipelineStatus
from metadata.generated.schema.api.lineage.addLineage import AddLineageRequest
models = {
    "service": CreatePipelineServiceRequest,
    "pipeline": CreatePipelineRequest,
    "status": PipelineStatus,
    "lineage": AddLineageRequest,
}
results = []
for kind, body in json.load(open(sys.argv[1])):
    try:
        models[kind].model_validate(body)
        results.append("ok")
    except Exception as exc:
        results.append(f"{kind}: {exc}")
print(json.dumps(results))
"""
ORACLE_PYTHON = VENVS / "oracle" / "bin" / "python"
_oracle: dict[str, Any] = {}


def oracle_bodies() -> list[tuple[str, dict[str, Any]]]:
    uuid = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    return [
        ("service", service_body("MWAA", BASE)),
        ("pipeline", pipeline_body(DAG, "MWAA", BASE)),
        ("pipeline", pipeline_body(DAG, "MWAA", BASE, airflow_major=3)),
        ("status", status_body(RUN, {"extract", "load"}, BASE)),
        ("status", status_body(RUN, {"extract", "load"}, BASE, airflow_major=3)),
        ("lineage", lineage_body(uuid, uuid, uuid)),
        # the oracle must reject a broken body, so the "ok"s mean something
        ("status", {"timestamp": T0, "executionStatus": "Done", "taskStatus": []}),
    ]


def start_oracle() -> None:
    """Start the oracle early (conftest calls this after collection): importing openmetadata-ingestion takes
    tens of seconds, which then overlap with the other tests."""
    if "proc" in _oracle or not ORACLE_PYTHON.exists():
        return
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(oracle_bodies(), f)
    _oracle["proc"] = subprocess.Popen(
        [str(ORACLE_PYTHON), "-W", "ignore", "-c", ORACLE, f.name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_bodies_valid_for_the_official_models() -> None:
    """openmetadata-ingestion's generated pydantic models (extra=forbid) accept every body we build."""
    need(ORACLE_PYTHON, "the oracle venv (openmetadata-ingestion)")
    start_oracle()
    proc: subprocess.Popen[str] = _oracle["proc"]
    stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 0, stderr[-3000:]
    results = json.loads(stdout.strip().splitlines()[-1])
    assert results[:-1] == ["ok"] * (len(oracle_bodies()) - 1)
    assert results[-1].startswith("status:")


def _run_report(task: str, *runs: TaskRunInfo, run_id: str = "r1", complete: bool = True) -> TaskReport:
    dag = DagInfo("etl", (TaskInfo("a", "PythonOperator"), TaskInfo("b", "PythonOperator")))
    try_number = next((tr.try_number for tr in runs if tr.task_id == task), 1)
    return TaskReport(dag, RunInfo("etl", run_id, 1, "running", runs, complete), task, try_number=try_number)


A_DONE = TaskRunInfo("a", "success")


@pytest.mark.parametrize(
    ("older", "newer", "expected"),
    [
        # the newer record read a's state: a's status request is redundant
        (_run_report("a", A_DONE), _run_report("b", A_DONE, TaskRunInfo("b", "success")), True),
        # it read a before a's commit: a's own status must still go
        (_run_report("a", A_DONE), _run_report("b", TaskRunInfo("a", "running")), False),
        # it does not know a at all
        (_run_report("a", A_DONE), _run_report("b", TaskRunInfo("b", "success")), False),
        # a partial record (Airflow 3: merged with the server's copy, where a stored terminal state would win)
        (_run_report("a", A_DONE), _run_report("b", A_DONE, complete=False), False),
        # another run of the DAG
        (_run_report("a", A_DONE), _run_report("b", A_DONE, run_id="r2"), False),
        # a later try must beat the state its earlier try left on the server: it always sends its own
        (
            _run_report("a", TaskRunInfo("a", "up_for_retry", try_number=1)),
            _run_report("a", TaskRunInfo("a", "success", try_number=2)),
            False,
        ),
        (
            _run_report("a", TaskRunInfo("a", "success", try_number=2)),
            _run_report("b", TaskRunInfo("a", "success", try_number=2)),
            False,
        ),
        # the run's final record read every task: it carries a's success (a process that ran the whole run,
        # `dags test`, spools it behind the task records)
        (_run_report("a", A_DONE), _run_report("", A_DONE, TaskRunInfo("b", "success")), True),
        # a run's final record always sends its own
        (
            _run_report("", A_DONE, TaskRunInfo("b", "failed")),
            _run_report("", A_DONE, TaskRunInfo("b", "failed")),
            False,
        ),
        # a failure (e.g. after the same try's success record) must overwrite the Successful the server holds
        (
            _run_report("a", TaskRunInfo("a", "failed")),
            _run_report("b", TaskRunInfo("a", "failed"), TaskRunInfo("b", "success")),
            False,
        ),
        # mapped instances are told apart by map_index
        (
            replace(_run_report("a", TaskRunInfo("a", "success", map_index=0)), map_index=0),
            _run_report("b", TaskRunInfo("a", "success", map_index=1)),
            False,
        ),
        (
            replace(_run_report("a", TaskRunInfo("a", "success", map_index=1)), map_index=1),
            _run_report(
                "b", TaskRunInfo("a", "running", map_index=0), TaskRunInfo("a", "success", map_index=1)
            ),
            True,
        ),
        # a record without its own task's state speaks for nothing: it is sent as it is
        (_run_report("a", TaskRunInfo("b", "success")), _run_report("b", TaskRunInfo("b", "success")), False),
    ],
)
def test_which_status_a_newer_record_of_the_run_makes_redundant(
    older: TaskReport, newer: TaskReport, expected: bool
) -> None:
    assert supersedes(newer, older) is expected
