"""spool.py with the delivery and the reporter against the loopback stub: keep, replay oldest first, caps,
Retry-After, concurrent replayers, and never failing or blocking a report."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import stat
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from omlineage_devkit.ports import closed_url

from airflow_openmetadata_lineage import runtime
from airflow_openmetadata_lineage.auth.noauth import NoAuthProvider
from airflow_openmetadata_lineage.client import (
    ClientError,
    OpenMetadataClient,
    TransientError,
    retry_after_seconds,
)
from airflow_openmetadata_lineage.config import (
    ConfigError,
    LineageConfig,
    deployment_key,
    load_config,
    mapping_getter,
)
from airflow_openmetadata_lineage.delivery import Delivery
from airflow_openmetadata_lineage.model import DagInfo, RunInfo, TaskInfo, TaskReport, TaskRunInfo
from airflow_openmetadata_lineage.reporter import Reporter, ReportResult
from airflow_openmetadata_lineage.spool import CLAIMED, DrainStats, Outcome, Spool
from omstub import OMStub

T0 = 1_700_000_000_000
DAG = DagInfo("etl", (TaskInfo("extract", "PythonOperator", ("load",)), TaskInfo("load", "PythonOperator")))
SRC, DST = "db.d.s.src", "db.d.s.dst"


def report(
    task: str = "extract", ts: int = T0, state: str = "success", end: int = 1, dag: DagInfo = DAG
) -> TaskReport:
    run = RunInfo("etl", f"run_{ts}", ts, "running", (TaskRunInfo(task, state, ts, ts + end),), False)
    return TaskReport(dag, run, task, (SRC,), (DST,))


class Worker:
    """A task process on one worker, as it builds its delivery: a Reporter, the worker's spool, and a Delivery
    that delivers in the caller's thread (background=False). `report(rep)` hands `rep` off and returns the
    result of its delivery; when an older kept record stopped the drain before `rep` was sent, the result of
    that attempt (None when nothing was sent at all, e.g. during a Retry-After)."""

    def __init__(
        self, url: str, spool_dir: Path, max_bytes: int = 1 << 20, max_age: float = 3600.0, **kw: Any
    ) -> None:
        config = LineageConfig(
            service_name="MWAA",
            endpoint=url,
            auth_provider_type="no-auth",
            options={},
            spool_dir=str(spool_dir),
            timeout=kw.pop("timeout", 2.0),
            time_budget=kw.pop("time_budget", 5.0),
        )
        self.reporter = Reporter(config, OpenMetadataClient(config, NoAuthProvider(config)))
        self.spool = Spool(str(spool_dir), max_bytes, max_age)
        self.sent: list[tuple[TaskReport, bool, ReportResult]] = []  # (report, replay, result) per attempt
        self.delivery = Delivery(self.spool, self._deliver, config.time_budget, background=False)

    def _deliver(self, rep: TaskReport, deadline: float, replay: bool, status: bool) -> ReportResult:
        result = self.reporter.report(rep, deadline, replay=replay, status=status)
        self.sent.append((rep, replay, result))
        return result

    def report(self, rep: TaskReport) -> Optional[ReportResult]:
        before = len(self.sent)
        self.delivery.hand_off(rep)
        attempts = self.sent[before:]
        fresh = [result for _, replay, result in attempts if not replay]
        if fresh:
            return fresh[-1]
        return attempts[-1][2] if attempts else None


def drain(spool: Spool, deliver: Callable[..., Any], deadline: Optional[float] = None) -> DrainStats:
    """One drain of `spool`, each record sent as the Delivery sends it (a result mapped to delivered / kept /
    dropped by delivery.retryable)."""
    return spool.drain(Delivery(spool, deliver, 5.0, background=False)._send, deadline)


@contextmanager
def claimed_elsewhere(path: str) -> Any:
    """`path` is being delivered by another (live) process meanwhile: drains here skip it; then it is back."""
    claimed = f"{path}{CLAIMED}{os.getppid()}"
    os.rename(path, claimed)
    try:
        yield
    finally:
        os.rename(claimed, path)


@pytest.fixture
def seeded(stub: OMStub) -> OMStub:
    stub.seed_tables(SRC, DST)
    return stub


def statuses(stub: OMStub) -> dict[int, dict[str, str]]:
    rows = stub.statuses.get("MWAA.etl", {})
    return {ts: {s["name"]: s["executionStatus"] for s in body["taskStatus"]} for ts, body in rows.items()}


def test_undelivered_reports_are_kept_then_replayed_oldest_first(seeded: OMStub, tmp_path: Path) -> None:
    down = Worker(closed_url(), tmp_path)
    for i in range(3):
        result = down.report(report(ts=T0 + i))
        assert result is not None and result.error and "cannot connect" in result.error
    spool = down.spool
    assert len(spool.entries()) == 3
    for path in spool.entries():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    up = Worker(seeded.url, tmp_path)
    result = up.report(report("load", ts=T0 + 9))
    assert result is not None and result.error is None

    assert spool.entries() == []
    assert statuses(seeded) == {
        T0: {"extract": "Successful"},
        T0 + 1: {"extract": "Successful"},
        T0 + 2: {"extract": "Successful"},
        T0 + 9: {"load": "Successful"},
    }
    status_puts = [p for m, p, _, _ in seeded.requests if m == "PUT" and p.endswith("/status")]
    assert len(status_puts) == 4
    # the spool is a write-ahead log: the kept ones oldest first, then the current report
    order = [b["timestamp"] for m, p, b, _ in seeded.requests if m == "PUT" and p.endswith("/status")]
    assert order == [T0, T0 + 1, T0 + 2, T0 + 9]
    assert len(seeded.edges) == 1


def test_replay_stops_at_first_failure_and_keeps_the_rest_in_order(seeded: OMStub, tmp_path: Path) -> None:
    down = Worker(closed_url(), tmp_path)
    for i in range(3):
        down.report(report(ts=T0 + i))
    names = [Path(p).name for p in down.spool.entries()]
    up = Worker(seeded.url, tmp_path)
    stats = drain(up.spool, _FailingReporter(up.reporter, fail_after=1).report, time.monotonic() + 5)
    assert (stats.delivered, stats.kept, stats.dropped) == (1, 1, 0)
    assert [Path(p).name for p in up.spool.entries()] == names[1:]
    assert not [n for n in os.listdir(tmp_path / "spool") if CLAIMED in n]
    assert set(statuses(seeded)) == {T0}


def test_no_replay_when_the_current_report_fails(seeded: OMStub, tmp_path: Path) -> None:
    down = Worker(closed_url(), tmp_path)
    down.report(report(ts=T0))
    up = Worker(seeded.url, tmp_path)
    seeded.fail_next["/v1/services"] = [503]
    result = up.report(report("load", ts=T0 + 1))
    assert result is not None and result.error is not None
    assert len(up.spool.entries()) == 2
    assert statuses(seeded) == {}


class _FailingReporter:
    """A reporter whose replays meet a transient error after `fail_after` successes."""

    def __init__(self, real: Reporter, fail_after: int) -> None:
        self.real, self.left = real, fail_after

    def report(
        self, rep: TaskReport, deadline: Optional[float] = None, replay: bool = False, status: bool = True
    ) -> Any:
        if self.left <= 0:
            err = TransientError("HTTP 503", 503)
            return ReportResult(error=str(err), failure=err)
        self.left -= 1
        return self.real.report(rep, deadline, replay=replay, status=status)


def test_size_cap_drops_the_oldest_with_a_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(str(tmp_path), max_bytes=3000, max_age=3600)
    spool.store_trim_one_in = 0
    # every report fits on its own, so each is kept (a path) and the cap makes room by dropping older ones
    stored = [spool.store(report(ts=T0 + i)) is not None for i in range(20)]
    assert stored == [True] * 20
    assert spool.size()[1] > 3000  # a store does not trim (it is on the task's path): the next drain does
    assert spool.drain(lambda record: (Outcome.KEEP, None)).kept == 1
    count, total = spool.size()
    assert total <= 3000 and 0 < count < 20
    kept = [json.loads(Path(p).read_text())["report"]["run"]["logical_date_ms"] for p in spool.entries()]
    assert kept == list(range(T0 + 20 - count, T0 + 20)), "the newest are kept, oldest first"
    assert "dropped the" in caplog.text and "oldest" in caplog.text


def test_age_cap_drops_expired_entries(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(str(tmp_path), max_bytes=1 << 20, max_age=60)
    spool.store_trim_one_in = 0
    spool.store(report(ts=T0))
    old = spool.entries()[0]
    # an entry created two minutes ago (the name carries its creation time)
    aged = Path(old).with_name(f"{time.time_ns() - 120 * 10**9:019d}-1-aaaa.json")
    os.rename(old, aged)
    spool.store(report(ts=T0 + 1))
    assert len(spool.entries()) == 2, "a store does not trim"
    spool.hold_for(60)  # a Retry-After holds delivery, not the caps
    assert spool.drain(lambda record: (Outcome.DELIVERED, None)).delivered == 0
    assert [json.loads(Path(p).read_text())["report"]["run"]["logical_date_ms"] for p in spool.entries()] == [
        T0 + 1
    ]
    assert "older than spool_max_age" in caplog.text


def test_some_stores_trim_so_the_caps_hold_without_any_drain(tmp_path: Path) -> None:
    """A worker whose task processes all die before their delivery thread drains still keeps its caps: one
    store in STORE_TRIM_ONE_IN trims (here: every one)."""
    spool = Spool(str(tmp_path), max_bytes=3000, max_age=3600)
    spool.store_trim_one_in = 1
    for i in range(20):
        spool.store(report(ts=T0 + i))
    assert 0 < spool.size()[1] <= 3000


def test_a_report_larger_than_the_cap_is_dropped_not_stored(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path), max_bytes=100, max_age=60)
    assert spool.store(report()) is None
    assert spool.entries() == []


def test_retry_after_holds_reports_and_replay_without_requests(seeded: OMStub, tmp_path: Path) -> None:
    rep = Worker(seeded.url, tmp_path)
    rep.spool.store(report(ts=T0))
    rep.spool.hold_for(30)  # a 429 with Retry-After: 30
    seeded.requests.clear()

    held = rep.report(report("load", ts=T0 + 1))
    assert held is None and rep.spool.backoff_until() > time.time(), "held by the Retry-After: nothing sent"
    assert seeded.requests == [], "no request while the server's Retry-After runs"
    assert len(rep.spool.entries()) == 2
    assert drain(rep.spool, rep.reporter.report, time.monotonic() + 5).delivered == 0

    # once the hold is over, the next report delivers and replays both
    Path(tmp_path, "spool", "backoff").write_text(f"{time.time() - 1:.3f}")
    result = rep.report(report("load", ts=T0 + 2))
    assert result is not None and result.error is None
    assert rep.spool.entries() == []
    assert set(statuses(seeded)) == {T0, T0 + 1, T0 + 2}


def test_retry_after_is_capped(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path), max_bytes=1 << 20, max_age=60)
    spool.store(report())
    before = time.time()
    spool.hold_for(10**9)
    took = time.time() - before
    assert 800 < spool.backoff_until() - before <= 900 + took + 0.001  # stored to the millisecond


def test_retry_after_of_a_kept_record_holds_the_spool(tmp_path: Path) -> None:
    """The Retry-After a delivery met comes back with the kept record and holds the next drains."""
    spool = Spool(str(tmp_path), max_bytes=1 << 20, max_age=60)
    spool.store(report())

    def throttled(
        rep: TaskReport, deadline: Optional[float] = None, replay: bool = False, status: bool = True
    ) -> Any:
        err = TransientError("HTTP 429", 429, retry_after=10**9)
        return ReportResult(error=str(err), failure=err)

    before = time.time()
    assert drain(spool, throttled).kept == 1
    took = time.time() - before
    assert 800 < spool.backoff_until() - before <= 900 + took + 0.001  # capped; stored to the millisecond


@pytest.mark.parametrize(
    ("header", "expected"),
    [("30", 30.0), (" 0 ", 0.0), (None, None), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_header_forms(header: Optional[str], expected: Optional[float]) -> None:
    assert retry_after_seconds(header) == expected


def test_retry_after_http_date_in_the_future() -> None:
    from email.utils import formatdate

    seconds = retry_after_seconds(formatdate(time.time() + 120, usegmt=True))
    assert seconds is not None and 110 < seconds <= 121


def test_replay_of_an_older_try_does_not_overwrite_a_newer_status(seeded: OMStub, tmp_path: Path) -> None:
    down = Worker(closed_url(), tmp_path)
    down.report(report("extract", ts=T0, state="failed", end=1))  # try 1 failed, undelivered
    (kept,) = down.spool.entries()
    up = Worker(seeded.url, tmp_path)
    # try 2 succeeded later and is delivered first (try 1's record is in another process's hands meanwhile);
    # the replay of try 1 must not turn it back to Failed
    newer = report("extract", ts=T0, state="success", end=500)
    newer = TaskReport(newer.dag, newer.run, "extract", (SRC,), (DST,), try_number=2)
    with claimed_elsewhere(kept):
        result = up.report(newer)
    assert result is not None and result.error is None
    up.delivery.drain(time.monotonic() + 5)  # the next drain on this worker replays try 1
    assert up.sent[-1][1] is True, "try 1 went out as a replay"
    assert up.spool.entries() == []
    assert statuses(seeded)[T0] == {"extract": "Successful"}


def test_replay_never_writes_an_older_dag_structure_back(seeded: OMStub, tmp_path: Path) -> None:
    down = Worker(closed_url(), tmp_path)
    down.report(report("extract", ts=T0))  # kept with the old two-task DAG
    (kept,) = down.spool.entries()
    newer_dag = DagInfo("etl", (*DAG.tasks, TaskInfo("publish", "BashOperator")))
    up = Worker(seeded.url, tmp_path)
    with claimed_elsewhere(kept):  # the newer DAG's report is delivered first
        result = up.report(report("publish", ts=T0 + 1, dag=newer_dag))
    assert result is not None and result.error is None
    assert up.delivery.drain(time.monotonic() + 5) == 1  # then the old record, as a replay
    assert up.spool.entries() == []
    pipeline_writes = [b for m, p, b, _ in seeded.requests if m == "POST" and p == "/v1/pipelines"]
    assert len(pipeline_writes) == 1 and not seeded.calls("PATCH")
    assert {t["name"] for t in seeded.pipelines["MWAA.etl"]["tasks"]} == {"extract", "load", "publish"}
    assert statuses(seeded)[T0] == {"extract": "Successful"}


def test_a_replay_the_server_rejects_is_dropped(
    seeded: OMStub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 400 on the replayed status (and on the reporter's one re-send) is a rejection, not an outage: the
    entry goes, with one log line, and the next entry is still replayed."""
    down = Worker(closed_url(), tmp_path)
    down.report(report(ts=T0))
    down.report(report(ts=T0 + 1))
    up = Worker(seeded.url, tmp_path)
    result = up.report(report("load", ts=T0 + 5))  # warm caches; the replay is ours to drive
    assert result is not None and result.error is None
    down.report(report(ts=T0 + 2))
    down.report(report(ts=T0 + 3))
    assert len(up.spool.entries()) == 2
    # the first entry's status call and the reporter's one retry (after re-sending the pipeline): both refused
    seeded.fail_next["/v1/pipelines/MWAA.etl/status"] = [400, 400]
    caplog.clear()
    stats = drain(up.spool, up.reporter.report, time.monotonic() + 5)
    assert (stats.delivered, stats.kept, stats.dropped) == (1, 0, 1)
    assert up.spool.entries() == []
    assert "the server rejected the report of etl.extract; dropped" in caplog.text
    assert T0 + 2 not in statuses(seeded) and statuses(seeded)[T0 + 3] == {"extract": "Successful"}


class _Raise:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc


class _ScriptedReporter:
    """Stands in for the reporter during a replay: answers each report with the next scripted outcome."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes, self.seen = list(outcomes), []  # type: list[Any], list[int]

    def report(
        self, rep: TaskReport, deadline: Optional[float] = None, replay: bool = False, status: bool = True
    ) -> Any:
        assert replay
        self.seen.append(rep.run.logical_date_ms)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, _Raise):
            raise outcome.exc
        if outcome is None:
            return ReportResult(status_sent=True)
        return ReportResult(error=str(outcome), failure=outcome)


def _spooled(tmp_path: Path, count: int, max_age: float = 3600) -> Spool:
    """`count` records kept after one failed delivery each (so they are delivered as replays)."""
    spool = Spool(str(tmp_path), max_bytes=1 << 20, max_age=max_age)
    for i in range(count):
        assert spool.store(report(ts=T0 + i), deliveries=1)
    return spool


@pytest.mark.parametrize(
    ("failure", "dropped"),
    [
        (ClientError("HTTP 400: bad request", 400), True),
        (ClientError("HTTP 409: conflict", 409), True),
        (ClientError("HTTP 403: forbidden", 403), False),  # credentials get fixed: keep it
        (ClientError("HTTP 401: unauthorized", 401), False),
        (TransientError("HTTP 503", 503), False),
    ],
)
def test_replay_drops_rejections_and_keeps_what_can_succeed_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, failure: ClientError, dropped: bool
) -> None:
    spool = _spooled(tmp_path, 2)
    names = spool.entries()
    fake = _ScriptedReporter(failure, None)
    stats = drain(spool, fake.report, time.monotonic() + 5)
    if dropped:
        assert (stats.delivered, stats.kept, stats.dropped) == (1, 0, 1)
        assert fake.seen == [T0, T0 + 1] and spool.entries() == []
        assert "the server rejected the report of etl.extract; dropped" in caplog.text
    else:
        assert (stats.delivered, stats.kept, stats.dropped) == (0, 1, 0)
        assert fake.seen == [T0] and spool.entries() == names, "kept in place, oldest first, replay stopped"
    assert not [n for n in os.listdir(tmp_path / "spool") if CLAIMED in n]


def test_an_entry_that_breaks_the_reporter_is_dropped_not_retried_forever(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = _spooled(tmp_path, 2)
    fake = _ScriptedReporter(_Raise(KeyError("taskStatus")), None)
    stats = drain(spool, fake.report, time.monotonic() + 5)
    assert (stats.delivered, stats.kept, stats.dropped) == (1, 0, 1)
    assert fake.seen == [T0, T0 + 1] and spool.entries() == []
    assert "dropped a record that failed with KeyError" in caplog.text
    assert "taskStatus" not in caplog.text, "the exception's text (which may carry data) is not logged"


def test_unreadable_entries_are_dropped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = _spooled(tmp_path, 1)
    directory = tmp_path / "spool"
    (directory / f"{time.time_ns() - 10**9:019d}-1-bad.json").write_text("{not json")
    (directory / f"{time.time_ns() - 10**9:019d}-2-old.json").write_text(json.dumps({"format": 99}))
    fake = _ScriptedReporter(None)
    stats = drain(spool, fake.report, time.monotonic() + 5)
    assert (stats.delivered, stats.kept, stats.dropped) == (1, 0, 2)
    assert fake.seen == [T0] and spool.entries() == []
    assert caplog.text.count("dropped an unreadable record") == 2


def test_an_entry_past_its_age_on_load_is_dropped_unsent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The age cap on load: the entry's own `created` decides, even when its name (which trim reads) looks
    fresh, e.g. a file copied or restored into the spool."""
    spool = _spooled(tmp_path, 2, max_age=60)
    first = Path(spool.entries()[0])
    data = json.loads(first.read_text())
    first.write_text(json.dumps({**data, "created": time.time() - 120}))
    fake = _ScriptedReporter(None)
    stats = drain(spool, fake.report, time.monotonic() + 5)
    assert (stats.delivered, stats.kept, stats.dropped) == (1, 0, 1)
    assert fake.seen == [T0 + 1], "the expired entry was never sent"
    assert "dropped a record older than spool_max_age" in caplog.text


def test_replay_respects_the_deadline(seeded: OMStub, tmp_path: Path) -> None:
    down = Worker(closed_url(), tmp_path)
    for i in range(3):
        down.report(report(ts=T0 + i))
    up = Worker(seeded.url, tmp_path)
    seeded.requests.clear()
    assert up.delivery.drain(time.monotonic()) == 0  # no time left: nothing starts
    stats = drain(up.spool, up.reporter.report, time.monotonic())
    assert stats.delivered == 0 and seeded.requests == []
    assert len(up.spool.entries()) == 3


def test_unwritable_spool_never_fails_the_report(
    seeded: OMStub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    rep = Worker(seeded.url, blocker)  # spool_dir is a file: every write fails
    assert rep.delivery.hand_off(report()) is True  # nothing kept, nothing raised: sent from memory
    assert "could not keep a report" in caplog.text
    assert statuses(seeded) == {T0: {"extract": "Successful"}}
    down = Worker(closed_url(), blocker)
    assert down.delivery.hand_off(report(ts=T0 + 1)) is True  # server down too: one attempt, nothing raised
    assert rep.spool.entries() == []


def _replay_worker(url: str, spool_dir: str, barrier: Any) -> None:
    rep = Worker(url, Path(spool_dir))
    barrier.wait()
    rep.delivery.drain(time.monotonic() + 10)


def test_concurrent_replayers_deliver_each_entry_once(seeded: OMStub, tmp_path: Path) -> None:
    down = Worker(closed_url(), tmp_path)
    for i in range(12):
        down.report(report(ts=T0 + i))
    up = Worker(seeded.url, tmp_path)
    assert len(up.spool.entries()) == 12
    up.reporter.entities.ensure_service(time.monotonic() + 5)  # warm caches: replays send status + edges
    seeded.requests.clear()
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_replay_worker, args=(seeded.url, str(tmp_path), barrier)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert up.spool.entries() == []
    status_puts = [b["timestamp"] for m, p, b, _ in seeded.requests if m == "PUT" and p.endswith("/status")]
    assert sorted(status_puts) == [T0 + i for i in range(12)], "each kept report replayed exactly once"


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize(
    ("owner", "age", "given_back"),
    [
        ("live", 600, True),  # a drainer that hung past CLAIM_STALE_SECONDS
        ("dead", 0, True),  # a drainer killed mid-delivery
        ("live", 0, False),  # a drainer at work: not taken from it
    ],
)
def test_stale_claims_are_given_back(tmp_path: Path, owner: str, age: float, given_back: bool) -> None:
    spool = Spool(str(tmp_path), max_bytes=1 << 20, max_age=3600)
    spool.store(report())
    path = spool.entries()[0]
    claimed = f"{path}{CLAIMED}{os.getpid() if owner == 'live' else _dead_pid()}"
    os.rename(path, claimed)
    os.utime(claimed, (time.time() - age, time.time() - age))
    spool.trim()
    assert spool.entries() == ([path] if given_back else [])
    assert os.path.exists(claimed) is not given_back


def test_spool_holds_no_option_values(tmp_path: Path) -> None:
    canary = "CANARY-spool-secret-4711"
    get = mapping_getter(
        {
            "airflow_service_name": "MWAA",
            "openmetadata_api_endpoint": closed_url(),
            "auth_provider_type": "openmetadata",
            "jwt_token": canary,
            "spool_dir": str(tmp_path),
            "timeout": "1",
        }
    )
    delivery = runtime.build_delivery(get, background=False)
    assert delivery.hand_off(report())
    files = [f for f in (tmp_path / "spool").rglob("*") if f.is_file()]
    assert any(f.name.endswith(".json") for f in files)
    for f in files:
        assert canary not in f.read_text(errors="replace")


def test_config_spool_caps() -> None:
    base = {"airflow_service_name": "MWAA", "openmetadata_api_endpoint": "http://om:8585/api"}
    config = load_config(mapping_getter(base))
    assert (config.spool_max_bytes, config.spool_max_age) == (10 * 1024 * 1024, 86400.0)
    config = load_config(mapping_getter({**base, "spool_max_bytes": "2048", "spool_max_age": "600"}))
    assert (config.spool_max_bytes, config.spool_max_age) == (2048, 600.0)
    with pytest.raises(ConfigError) as err:
        load_config(mapping_getter({**base, "spool_max_bytes": "lots"}))
    assert err.value.key == "spool_max_bytes"


def test_runtime_wires_the_spool(tmp_path: Path) -> None:
    get = mapping_getter(
        {
            "airflow_service_name": "MWAA",
            "openmetadata_api_endpoint": closed_url(),
            "spool_dir": str(tmp_path),
        }
    )
    delivery = runtime.build_delivery(get, background=False)
    assert delivery.reporter is not None and delivery.deliver == delivery.reporter.report
    # this deployment's folder of the worker's spool
    key = deployment_key(delivery.reporter.config.endpoint, "MWAA")
    assert delivery.spool.directory == str(tmp_path / "spool" / key)
    logging.getLogger("airflow_openmetadata_lineage").setLevel(logging.INFO)
    assert delivery.hand_off(report())
    assert len(delivery.spool.entries()) == 1


def _first_report_worker(url: str, spool_dir: str, barrier: Any, index: int) -> None:
    rep = Worker(url, Path(spool_dir))
    barrier.wait()
    rep.report(report("extract", ts=T0 + index))


def test_concurrent_first_reports_write_service_and_pipeline_once(seeded: OMStub, tmp_path: Path) -> None:
    seeded.delay = 0.05  # every answer takes a while: the others must wait for it, not send their own
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(6)
    procs = [
        ctx.Process(target=_first_report_worker, args=(seeded.url, str(tmp_path), barrier, i))
        for i in range(6)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    calls = [f"{m} {p.split('?')[0]}" for m, p, _, _ in seeded.requests]
    assert calls.count("POST /v1/services/pipelineServices") == 1
    assert calls.count("GET /v1/services/pipelineServices/name/MWAA") == 1
    assert calls.count("POST /v1/pipelines") == 1
    assert calls.count("GET /v1/system/version") == 1
    assert calls.count(f"GET /v1/tables/name/{SRC}") == 1
    assert len(statuses(seeded)) == 6


def _missing_table_worker(url: str, spool_dir: str, barrier: Any, index: int) -> None:
    rep = Worker(url, Path(spool_dir))
    barrier.wait()
    run = RunInfo("etl", f"run_{index}", T0 + index, "running", (TaskRunInfo("extract", "success", T0, T0),))
    rep.report(TaskReport(DAG, run, "extract", ("db.d.s.missing",), (DST,)))


def test_a_missing_table_is_looked_up_once_per_worker(seeded: OMStub, tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(6)
    args = [(seeded.url, str(tmp_path), barrier, i) for i in range(6)]
    procs = [ctx.Process(target=_missing_table_worker, args=a) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    calls = [p for m, p, _, _ in seeded.requests if m == "GET" and p.startswith("/v1/tables/name/")]
    assert calls.count("/v1/tables/name/db.d.s.missing") == 1, calls
    assert len(statuses(seeded)) == 6 and not seeded.edges


WIDE = DagInfo("etl", tuple(TaskInfo(f"t{i}", "PythonOperator") for i in range(8)))


def _incomplete_status_worker(url: str, spool_dir: str, barrier: Any, index: int) -> None:
    rep = Worker(url, Path(spool_dir))
    run = RunInfo("etl", "r1", T0, "running", (TaskRunInfo(f"t{index}", "success", T0, T0 + 1),), False)
    rep.reporter.entities.ensure_service(time.monotonic() + 5)
    rep.reporter.entities.ensure_pipeline(TaskReport(WIDE, run, f"t{index}"), time.monotonic() + 5)
    barrier.wait()
    rep.report(TaskReport(WIDE, run, f"t{index}"))


def test_concurrent_incomplete_reports_keep_every_task_status(stub: OMStub, tmp_path: Path) -> None:
    """Airflow 3 task processes (and replays) merge with the stored run status: on one worker they take turns,
    so no task's state is lost to a concurrent read-merge-write."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(8)
    args = [(stub.url, str(tmp_path), barrier, i) for i in range(8)]
    procs = [ctx.Process(target=_incomplete_status_worker, args=a) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    kept = {s["name"]: s["executionStatus"] for s in stub.statuses["MWAA.etl"][T0]["taskStatus"]}
    assert kept == {f"t{i}": "Successful" for i in range(8)}
