"""reporter.py + cache.py against the loopback stub: what is sent, how often, what a new process reuses."""

from __future__ import annotations

import json
import logging
import multiprocessing
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from airflow_openmetadata_lineage.auth.noauth import NoAuthProvider
from airflow_openmetadata_lineage.cache import DiskCache
from airflow_openmetadata_lineage.client import ClientError, OpenMetadataClient
from airflow_openmetadata_lineage.config import LineageConfig
from airflow_openmetadata_lineage.delivery import Delivery
from airflow_openmetadata_lineage.model import DagInfo, RunInfo, TaskInfo, TaskReport, TaskRunInfo
from airflow_openmetadata_lineage.reporter import Reporter, ReportResult
from airflow_openmetadata_lineage.spool import Spool
from omstub import OMStub

T0 = 1_700_000_000_000
DAG = DagInfo(
    "etl",
    (
        TaskInfo("extract", "PythonOperator", ("load",)),
        TaskInfo("load", "PythonOperator", ("publish",)),
        TaskInfo("publish", "BashOperator"),
    ),
    "ETL",
)
SRC, MID, DST, MISSING = "db.d.s.src", "db.d.s.mid", "db.d.s.dst", "db.d.s.missing"


def run_with(*states: tuple[str, str], complete: bool = True) -> RunInfo:
    return RunInfo(
        "etl", "manual__1", T0, "running", tuple(TaskRunInfo(t, s, T0, T0 + 1) for t, s in states), complete
    )


def report_for(
    task_id: str,
    inlets: tuple[str, ...],
    outlets: tuple[str, ...],
    run: RunInfo,
    dag: DagInfo = DAG,
    try_number: int = 1,
) -> TaskReport:
    return TaskReport(dag, run, task_id, inlets, outlets, try_number=try_number)


def new_reporter(stub: OMStub, spool: Path, **kw: Any) -> Reporter:
    """A Reporter as a fresh task process would build it (new memory, same worker spool_dir)."""
    config = LineageConfig(
        service_name="MWAA",
        endpoint=stub.url,
        auth_provider_type="no-auth",
        options={},
        spool_dir=str(spool),
        timeout=kw.pop("timeout", 5.0),
        time_budget=kw.pop("time_budget", 10.0),
    )
    return Reporter(config, OpenMetadataClient(config, NoAuthProvider(config)), **kw)


class Worker:
    """A fresh task process's delivery: hand-off to the worker's spool, delivered by `reporter` in the
    caller's thread. `sent` holds (report as sent, replay, result) per delivery attempt."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.spool = Spool(reporter.config.spool_dir, 1 << 20, 3600.0)
        self.sent: list[tuple[TaskReport, bool, ReportResult]] = []
        self.delivery = Delivery(self.spool, self._deliver, reporter.config.time_budget, background=False)

    def _deliver(self, report: TaskReport, deadline: float, replay: bool, status: bool) -> ReportResult:
        result = self.reporter.report(report, deadline, replay=replay, status=status)
        self.sent.append((report, replay, result))
        return result

    def report(self, report: TaskReport) -> ReportResult:
        """Hand `report` off; the result of its delivery."""
        before = len(self.sent)
        assert self.delivery.hand_off(report)
        [(_, replay, result)] = self.sent[before:]
        assert not replay
        return result

    def kept(self) -> list[TaskReport]:
        """The records the spool keeps for a later delivery."""
        return [TaskReport.from_dict(json.loads(Path(p).read_text())["report"]) for p in self.spool.entries()]


def paths(stub: OMStub) -> list[str]:
    return [f"{m} {p.split('?')[0]}" for m, p, _, _ in stub.requests]


@pytest.fixture
def seeded(stub: OMStub) -> OMStub:
    stub.seed_tables(SRC, MID, DST)
    return stub


def test_first_report_sends_everything_in_order(seeded: OMStub, tmp_path: Path) -> None:
    result = new_reporter(seeded, tmp_path).report(
        report_for(
            "extract", (SRC,), (MID,), run_with(("extract", "success"), ("load", None), ("publish", None))
        )
    )
    src, mid = seeded.tables[SRC], seeded.tables[MID]
    assert paths(seeded) == [
        "GET /v1/system/version",
        "GET /v1/services/pipelineServices/name/MWAA",
        "POST /v1/services/pipelineServices",
        "GET /v1/pipelines/name/MWAA.etl",
        "POST /v1/pipelines",
        "PUT /v1/pipelines/MWAA.etl/status",
        f"GET /v1/tables/name/{SRC}",
        f"GET /v1/tables/name/{MID}",
        f"GET /v1/lineage/getLineageEdge/{src}/{mid}",
        "PUT /v1/lineage",
    ]
    assert (result.requests, result.status_sent, result.edges_sent, result.error) == (10, True, 1, None)
    pipeline = seeded.pipelines["MWAA.etl"]
    assert [t["name"] for t in pipeline["tasks"]] == ["extract", "load", "publish"]
    status = seeded.statuses["MWAA.etl"][T0]
    assert [(s["name"], s["executionStatus"]) for s in status["taskStatus"]] == [
        ("extract", "Successful"),
        ("load", "Pending"),
        ("publish", "Pending"),
    ]
    assert status["executionStatus"] == "Pending"
    ((edge, details),) = seeded.edges.items()
    assert edge == (seeded.tables[SRC], seeded.tables[MID])
    assert details["pipeline"] == {"id": pipeline["id"], "type": "pipeline"}


def test_steady_state_is_status_plus_edges_across_processes(seeded: OMStub, tmp_path: Path) -> None:
    new_reporter(seeded, tmp_path).report(
        report_for("extract", (SRC,), (MID,), run_with(("extract", "success")))
    )
    seeded.requests.clear()
    # the next task runs in a new process on the same worker: service, pipeline and table ids come from disk
    run = run_with(("extract", "success"), ("load", "success"))
    result = new_reporter(seeded, tmp_path).report(report_for("load", (SRC, MID), (DST,), run))
    src, mid, dst = seeded.tables[SRC], seeded.tables[MID], seeded.tables[DST]
    assert paths(seeded) == [
        "PUT /v1/pipelines/MWAA.etl/status",
        f"GET /v1/tables/name/{DST}",
        f"GET /v1/lineage/getLineageEdge/{src}/{dst}",
        "PUT /v1/lineage",
        f"GET /v1/lineage/getLineageEdge/{mid}/{dst}",
        "PUT /v1/lineage",
    ]
    seeded.requests.clear()
    run = run_with(("extract", "success"), ("load", "success"), ("publish", "success"))
    result = new_reporter(seeded, tmp_path).report(report_for("publish", (MID, SRC), (DST,), run))
    # steady state: the status; both edges were merged by this worker already (remembered on disk)
    assert paths(seeded) == ["PUT /v1/pipelines/MWAA.etl/status"]
    assert result.requests == 1 and result.edges_sent == 2
    assert seeded.statuses["MWAA.etl"][T0]["executionStatus"] == "Successful"
    assert len(seeded.edges) == 3


def test_pipeline_resent_only_when_structure_changes(seeded: OMStub, tmp_path: Path) -> None:
    run = run_with(("extract", "success"))
    for _ in range(3):
        new_reporter(seeded, tmp_path).report(report_for("extract", (), (), run))
        run = replace(run, run_id=run.run_id + "x")
    assert len(seeded.calls("POST", "/v1/pipelines")) == 1
    assert len(seeded.calls("GET", "/v1/pipelines/name/")) == 1
    assert not seeded.calls("PATCH")
    changed = DagInfo("etl", (*DAG.tasks, TaskInfo("audit", "EmptyOperator")), "ETL")
    new_reporter(seeded, tmp_path).report(
        report_for("extract", (), (), replace(run, run_id="r2"), dag=changed)
    )
    ((_, path, ops, _),) = seeded.calls("PATCH")  # the changed structure: one JSON Patch, no PUT
    assert path == f"/v1/pipelines/{seeded.pipelines['MWAA.etl']['id']}"
    assert {op["path"] for op in ops} == {"/sourceHash", "/tasks"}
    assert "audit" in [t["name"] for t in seeded.pipelines["MWAA.etl"]["tasks"]]
    assert len(seeded.calls("POST", "/v1/services")) == 1
    assert not seeded.calls("PUT", "/v1/services")
    assert not [c for c in seeded.calls("PUT") if c[1] == "/v1/pipelines"]


def test_unknown_table_skips_its_edges_warns_once(
    seeded: OMStub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="airflow_openmetadata_lineage")
    reporter = new_reporter(seeded, tmp_path)
    result = reporter.report(report_for("extract", (SRC, MISSING), (MID,), run_with(("extract", "success"))))
    assert (result.edges_sent, result.skipped_tables) == (1, [MISSING])
    assert list(seeded.edges) == [(seeded.tables[SRC], seeded.tables[MID])]
    reporter.report(report_for("load", (MISSING,), (DST,), run_with(("load", "success"))))
    assert len(seeded.calls("GET", f"/v1/tables/name/{MISSING}")) == 1  # remembered for the process
    assert sum(MISSING in r.getMessage() for r in caplog.records) == 1


def test_stale_table_id_is_looked_up_again_and_the_edge_sent(seeded: OMStub, tmp_path: Path) -> None:
    new_reporter(seeded, tmp_path).report(
        report_for("extract", (SRC,), (MID,), run_with(("extract", "success")))
    )
    seeded.seed_tables(SRC)  # the table was re-created on the server: a new id, the cached one is stale
    seeded.edges.clear()
    seeded.requests.clear()
    cache = DiskCache(str(tmp_path))  # the worker's memory of merged edges has expired (EDGE_TTL)
    for key in [k for k in cache._read_file() if "|edge|" in k]:
        cache.delete(key)
    run = run_with(("extract", "success"), ("load", "success"))
    result = new_reporter(seeded, tmp_path).report(report_for("load", (SRC,), (MID,), run))
    assert result.edges_sent == 1 and not result.skipped_tables
    assert (seeded.tables[SRC], seeded.tables[MID]) in seeded.edges
    assert paths(seeded).count("PUT /v1/lineage") == 2  # the stale try, then one retry with fresh ids
    assert paths(seeded).count(f"GET /v1/tables/name/{SRC}") == 1


def test_same_task_try_reported_once(seeded: OMStub, tmp_path: Path) -> None:
    delivery = Worker(new_reporter(seeded, tmp_path)).delivery
    report = report_for("extract", (SRC,), (MID,), run_with(("extract", "success")))
    assert delivery.hand_off(report)
    before = len(seeded.requests)
    assert not delivery.hand_off(report), "a duplicate"
    assert len(seeded.requests) == before
    assert delivery.hand_off(replace(report, try_number=2))  # a retry reports again
    assert len(seeded.requests) > before


def test_incomplete_run_merges_with_stored_status(seeded: OMStub, tmp_path: Path) -> None:
    new_reporter(seeded, tmp_path).report(
        report_for("extract", (), (), run_with(("extract", "success"), ("load", "queued")))
    )
    seeded.requests.clear()
    # The adapter only knows this task (Airflow 3 listener): the reporter reads the stored record and merges.
    new_reporter(seeded, tmp_path).report(
        report_for("load", (), (), run_with(("load", "failed"), complete=False))
    )
    assert paths(seeded) == ["GET /v1/pipelines/MWAA.etl/status", "PUT /v1/pipelines/MWAA.etl/status"]
    status = seeded.statuses["MWAA.etl"][T0]
    assert {s["name"]: s["executionStatus"] for s in status["taskStatus"]} == {
        "extract": "Successful",
        "load": "Failed",
    }
    assert status["executionStatus"] == "Failed"


def test_transient_error_hands_report_to_spool_seam(seeded: OMStub, tmp_path: Path) -> None:
    worker = Worker(new_reporter(seeded, tmp_path))
    seeded.fail_next["/v1/pipelines/MWAA.etl/status"] = [503]
    report = report_for("extract", (SRC,), (MID,), run_with(("extract", "success")))
    result = worker.report(report)
    assert result.not_sent == ["status", f"edge {SRC} -> {MID}"]
    assert "HTTP 503" in (result.error or "")
    error = result.failure
    assert isinstance(error, ClientError) and error.status == 503
    (spooled,) = worker.kept()  # kept in the spool for a later delivery
    assert spooled.task_id == "extract"
    # the next delivery on the worker (a new process) replays it, merging with the stored run: it delivers
    later = Worker(new_reporter(seeded, tmp_path))
    assert later.delivery.drain(time.monotonic() + 10) == 1
    [(sent, replay_flag, replay)] = later.sent
    assert replay_flag and sent.run.complete is False and sent.task_id == "extract"
    assert replay.status_sent and replay.edges_sent == 1 and replay.error is None
    assert later.kept() == []


def test_rejected_edge_does_not_stop_others(seeded: OMStub, tmp_path: Path) -> None:
    reporter = new_reporter(seeded, tmp_path)
    seeded.fail_next["/v1/lineage"] = [400]
    result = reporter.report(report_for("extract", (SRC, MID), (DST,), run_with(("extract", "success"))))
    assert result.edges_sent == 1 and result.error is None
    assert len(seeded.calls("GET", "/v1/lineage/getLineageEdge/")) == 2  # the first one answered 400
    assert len(seeded.calls("PUT", "/v1/lineage")) == 1 and len(seeded.edges) == 1


def test_time_budget_stops_the_report(
    seeded: OMStub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="airflow_openmetadata_lineage")
    worker = Worker(new_reporter(seeded, tmp_path, time_budget=0.6))
    seeded.delay = 0.25
    started = time.monotonic()
    result = worker.report(report_for("extract", (SRC,), (MID,), run_with(("extract", "success"))))
    elapsed = time.monotonic() - started
    assert elapsed < 0.6 + 0.3
    assert result.not_sent and len(worker.kept()) == 1
    assert "not sent:" in caplog.text


def test_status_rejected_resends_pipeline_and_retries(seeded: OMStub, tmp_path: Path) -> None:
    new_reporter(seeded, tmp_path).report(report_for("extract", (), (), run_with(("extract", "success"))))
    # someone replaced the pipeline on the server with fewer tasks: the status names an unknown task -> 400
    seeded.pipelines["MWAA.etl"]["tasks"] = [{"name": "extract"}]
    result = new_reporter(seeded, tmp_path).report(
        report_for("load", (), (), run_with(("extract", "success"), ("load", "success")))
    )
    assert result.status_sent
    assert {s["name"] for s in seeded.statuses["MWAA.etl"][T0]["taskStatus"]} == {"extract", "load"}


def test_server_older_than_1_2_is_refused_once_and_nothing_written(
    seeded: OMStub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seeded.version = "1.1.7"  # pipelines there have no sourceUrl/sourceHash: our bodies would be rejected
    worker = Worker(new_reporter(seeded, tmp_path))
    for task in ("extract", "load"):
        result = worker.report(report_for(task, (SRC,), (MID,), run_with((task, "success"))))
        assert not result.status_sent and "1.1.7 is not supported" in (result.error or "")
    assert paths(seeded) == ["GET /v1/system/version"]  # asked once per worker, then remembered
    assert not worker.kept()  # a setup error: nothing kept for a replay
    lines = [r.getMessage() for r in caplog.records if "is not supported" in r.getMessage()]
    assert len(lines) == 1 and "use a server >= 1.2" in lines[0]


@pytest.mark.parametrize(("version", "details"), [("1.11.9", False), ("1.12.0", True), ("2.0.1", True)])
def test_run_details_only_where_the_server_has_them(
    seeded: OMStub, tmp_path: Path, version: str, details: bool
) -> None:
    seeded.version = version
    run = run_with(("extract", "success"), ("load", "success"), ("publish", "failed"))
    new_reporter(seeded, tmp_path).report(report_for("publish", (), (), run))
    status = seeded.statuses["MWAA.etl"][T0]
    assert ("executionId" in status, "endTime" in status) == (details, details)
    if details:
        assert status["executionId"] == "manual__1" and status["endTime"] == T0 + 1


def test_service_recreated_when_server_lost_it(seeded: OMStub, tmp_path: Path) -> None:
    new_reporter(seeded, tmp_path).report(report_for("extract", (), (), run_with(("extract", "success"))))
    seeded.services.clear()
    seeded.pipelines.clear()
    result = new_reporter(seeded, tmp_path).report(
        report_for("extract", (), (), run_with(("extract", "success")), try_number=2)
    )
    assert result.status_sent and "MWAA" in seeded.services


def test_server_down_fails_fast_without_raising(tmp_path: Path) -> None:
    stub = OMStub()
    stub.close()  # nothing listens on its port any more
    reporter = new_reporter(stub, tmp_path)
    started = time.monotonic()
    result = reporter.report(report_for("extract", (SRC,), (MID,), run_with(("extract", "success"))))
    assert time.monotonic() - started < 2
    assert result.not_sent[0] == "service" and "cannot connect" in (result.error or "")


# -- the disk cache ------------------------------------------------------------------------------------------


def test_cache_expiry_and_delete(tmp_path: Path) -> None:
    cache = DiskCache(str(tmp_path))
    cache.set("a", {"x": 1}, ttl=60)
    cache.set("b", "gone", ttl=-1)
    other = DiskCache(str(tmp_path))  # another process
    assert other.get("a") == {"x": 1}
    assert other.get("b") is None
    other.delete("a")
    assert DiskCache(str(tmp_path)).get("a") is None


def test_cache_survives_a_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / "cache.json").write_text("{not json")
    cache = DiskCache(str(tmp_path))
    assert cache.get("a") is None
    cache.set("a", 1, 60)
    assert DiskCache(str(tmp_path)).get("a") == 1


def test_cache_unwritable_dir_degrades_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = DiskCache(str(blocker / "sub"))  # a directory below a file cannot exist
    cache.set("a", 1, 60)
    assert cache.get("a") == 1


def _writer(directory: str, worker: int) -> None:
    cache = DiskCache(directory)
    for i in range(25):
        cache.set(f"w{worker}-{i}", i, 60)


def test_cache_concurrent_processes_lose_nothing(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w)) for w in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert all(p.exitcode == 0 for p in procs)
    cache = DiskCache(str(tmp_path))
    assert all(cache.get(f"w{w}-{i}") == i for w in range(6) for i in range(25))


def test_unknown_sso_principal_is_one_setup_error_not_a_missing_entity(
    seeded: OMStub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    new_reporter(seeded, tmp_path).report(
        report_for("extract", (SRC,), (MID,), run_with(("extract", "success")))
    )
    seeded.principal = None  # the token's principal is no user in OpenMetadata: 404 on every call
    seeded.requests.clear()
    caplog.set_level(logging.WARNING, logger="airflow_openmetadata_lineage")
    reporter = new_reporter(seeded, tmp_path)
    worker = Worker(reporter)
    for task, try_number in (("load", 1), ("load", 2)):
        run = run_with(("extract", "success"), (task, "success"))
        result = worker.report(report_for(task, (MID,), (DST,), run, try_number=try_number))
        assert not result.status_sent and "no user or bot named 'stranger'" in (result.error or "")
    assert not worker.kept()  # nothing kept to be replayed forever
    lines = [r for r in caplog.records if "no user or bot named" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelname == "ERROR"  # one clear line per process
    assert "Create that user (or a bot)" in lines[0].getMessage()
    # no re-creation of the service or pipeline, no table remembered as missing
    assert not seeded.calls("POST") and not seeded.calls("PATCH")
    cache = DiskCache(str(tmp_path))
    key = reporter.entities.key
    assert cache.get(key("table", DST)) is None and cache.get(key("table", MID))


def test_a_report_that_leaves_its_status_to_a_newer_one_still_repairs_a_deleted_pipeline(
    seeded: OMStub, tmp_path: Path
) -> None:
    """status=False (delivery.py: a newer record of the run sends the status) skips the request that used
    to find a stale cached pipeline: the edge's 404 does it instead, and the edge goes once the pipeline
    is written again."""
    run = run_with(("extract", "success"), ("load", None), ("publish", None))
    new_reporter(seeded, tmp_path).report(report_for("extract", (SRC,), (MID,), run))
    del seeded.pipelines["MWAA.etl"]  # deleted on the server (a rebuild); this worker's cache still has it
    seeded.edges.clear()
    result = new_reporter(seeded, tmp_path).report(report_for("load", (MID,), (DST,), run), status=False)
    assert (result.error, result.status_sent, result.edges_sent) == (None, False, 1), result
    assert "MWAA.etl" in seeded.pipelines
    assert list(seeded.edges) == [(seeded.tables[MID], seeded.tables[DST])]
    assert not [p for m, p, _, _ in seeded.requests if m == "PUT" and p.endswith("/status")][1:]
