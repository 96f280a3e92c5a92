"""Issue 6: the listener plugin reports the same entities, statuses and edges on Airflow 3.0.6 as backend +
listener do on 2.10.5; a failing task gets a Failed status on both; on 2.x the two paths write once per
task try, and the run-level hook adds the final record of a run in which a task never ran."""

from __future__ import annotations

import re
from collections import Counter

from omlineage_devkit.lineage_settings import BASE_URL, LOGICAL_TS
from omlineage_devkit.openmetadata import rejected
from omlineage_devkit.parity import EXPECTED_EDGES, PARITY_DAG, PIPELINE, RAN, Recorded, edges, normalise


def writes(rec: Recorded) -> Counter[str]:
    """Writes (POST, PUT, PATCH) by endpoint kind: service, pipeline, status, lineage."""
    kinds: Counter[str] = Counter()
    for r in rec.requests:
        if r["method"] in ("POST", "PUT", "PATCH"):
            path = r["path"]
            kind = "status" if path.endswith("/status") else path.split("/")[3]
            kinds["pipelineServices" if kind == "services" else kind] += 1
    return kinds


def test_runs_end_as_the_dag_says(parity_runs: dict[str, Recorded]) -> None:
    for venv, rec in parity_runs.items():
        expected = {**dict.fromkeys(RAN, "success"), "boom": "failed", "after": "upstream_failed"}
        assert rec.run.states == expected, f"{venv}:\n{rec.run.output[-4000:]}"
        bad = rejected(rec.requests)
        assert not bad, f"{venv}: requests rejected: {bad}"
        assert "boom: this task fails on purpose" in rec.run.output


def test_same_entities_and_edges_on_airflow_2_and_3(parity_runs: dict[str, Recorded]) -> None:
    two, three = parity_runs["airflow2"], parity_runs["airflow3"]
    assert edges(two) == EXPECTED_EDGES  # boom failed: its edge (orders -> never_written) is not drawn
    assert edges(three) == EXPECTED_EDGES
    for part in ("services", "pipelines", "statuses", "edges"):
        assert normalise(three.state[part]) == normalise(two.state[part]), part
    [pipeline] = three.state["pipelines"]
    assert pipeline["fullyQualifiedName"] == PIPELINE
    assert pipeline["version"] == 0.1, "the pipeline was re-sent although the DAG did not change"
    tasks = {t["name"]: (t["taskType"], t["downstreamTasks"]) for t in pipeline["tasks"]}
    assert tasks == {
        "extract": ("PythonOperator", ["transform"]),
        "transform": ("PythonOperator", ["load"]),
        "load": ("PythonOperator", ["notify"]),
        "notify": ("BashOperator", ["boom"]),
        "boom": ("PythonOperator", ["after"]),
        "after": ("PythonOperator", []),
    }
    # the only intended difference: links into each major's UI
    assert two.state["pipelines"][0]["sourceUrl"] == f"{BASE_URL}/dags/{PARITY_DAG}/grid"
    assert pipeline["sourceUrl"] == f"{BASE_URL}/dags/{PARITY_DAG}"


def test_failed_task_has_failed_status_on_both(parity_runs: dict[str, Recorded]) -> None:
    for venv, rec in parity_runs.items():
        [status] = rec.state["statuses"][PIPELINE]
        assert status["timestamp"] == LOGICAL_TS
        by_task = {s["name"]: s["executionStatus"] for s in status["taskStatus"]}
        # `after` never ran (upstream_failed): the run-level hook wrote the run's final record
        assert by_task == {**dict.fromkeys(RAN, "Successful"), "boom": "Failed", "after": "Failed"}, venv
        assert "OpenMetadata lineage: om_parity (run) reported: status sent" in rec.run.output, venv
        assert status["executionStatus"] == "Failed", venv
        [boom] = [s for s in status["taskStatus"] if s["name"] == "boom"]
        assert "endTime" in boom and "boom" in boom["logLink"], (venv, boom)


def test_one_write_per_task_try_with_backend_and_listener_on_2x(parity_runs: dict[str, Recorded]) -> None:
    """2.x ran with `[lineage] backend` set and the plugin loaded: every status and edge is written once."""
    for venv, rec in parity_runs.items():
        # one report per task that ran, plus the run's final record (a task never ran)
        reported = re.findall(r"OpenMetadata lineage: om_parity\.(\w+) reported", rec.run.output)
        assert sorted(reported) == sorted(RAN), (venv, reported)
        sent = re.findall(
            r"OpenMetadata lineage: om_parity(?:\.\w+| \(run\)) reported: status sent", rec.run.output
        )
        folded = rec.run.output.count("reported: status in a newer record")
        assert len(sent) + folded == len(RAN) + 1, (venv, sent, folded)
        # every status request is one record's, each edge and the pipeline are written once
        assert writes(rec) == Counter(
            {"pipelineServices": 1, "pipelines": 1, "status": len(sent), "lineage": len(EXPECTED_EDGES)}
        ), (venv, writes(rec))
    # `dags test` runs every task in one process: a success record whose state a newer record of the run
    # carries (on 2.x any; on 3.x, where a task record reads only its own task, the final record) leaves the
    # status to it; boom's failure and the final record always send theirs.
    for venv, rec in parity_runs.items():
        assert 2 <= writes(rec)["status"] <= len(RAN) + 1, venv
    # The price of no metadata DB on 3.x: each report reads the stored status once to keep sibling times.
    status_reads = {
        venv: sum(1 for r in rec.requests if r["method"] == "GET" and r["path"].endswith("/status"))
        for venv, rec in parity_runs.items()
    }
    assert status_reads == {"airflow2": 0, "airflow3": len(RAN)}
    # Both paths were live on 2.x: the backend handed `extract` off before Airflow marked it SUCCESS
    # (post_execute) and the listener, which runs after that, found the try already handed off; `boom` (a
    # failure, which the backend never sees) was reported by the listener.
    output = parity_runs["airflow2"].run.output
    backend_hand_off = output.index("OpenMetadata lineage: om_parity.extract handed off")
    marked = output.index("Marking task as SUCCESS. dag_id=om_parity, task_id=extract")
    assert backend_hand_off < marked
    assert output.count("OpenMetadata lineage: om_parity.extract handed off") == 1
    assert "OpenMetadata lineage: om_parity.boom reported" in output
    assert "Marking task as FAILED. dag_id=om_parity, task_id=boom" in output
