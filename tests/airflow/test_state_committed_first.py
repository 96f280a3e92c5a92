"""The task's state is committed before its lineage is delivered (the hand-off, delivery.py).

Against a server whose status PUTs take DELAY_S, every task's end_date (set by Airflow just before it saves
the task instance) must come before its status PUT finished: the report was handed off, not sent inside the
task. With the report sent synchronously before the commit (Airflow 2's lineage backend runs in
post_execute), end_date would follow the PUT's end.

- Airflow 2: `dags backfill`, each task in its own `tasks run --raw` process, as on an MWAA worker: the
  backend hands off in post_execute; the success listener, after the commit, waits for the delivery.
- Airflow 3: `dags test`: the task runner sends SucceedTask (committed by the API) before it calls the
  success listener, which hands off and waits. Failed states are committed only after the task process exits
  (docs/reliability.md), so a failure hook never waits.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from omlineage_devkit.airflow_runner import DagRunResult, run_backfill, run_dag
from omlineage_devkit.lineage_settings import LOGICAL_DATE, SERVICE, lineage_env
from omlineage_devkit.openmetadata import OpenMetadataEmulator, rejected

DAG_ID = "om_commit"
DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / f"{DAG_ID}.py"
DELAY_S = 1.5


def end_dates(home: Path) -> dict[str, float]:
    with sqlite3.connect(home / "airflow.db") as conn:
        rows = conn.execute(
            "SELECT task_id, end_date FROM task_instance WHERE dag_id = ?", (DAG_ID,)
        ).fetchall()
    out = {}
    for task_id, raw in rows:
        stamp = datetime.fromisoformat(str(raw))
        out[task_id] = (stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)).timestamp()
    return out


def first_success_put(log: list[dict[str, Any]], task_id: str) -> dict[str, Any]:
    """The status PUT that first carried `task_id` as Successful (that task's own report)."""
    for entry in log:
        if entry["method"] == "PUT" and entry["path"].endswith("/status") and entry["status"] == 200:
            states = {s["name"]: s["executionStatus"] for s in entry["body"]["taskStatus"]}
            if states.get(task_id) == "Successful":
                return entry
    raise AssertionError(f"no status PUT reported {task_id} as Successful")


def run(om: OpenMetadataEmulator, venv: str) -> DagRunResult:
    om.reset()
    om.set_faults(
        {"path_regex": r"/status$", "method": "PUT", "mode": "delay", "delay_ms": int(DELAY_S * 1000)}
    )
    env = lineage_env(om.api_url, timeout=DELAY_S + 3, time_budget=DELAY_S + 4, **om.bot_env())
    if venv == "airflow2":
        return run_backfill(DAG_ID, [DAG_FILE], date="2024-01-02", env=env)
    return run_dag(DAG_ID, [DAG_FILE], venv=venv, env=env, logical_date=LOGICAL_DATE, reserialize=True)


@pytest.mark.parametrize("venv", ["airflow2", "airflow3"])
def test_the_state_is_committed_before_the_delivery(om_server: OpenMetadataEmulator, venv: str) -> None:
    try:
        result = run(om_server, venv)
    finally:
        om_server.clear_faults()
    result.assert_ok()
    log = om_server.requests()
    assert not rejected(log), rejected(log)
    ends = end_dates(result.home)
    assert set(ends) == {"first", "second"}
    for task_id, committed_at in ends.items():
        put = first_success_put(log, task_id)
        put_done = put["time"] + put["duration_ms"] / 1000
        assert committed_at < put_done - DELAY_S / 2, (
            f"{venv}: {task_id} was committed {committed_at - put['time']:.2f}s after its status PUT arrived"
            f" (the PUT took {put['duration_ms']:.0f} ms): the task waited for OpenMetadata"
        )
    if venv == "airflow2":  # the forked task runner leaves through os._exit: it waited after the commit
        for task_id in ends:
            [task_log] = result.home.glob(f"logs/**/task_id={task_id}/*.log")
            text = task_log.read_text()
            assert f"OpenMetadata lineage: {DAG_ID}.{task_id} reported" in text, (
                f"{task_id}: not delivered by its process"
            )
    # Delivered all the same: both tasks and the run, by the end of the run.
    [status] = om_server.state()["statuses"][f"{SERVICE}.{DAG_ID}"]
    assert {s["name"]: s["executionStatus"] for s in status["taskStatus"]} == {
        "first": "Successful",
        "second": "Successful",
    }
