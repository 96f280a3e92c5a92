"""delivery.py: the hand-off returns before the server is called, a killed process loses nothing, a hanging
resolver holds nobody, records stay with their deployment, tries arrive in order, exits wait only where
asked to."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from omlineage_devkit.ports import closed_url

from airflow_openmetadata_lineage.auth.noauth import NoAuthProvider
from airflow_openmetadata_lineage.client import OpenMetadataClient
from airflow_openmetadata_lineage.config import LineageConfig, deployment_key
from airflow_openmetadata_lineage.delivery import QUIET_SECONDS, Delivery
from airflow_openmetadata_lineage.model import DagInfo, RunInfo, TaskInfo, TaskReport, TaskRunInfo
from airflow_openmetadata_lineage.reporter import Reporter
from airflow_openmetadata_lineage.spool import Spool
from omstub import OMStub

T0 = 1_700_000_000_000
DAG = DagInfo("etl", (TaskInfo("extract", "PythonOperator", ("load",)), TaskInfo("load", "PythonOperator")))
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/src"


def report(task: str = "extract", state: str = "success", ts: int = T0, try_number: int = 1) -> TaskReport:
    run = RunInfo("etl", f"run_{ts}", ts, "running", (TaskRunInfo(task, state, ts, ts + try_number),), False)
    return TaskReport(DAG, run, task, try_number=try_number)


def config(url: str, spool_dir: Path, budget: float = 5.0) -> LineageConfig:
    return LineageConfig(
        service_name="MWAA",
        endpoint=url,
        auth_provider_type="no-auth",
        options={},
        spool_dir=str(spool_dir),
        timeout=2.0,
        time_budget=budget,
    )


def delivery(
    url: str, spool_dir: Path, background: bool = True, budget: float = 5.0, quiet: float = QUIET_SECONDS
) -> Delivery:
    """What runtime.build_delivery makes of a config, for one deployment."""
    cfg = config(url, spool_dir, budget)
    reporter = Reporter(cfg, OpenMetadataClient(cfg, NoAuthProvider(cfg)))
    spool = Spool(str(spool_dir), 1 << 20, 3600.0, deployment=deployment_key(url, "MWAA"))
    return Delivery(spool, reporter.report, budget, background=background, quiet=quiet)


def status_puts(stub: OMStub) -> list[dict[str, Any]]:
    return [b for m, p, b, _ in stub.requests if m == "PUT" and p.endswith("/status")]


def task_states(stub: OMStub) -> dict[str, str]:
    rows = stub.statuses.get("MWAA.etl", {})
    return {s["name"]: s["executionStatus"] for body in rows.values() for s in body["taskStatus"]}


class Gate:
    """Holds the stub's status PUTs until opened; `refuse` answers them 503 instead (as if never received)."""

    def __init__(self, stub: OMStub) -> None:
        self.open = threading.Event()
        self.arrived = threading.Event()
        self.refuse = False
        handle: Callable[..., tuple[int, Any]] = stub.handle

        def gated(method: str, path: str, body: Any, auth: Optional[str]) -> tuple[int, Any]:
            if method == "PUT" and path.split("?")[0].endswith("/status"):
                self.arrived.set()
                self.open.wait(20)
                if self.refuse:
                    return 503, {"message": "refused by the test"}
            return handle(method, path, body, auth)

        stub.handle = gated  # type: ignore[method-assign]


def test_hand_off_returns_before_the_server_is_called(stub: OMStub, tmp_path: Path) -> None:
    gate = Gate(stub)
    lineage = delivery(stub.url, tmp_path)
    assert lineage.hand_off(report())
    # Back in the task while the status PUT is still held by the server: nothing waited for it.
    assert status_puts(stub) == [] and not gate.open.is_set()
    assert len(lineage.spool.entries()) + lineage.pending() >= 1
    gate.open.set()
    assert lineage.settle(time.monotonic() + 10)
    assert task_states(stub) == {"extract": "Successful"}
    assert lineage.spool.entries() == []


def test_settle_waits_at_most_until_its_deadline(stub: OMStub, tmp_path: Path) -> None:
    gate = Gate(stub)
    lineage = delivery(stub.url, tmp_path)
    lineage.hand_off(report())
    assert gate.arrived.wait(10)
    assert (
        lineage.settle(time.monotonic() + 0.3) is False
    )  # still in flight: settle gives up, the task goes on
    gate.open.set()
    assert lineage.settle(time.monotonic() + 10) is True


def test_a_hand_off_before_the_commit_holds_the_thread_until_released(stub: OMStub, tmp_path: Path) -> None:
    """Airflow 2's backend hands off before Airflow commits the task's state: the thread sends nothing (and
    so takes no GIL from the task's path) until the success hook releases it."""
    lineage = delivery(stub.url, tmp_path)
    assert lineage.hand_off(report(), hold=True)
    time.sleep(0.5)
    assert stub.requests == [], "nothing may be sent before the state is committed"
    assert len(lineage.spool.entries()) == 1  # kept durably meanwhile
    lineage.release()
    assert lineage.settle(time.monotonic() + 10)
    assert task_states(stub) == {"extract": "Successful"}


def test_a_hold_nobody_releases_ends_after_one_time_budget(stub: OMStub, tmp_path: Path) -> None:
    lineage = delivery(stub.url, tmp_path, budget=0.6)
    started = time.monotonic()
    assert lineage.hand_off(report(), hold=True)
    deadline = started + 5
    while not status_puts(stub) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert status_puts(stub), "a hold is bounded by the time budget"
    assert time.monotonic() - started >= 0.6


def test_settle_ends_a_hold(stub: OMStub, tmp_path: Path) -> None:
    lineage = delivery(stub.url, tmp_path, budget=30.0)
    assert lineage.hand_off(report(), hold=True)
    started = time.monotonic()
    assert lineage.settle(time.monotonic() + 10)
    assert time.monotonic() - started < 5 and task_states(stub) == {"extract": "Successful"}


def _hand_off_then_hang(url: str, spool_dir: str, ready: Any) -> None:
    lineage = delivery(url, Path(spool_dir))
    lineage.hand_off(report())
    ready.set()
    time.sleep(60)


def test_a_process_killed_right_after_the_hand_off_loses_nothing(stub: OMStub, tmp_path: Path) -> None:
    gate = Gate(stub)
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    child = ctx.Process(target=_hand_off_then_hang, args=(stub.url, str(tmp_path), ready))
    child.start()
    assert ready.wait(20) and gate.arrived.wait(20)  # handed off, and its delivery is in flight
    os.kill(child.pid or 0, signal.SIGKILL)
    child.join(10)
    gate.refuse = True  # what the killed process sent never counts
    gate.open.set()
    assert task_states(stub) == {}

    # The next report on the worker (a new process) finds the dead process's claim and delivers it.
    gate.refuse = False
    survivor = delivery(stub.url, tmp_path, background=False)
    assert survivor.drain(time.monotonic() + 10) == 1
    assert task_states(stub) == {"extract": "Successful"}
    assert survivor.spool.entries() == [] and not list(Path(survivor.spool.directory).glob("*claimed*"))


def test_a_hanging_name_resolver_holds_no_task(
    stub: OMStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = socket.getaddrinfo

    def hanging(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "om.example.invalid":
            release.wait(30)
            raise socket.gaierror("released by the test")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    lineage = delivery("http://om.example.invalid:8585/api", tmp_path, budget=0.5)
    started = time.monotonic()
    assert lineage.hand_off(report())
    lineage.settle(started + 0.5)
    held = time.monotonic() - started
    release.set()
    assert held < 3.0, f"the task was held {held:.1f}s by name resolution"
    assert lineage.settle(time.monotonic() + 10)
    assert len(lineage.spool.entries()) == 1  # kept for a later drain, not lost


def test_records_stay_with_their_deployment(stub: OMStub, tmp_path: Path) -> None:
    other = OMStub()
    try:
        down = delivery(closed_url(), tmp_path, background=False)  # deployment A, its server down
        down.hand_off(report())
        assert len(down.spool.entries()) == 1
        # Deployment B shares the host and the spool_dir: it must not deliver A's record to its server.
        b = delivery(other.url, tmp_path, background=False)
        b.hand_off(report("load"))
        assert b.drain(time.monotonic() + 5) == 0
        assert task_states(other) == {"load": "Successful"}
        assert len(down.spool.entries()) == 1
        assert down.spool.directory != b.spool.directory
    finally:
        other.close()


def test_tries_of_a_task_instance_arrive_in_order(stub: OMStub, tmp_path: Path) -> None:
    stub.fail_next["/v1/system"] = [503]
    lineage = delivery(stub.url, tmp_path, background=False)
    lineage.hand_off(report(state="up_for_retry", try_number=1))  # the server is down: kept
    assert len(lineage.spool.entries()) == 1
    lineage.hand_off(report(state="success", try_number=2))  # up again: try 1 first, then try 2
    order = [
        s["executionStatus"] for b in status_puts(stub) for s in b["taskStatus"] if s["name"] == "extract"
    ]
    assert order == ["Pending", "Successful"]
    assert task_states(stub) == {"extract": "Successful"}


def test_the_same_try_is_handed_off_once(stub: OMStub, tmp_path: Path) -> None:
    lineage = delivery(stub.url, tmp_path, background=False)
    assert lineage.hand_off(report()) is True
    assert lineage.hand_off(report()) is False
    assert lineage.hand_off(report(), claim=False) is True  # a run's final record may be written again
    assert len(status_puts(stub)) == 2


EXIT_SCRIPT = """
import sys, time
sys.path[:0] = [{src!r}, {tests!r}]
from test_delivery import delivery, report
from pathlib import Path
lineage = delivery({url!r}, Path({spool!r}))
lineage.hand_off(report(), wait_at_exit={wait})
"""


@pytest.mark.parametrize("wait", [True, False])
def test_a_normal_exit_waits_only_for_records_that_asked(stub: OMStub, tmp_path: Path, wait: bool) -> None:
    stub.delay = 0.3  # every request a little slow: without the exit wait, the process is gone first
    code = EXIT_SCRIPT.format(
        src=SRC, tests=str(Path(__file__).parent), url=stub.url, spool=str(tmp_path), wait=wait
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env={**os.environ})
    spool = Spool(str(tmp_path), 1 << 20, 3600.0, deployment=deployment_key(stub.url, "MWAA"))
    if wait:
        assert task_states(stub) == {"extract": "Successful"} and spool.entries() == []
    else:
        time.sleep(0.5)  # let a request the dying process started land, if any
        left = spool.entries() + [str(p) for p in Path(spool.directory).glob("*claimed*")]
        assert task_states(stub) == {} and len(left) == 1, "kept for the next drain"


def test_a_record_is_small_and_holds_no_option_value(stub: OMStub, tmp_path: Path) -> None:
    cfg_secret = "s3cr3t-value"
    lineage = delivery(closed_url(), tmp_path, background=False)
    lineage.hand_off(report())
    [path] = lineage.spool.entries()
    text = Path(path).read_text()
    assert cfg_secret not in text and len(text) < 4096
    assert json.loads(text)["deliveries"] == 1  # one attempt already failed


CHAIN = DagInfo(
    "etl",
    (
        TaskInfo("extract", "PythonOperator", ("load",)),
        TaskInfo("load", "PythonOperator", ("publish",)),
        TaskInfo("publish", "PythonOperator"),
    ),
)


def chain_report(task: str, states: dict[str, str], ts: int = T0) -> TaskReport:
    """What the adapter hands off when `task` finishes: every task's state as the metadata DB had it."""
    runs = tuple(TaskRunInfo(t, s, ts, ts + 1) for t, s in states.items())
    n = [t.task_id for t in CHAIN.tasks].index(task)
    return TaskReport(
        CHAIN, RunInfo("etl", f"run_{ts}", ts, "running", runs), task, (f"db.s.t{n}",), (f"db.s.t{n + 1}",)
    )


def test_a_backlog_of_one_run_sends_one_status_and_every_edge(stub: OMStub, tmp_path: Path) -> None:
    """Behind a server that was down, the run's newest record carries every older record's task state: the
    older ones send only their edges, and the run's status is written once, complete."""
    stub.seed_tables(*(f"db.s.t{n}" for n in range(4)))
    lineage = delivery(stub.url, tmp_path, background=False)
    stub.fail_next["/v1/system"] = [503]
    lineage.hand_off(chain_report("extract", {"extract": "success", "load": "queued"}))  # down: kept
    lineage.spool.store(chain_report("load", {"extract": "success", "load": "success", "publish": "queued"}))
    lineage.spool.store(
        chain_report("publish", {"extract": "success", "load": "success", "publish": "success"})
    )
    assert len(lineage.spool.entries()) == 3
    assert lineage.drain() == 3
    assert len(status_puts(stub)) == 1, "the two older statuses are replaced by the newest one"
    assert task_states(stub) == {"extract": "Successful", "load": "Successful", "publish": "Successful"}
    assert len(stub.edges) == 3, "every record's edge is sent"
    assert lineage.spool.entries() == []


def test_a_newer_record_that_read_a_task_before_its_commit_does_not_fold_it(
    stub: OMStub, tmp_path: Path
) -> None:
    """The newer record read `load` as still running (its commit came later): load's own status is sent
    first, then the newer record's as it read it (the run's final record settles `load` later)."""
    stub.seed_tables(*(f"db.s.t{n}" for n in range(4)))
    lineage = delivery(stub.url, tmp_path, background=False)
    stub.fail_next["/v1/system"] = [503]
    lineage.hand_off(chain_report("load", {"extract": "success", "load": "success"}))
    lineage.spool.store(chain_report("extract", {"extract": "success", "load": "running"}))
    lineage.drain()
    first, second = status_puts(stub)
    assert {s["name"]: s["executionStatus"] for s in first["taskStatus"]}["load"] == "Successful"
    assert {s["name"]: s["executionStatus"] for s in second["taskStatus"]}["load"] == "Pending"


def _chain_states(upto: int) -> dict[str, str]:
    names = [t.task_id for t in CHAIN.tasks]
    return {name: "success" if i <= upto else "queued" for i, name in enumerate(names)}


def test_hand_offs_in_quick_succession_wait_for_a_pause_then_send_one_status(
    stub: OMStub, tmp_path: Path
) -> None:
    """A process that runs tasks one after another (`dags test`): the thread sends nothing while the
    hand-offs keep coming (no GIL taken from the next task), then the run's newest record carries them all."""
    stub.seed_tables(*(f"db.s.t{n}" for n in range(4)))
    lineage = delivery(stub.url, tmp_path, quiet=2.0)
    lineage.max_defer = 10.0
    for n, task in enumerate(t.task_id for t in CHAIN.tasks):
        assert lineage.hand_off(chain_report(task, _chain_states(n)), hold=True)
        lineage.release()  # the success hook, after the commit
        time.sleep(0.05)
    assert stub.requests == [], "nothing is sent while tasks keep finishing"
    deadline = time.monotonic() + 10
    while len(stub.edges) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)  # the pause: delivered without anyone settling
    assert lineage.settle(time.monotonic() + 10)
    assert len(status_puts(stub)) == 1
    assert task_states(stub) == {"extract": "Successful", "load": "Successful", "publish": "Successful"}
    assert len(stub.edges) == 3 and lineage.spool.entries() == []


def test_a_pause_that_never_comes_delays_delivery_at_most_max_defer(stub: OMStub, tmp_path: Path) -> None:
    lineage = delivery(stub.url, tmp_path, budget=1.0, quiet=0.5)  # max_defer: min(2 s, the budget)
    started = time.monotonic()
    first_put = None
    ts = T0
    while time.monotonic() - started < 3.0:
        ts += 1
        lineage.hand_off(report(ts=ts))
        if first_put is None and status_puts(stub):
            first_put = time.monotonic() - started
        time.sleep(0.05)
    assert first_put is not None and first_put < 2.0, first_put
    assert lineage.settle(time.monotonic() + 20)


def test_a_failure_is_sent_without_waiting_for_a_pause(stub: OMStub, tmp_path: Path) -> None:
    lineage = delivery(stub.url, tmp_path, quiet=60.0)
    lineage.max_defer = 60.0  # without release(now=True) nothing would go for a minute
    assert lineage.hand_off(report(state="failed"), hold=True)
    lineage.release(now=True)  # the failure hook: no later moment to wait for
    deadline = time.monotonic() + 15
    while not status_puts(stub) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert task_states(stub) == {"extract": "Failed"}


def test_settle_does_not_wait_for_a_pause(stub: OMStub, tmp_path: Path) -> None:
    lineage = delivery(stub.url, tmp_path, quiet=60.0)
    lineage.max_defer = 60.0
    assert lineage.hand_off(report())
    assert lineage.settle(time.monotonic() + 15)
    assert task_states(stub) == {"extract": "Successful"}


def test_a_record_leaves_its_status_only_to_a_newer_one_that_goes_fresh(stub: OMStub, tmp_path: Path) -> None:
    """A newer record kept after a failed attempt goes as a replay: merged with the server's copy, where a
    terminal state the server holds (an earlier try's) beats what it carries. The older one sends its own."""
    stub.seed_tables(*(f"db.s.t{n}" for n in range(4)))
    lineage = delivery(stub.url, tmp_path, background=False)
    lineage.spool.store(chain_report("extract", {"extract": "success", "load": "queued"}))
    lineage.spool.store(chain_report("load", {"extract": "success", "load": "success"}), deliveries=1)
    assert lineage.drain() == 2
    assert len(status_puts(stub)) == 2, "the kept newer record is no carrier"
    assert task_states(stub) == {"extract": "Successful", "load": "Successful"}
