"""The listener (issue 6) against the OMStub: hook signatures versus the real 2.x/3.x specs, one report
per task try with the backend, failures, the Airflow 3 task-SDK path, never raising, cheap import.

Task instances here are small fakes read by attribute, like adapter.py reads Airflow's; real Airflow runs
are in tests/airflow3/.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

import pluggy
import pytest

from airflow_openmetadata_lineage import adapter, backend, config, listener, runtime
from airflow_openmetadata_lineage.delivery import Delivery
from conftest import VENVS, need
from omstub import OMStub

RUN_ID = "manual__2024-01-02T00:00:00+00:00"
LOGICAL = datetime(2024, 1, 2, tzinfo=timezone.utc)
LOGICAL_MS = 1704153600000
T0 = datetime(2024, 1, 2, 0, 5, tzinfo=timezone.utc)


# -- fakes shaped like Airflow's objects ---------------------------------------------------------------------


class FakeTask:
    def __init__(self, task_id: str, downstream: tuple[str, ...] = (), inlets: Any = (), outlets: Any = ()):
        self.task_id, self.task_type, self.downstream_task_ids = task_id, "PythonOperator", set(downstream)
        self.inlets, self.outlets = list(inlets), list(outlets)
        self.dag: Any = None


class FakeDag:
    def __init__(self, *tasks: FakeTask) -> None:
        self.dag_id, self.tasks, self.description = "orders", list(tasks), None
        for task in tasks:
            task.dag = self


class FakeTI:
    def __init__(self, task: FakeTask, state: Optional[str], try_number: int = 1) -> None:
        self.task, self.task_id, self.dag_id, self.run_id = task, task.task_id, "orders", RUN_ID
        self.state, self.try_number, self.map_index = state, try_number, -1
        self.start_date, self.end_date = (T0, T0) if state else (None, None)
        self.dag_run: Any = None

    def get_dagrun(self, session: Any = None) -> Any:
        return self.dag_run


class FakeDagRun:
    def __init__(self, tis: list[FakeTI]) -> None:
        self.dag_id, self.run_id, self.logical_date, self.state = "orders", RUN_ID, LOGICAL, "running"
        self.tis = tis
        for ti in tis:
            ti.dag_run = self

    def get_task_instances(self, session: Any = None) -> list[FakeTI]:
        self.queries = getattr(self, "queries", 0) + 1
        return self.tis


class FakeRuntimeTI(FakeTI):
    """Airflow 3's RuntimeTaskInstance: no get_dagrun/DB; the run came with the task, states via the SDK."""

    def __init__(self, task: FakeTask, state: str, states: dict[str, Optional[str]]) -> None:
        super().__init__(task, state)
        run = FakeDagRun([])
        self._ti_context_from_server = type("Ctx", (), {"dag_run": run})()
        self._states = states
        self.asked: list[dict[str, Any]] = []

    def get_dagrun(self, session: Any = None) -> Any:
        raise AssertionError("an Airflow 3 task process has no metadata DB")

    def get_task_states(self, **query: Any) -> dict[str, Any]:
        self.asked.append(query)
        return {RUN_ID: self._states}


def three_tasks() -> tuple[FakeDag, dict[str, FakeTask]]:
    tasks = {
        "extract": FakeTask("extract", ("load",), [{"tables": ["db.s.c.a"]}], [{"tables": ["db.s.c.b"]}]),
        "load": FakeTask("load", ("report",), [{"tables": ["db.s.c.b"]}], [{"tables": ["db.s.c.c"]}]),
        "report": FakeTask("report"),
    }
    return FakeDag(*tasks.values()), tasks


@pytest.fixture
def delivery(stub: OMStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Delivery:
    """The process's delivery, delivering in the hook's thread (background=False): when a hook returns, what
    it handed off has been sent (or kept)."""
    stub.seed_tables("db.s.c.a", "db.s.c.b", "db.s.c.c")
    options = {
        "airflow_service_name": "af",
        "openmetadata_api_endpoint": stub.url,
        "airflow_base_url": "http://airflow:8080",
        "spool_dir": str(tmp_path / "spool"),
        "time_budget": "5",
    }
    built = runtime.build_delivery(config.mapping_getter(options), background=False)
    monkeypatch.setattr(runtime, "get_delivery", lambda: built)
    return built


def status_puts(stub: OMStub) -> list[dict[str, Any]]:
    return [body for method, path, body, _ in stub.calls("PUT") if path.endswith("/status")]


def task_states(body: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["executionStatus"] for s in body["taskStatus"]}


# -- hook signatures: checked against the real specs of both majors ------------------------------------------


def _spec_module(venv: str, name: str = "taskinstance") -> ModuleType:
    matches = sorted((VENVS / venv).glob(f"lib/python*/site-packages/airflow/listeners/spec/{name}.py"))
    path = need(matches[0] if matches else VENVS / venv / "airflow-spec-missing", f"Airflow in .venvs/{venv}")
    spec = importlib.util.spec_from_file_location(f"_spec_{venv}_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imports pluggy only; the rest is under TYPE_CHECKING
    return module


LEGACY_SPEC = """
from pluggy import HookspecMarker

hookspec = HookspecMarker("airflow")


@hookspec
def on_task_instance_success(previous_state, task_instance, session):
    pass


@hookspec
def on_task_instance_failed(previous_state, task_instance, session):
    pass


@hookspec
def on_dag_run_success(dag_run, msg):
    pass


@hookspec
def on_dag_run_failed(dag_run, msg):
    pass
"""  # Airflow 2.7-2.9 (MWAA 2.7.2-2.9.2): no `error` yet; not installable next to 2.10 here


def _legacy_spec_module(tmp_path: Path) -> ModuleType:
    path = tmp_path / "legacy_spec.py"
    path.write_text(LEGACY_SPEC)
    spec = importlib.util.spec_from_file_location("_spec_legacy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _specs(spec_of: str, tmp_path: Path) -> list[ModuleType]:
    if spec_of == "legacy":
        return [_legacy_spec_module(tmp_path)]
    return [_spec_module(spec_of), _spec_module(spec_of, "dagrun")]


def _manager(specs: list[ModuleType]) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("airflow")
    for module in specs:
        pm.add_hookspecs(module)
    return pm


@pytest.mark.parametrize(
    ("spec_of", "expected"),
    [
        ("airflow2", listener.Airflow2Listener),
        ("legacy", listener.Airflow2LegacyListener),
        ("airflow3", listener.Airflow3Listener),
    ],
)
def test_the_listener_fits_each_real_spec(spec_of: str, expected: type, tmp_path: Path) -> None:
    specs = _specs(spec_of, tmp_path)
    chosen = listener.select_listener(specs[0])
    assert chosen is expected
    pm = _manager(specs)
    pm.register(chosen())  # pluggy validates the hook arguments against the spec here
    pm.check_pending()
    for hook in (*listener.HOOKS, "on_dag_run_success", "on_dag_run_failed"):
        assert len(getattr(pm.hook, hook).get_hookimpls()) == 1, hook
    fallback = _manager(specs)  # the shape used when the spec module cannot be found
    fallback.register(listener.MinimalListener())
    fallback.check_pending()
    # why one class per shape: pluggy refuses a hook that names an argument the spec lacks
    for other in listener.LISTENERS[: listener.LISTENERS.index(expected)]:
        with pytest.raises(pluggy.PluginValidationError):
            _manager(specs).register(other())


def test_listener_hooks_get_what_each_version_passes(
    stub: OMStub, delivery: Delivery, tmp_path: Path
) -> None:
    """Call the hooks the way Airflow does: pluggy, keyword arguments of the real spec."""
    _, tasks = three_tasks()
    for spec_of, kwargs in (
        ("airflow2", {"error": RuntimeError("x"), "session": None}),
        ("airflow3", {"error": RuntimeError("x")}),
        ("legacy", {"session": None}),
    ):
        specs = _specs(spec_of, tmp_path)
        pm = _manager(specs)
        pm.register(listener.select_listener(specs[0])())
        ti = FakeTI(tasks["load"], "failed", try_number=len(status_puts(stub)) + 1)
        FakeDagRun([ti])
        pm.hook.on_task_instance_failed(previous_state="running", task_instance=ti, **kwargs)
    assert [task_states(s)["load"] for s in status_puts(stub)] == ["Failed"] * 3


def test_failed_state_before_2_10_asks_the_retry_rule() -> None:
    class Running(FakeTI):
        def is_eligible_to_retry(self) -> bool:
            return self.try_number <= 1

    _, tasks = three_tasks()
    assert listener.failed_state(Running(tasks["load"], "running", try_number=1)) == "up_for_retry"
    assert listener.failed_state(Running(tasks["load"], "running", try_number=2)) == "failed"
    assert listener.failed_state(FakeTI(tasks["load"], "up_for_retry")) == "up_for_retry"


def airflow_python(code: str, home: Path) -> str:
    """Run `code` in this venv's python with a throw-away AIRFLOW_HOME (keeps Airflow out of this process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


def test_plugin_registers_the_listener_with_airflow(tmp_path: Path) -> None:
    code = (
        "from airflow.listeners.listener import get_listener_manager\n"
        "from airflow import plugins_manager\n"
        "hooks = get_listener_manager().pm.hook\n"  # loads plugins through the entry point
        "names = [p.name for p in plugins_manager.plugins or []]\n"
        "ours = [type(i.plugin).__name__ for h in (hooks.on_task_instance_success,"
        " hooks.on_task_instance_failed) for i in h.get_hookimpls()"
        " if type(i.plugin).__module__.startswith('airflow_openmetadata_lineage')]\n"
        "print(names.count('openmetadata_lineage'), ours)\n"
    )
    assert airflow_python(code, tmp_path) == "1 ['Airflow2Listener', 'Airflow2Listener']"


# -- Airflow 2: backend + listener, failures -----------------------------------------------------------------


def test_backend_then_listener_report_once(stub: OMStub, delivery: Delivery) -> None:
    dag, tasks = three_tasks()
    ti = FakeTI(tasks["extract"], "running")
    run = FakeDagRun([ti, FakeTI(tasks["load"], None), FakeTI(tasks["report"], None)])
    context = {"ti": ti, "dag_run": run, "dag": dag}

    backend.OpenMetadataLineageBackend().send_lineage(operator=tasks["extract"], context=context)
    ti.state = "success"  # Airflow saves the state, then calls the listener
    queries_after_backend = run.queries
    listener.Airflow2Listener().on_task_instance_success(None, ti, session=None)
    assert run.queries == queries_after_backend, "the listener re-read the run for a try already reported"

    [status] = status_puts(stub)
    assert task_states(status) == {"extract": "Successful", "load": "Pending", "report": "Pending"}
    assert len(stub.calls("PUT", "/v1/lineage")) == 1
    # the next try is a new report
    ti.try_number = 2
    listener.Airflow2Listener().on_task_instance_success(None, ti, session=None)
    assert len(status_puts(stub)) == 2


def _threaded_delivery(stub: OMStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Delivery:
    """The process's delivery with its background thread, as in a task process (time budget 30 s)."""
    options = {
        "airflow_service_name": "af",
        "openmetadata_api_endpoint": stub.url,
        "spool_dir": str(tmp_path / "spool"),
        "time_budget": "30",
    }
    built = runtime.build_delivery(config.mapping_getter(options), background=True)
    assert built is not None
    monkeypatch.setattr(runtime, "get_delivery", lambda: built)
    return built


def test_the_success_hook_releases_the_backends_held_record(
    stub: OMStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the delivery thread (as in a task process): the backend's record waits for the success hook, and
    goes once the hand-offs pause after it (delivery.QUIET_SECONDS), not one time budget (here 30 s) later."""
    stub.seed_tables("db.s.c.a", "db.s.c.b", "db.s.c.c")
    built = _threaded_delivery(stub, tmp_path, monkeypatch)
    dag, tasks = three_tasks()
    ti = FakeTI(tasks["extract"], "running")
    run = FakeDagRun([ti, FakeTI(tasks["load"], None), FakeTI(tasks["report"], None)])
    backend.OpenMetadataLineageBackend().send_lineage(
        operator=tasks["extract"], context={"ti": ti, "dag_run": run, "dag": dag}
    )
    time.sleep(0.3)
    assert status_puts(stub) == [], "held until Airflow has committed the success"
    ti.state = "success"
    listener.Airflow2Listener().on_task_instance_success(None, ti, session=None)
    deadline = time.monotonic() + 10
    while not status_puts(stub) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [task_states(body)["extract"] for body in status_puts(stub)] == ["Successful"]
    assert built.settle(time.monotonic() + 10)


def test_the_failure_hook_sends_at_once(
    stub: OMStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure is not left for a pause in the hand-offs (on Airflow 2's forked runner the process leaves
    without one, before the next task on the worker would replay it)."""
    built = _threaded_delivery(stub, tmp_path, monkeypatch)
    built.quiet = built.max_defer = 60.0  # a pause that would not come within the test
    _, tasks = three_tasks()
    ti = FakeTI(tasks["extract"], "failed")
    FakeDagRun([ti, FakeTI(tasks["load"], None), FakeTI(tasks["report"], None)])
    listener.Airflow2Listener().on_task_instance_failed(None, ti, RuntimeError("boom"), session=None)
    deadline = time.monotonic() + 15
    while not status_puts(stub) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [task_states(body)["extract"] for body in status_puts(stub)] == ["Failed"], "waited for a pause"
    assert built.settle(time.monotonic() + 10)


def test_a_failure_after_the_backends_hand_off_is_reported_too(stub: OMStub, delivery: Delivery) -> None:
    """post_execute ran (the backend handed off "success"), then the try failed (a success callback raised,
    the commit failed): the failure hook's report is not a duplicate, and it lands last."""
    dag, tasks = three_tasks()
    ti = FakeTI(tasks["extract"], "running")
    run = FakeDagRun([ti, FakeTI(tasks["load"], None), FakeTI(tasks["report"], None)])
    backend.OpenMetadataLineageBackend().send_lineage(
        operator=tasks["extract"], context={"ti": ti, "dag_run": run, "dag": dag}
    )
    ti.state = "failed"
    listener.Airflow2Listener().on_task_instance_failed(None, ti, RuntimeError("callback"), session=None)
    assert [task_states(body)["extract"] for body in status_puts(stub)] == ["Successful", "Failed"]


def test_listener_alone_reports_success(stub: OMStub, delivery: Delivery) -> None:
    _, tasks = three_tasks()
    ti = FakeTI(tasks["load"], "success")
    FakeDagRun([FakeTI(tasks["extract"], "success"), ti, FakeTI(tasks["report"], None)])

    listener.Airflow2Listener().on_task_instance_success(None, ti, session=None)

    [status] = status_puts(stub)
    assert task_states(status) == {"extract": "Successful", "load": "Successful", "report": "Pending"}
    assert status["timestamp"] == LOGICAL_MS
    assert [(m, p) for m, p, _, _ in stub.calls("PUT", "/v1/lineage")] == [("PUT", "/v1/lineage")]


@pytest.mark.parametrize(("state", "expected"), [("failed", "Failed"), ("up_for_retry", "Pending")])
def test_failed_try_gets_its_status_and_no_edges(
    stub: OMStub, delivery: Delivery, state: str, expected: str
) -> None:
    _, tasks = three_tasks()
    ti = FakeTI(tasks["load"], state)
    FakeDagRun([FakeTI(tasks["extract"], "success"), ti, FakeTI(tasks["report"], None)])

    listener.Airflow2Listener().on_task_instance_failed(None, ti, RuntimeError("x"), session=None)

    [status] = status_puts(stub)
    assert task_states(status)["load"] == expected
    assert status["executionStatus"] == ("Failed" if state == "failed" else "Pending")
    assert stub.calls("PUT", "/v1/lineage") == [], "a failed try claimed data moved"


# -- the run-level hooks (scheduler side) -------------------------------------------------------------------


def test_parallel_last_tasks_leave_pending_and_the_run_hook_settles_it(
    stub: OMStub, delivery: Delivery
) -> None:
    dag, tasks = three_tasks()
    extract, load, rep = (FakeTI(tasks[t], "success") for t in ("extract", "load", "report"))
    # load and report finish together: each task's report sees the other still running
    FakeDagRun([extract, load, FakeTI(tasks["report"], "running")])
    listener.Airflow2Listener().on_task_instance_success(None, load, session=None)
    FakeDagRun([extract, FakeTI(tasks["load"], "running"), rep])
    listener.Airflow2Listener().on_task_instance_success(None, rep, session=None)
    assert status_puts(stub)[-1]["executionStatus"] == "Pending"

    run = FakeDagRun([extract, load, rep])
    run.state, run.dag = "success", dag
    listener.Airflow2Listener().on_dag_run_success(run)

    final = status_puts(stub)[-1]
    assert final["executionStatus"] == "Successful"
    assert set(task_states(final).values()) == {"Successful"}


def test_run_hook_sends_nothing_while_retry_after_holds(stub: OMStub, delivery: Delivery) -> None:
    dag, tasks = three_tasks()
    run = FakeDagRun([FakeTI(t, "success") for t in tasks.values()])
    run.state, run.dag = "success", dag
    delivery.spool.hold_for(60)  # a 429 with Retry-After: 60 seen by a task of this worker
    listener.Airflow2Listener().on_dag_run_success(run)
    assert stub.requests == []
    assert len(delivery.spool.entries()) == 1  # kept for when the hold is over


def test_failed_run_gets_its_final_record(stub: OMStub, delivery: Delivery) -> None:
    dag, tasks = three_tasks()
    extract, load = FakeTI(tasks["extract"], "success"), FakeTI(tasks["load"], "failed")
    run = FakeDagRun([extract, load, FakeTI(tasks["report"], "upstream_failed")])
    listener.Airflow2Listener().on_task_instance_success(None, extract, session=None)
    listener.Airflow2Listener().on_task_instance_failed(None, load, None, session=None)
    run.state, run.dag = "failed", dag

    listener.Airflow3Listener().on_dag_run_failed(run)

    *_, final = status_puts(stub)
    assert len(status_puts(stub)) == 3
    assert task_states(final) == {"extract": "Successful", "load": "Failed", "report": "Failed"}
    assert final["executionStatus"] == "Failed"
    assert {s["name"]: s.get("startTime") for s in final["taskStatus"]}["extract"] == int(
        T0.timestamp() * 1000
    )


def test_run_hook_without_a_pipeline_only_warns(
    stub: OMStub, delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    _, tasks = three_tasks()
    run = FakeDagRun([FakeTI(tasks["extract"], "failed"), FakeTI(tasks["load"], "upstream_failed")])
    run.state = "failed"
    with caplog.at_level(logging.WARNING, logger="airflow_openmetadata_lineage"):
        listener.Airflow2Listener().on_dag_run_failed(run)  # no task reported: OpenMetadata has no pipeline
    assert "orders (run) rejected by the server: pipeline af.orders is not in OpenMetadata" in caplog.text
    assert not stub.calls("POST", "/v1/pipelines") and not stub.calls("PUT"), "a status-only record wrote"
    assert delivery.spool.entries() == [], "a rejection is not kept to be replayed forever"


# -- Airflow 3: RuntimeTaskInstance --------------------------------------------------------------------------


def test_runtime_ti_takes_sibling_states_from_the_task_sdk(stub: OMStub, delivery: Delivery) -> None:
    _, tasks = three_tasks()
    first = FakeRuntimeTI(tasks["extract"], "success", {"extract": "success", "load": None, "report": None})
    listener.Airflow3Listener().on_task_instance_success(None, first)
    ti = FakeRuntimeTI(
        tasks["load"], "failed", {"extract": "success", "load": "failed", "report": "upstream_failed"}
    )

    listener.Airflow3Listener().on_task_instance_failed(None, ti, error=RuntimeError("x"))

    assert ti.asked == [{"dag_id": "orders", "run_ids": [RUN_ID]}]
    first_status, second = status_puts(stub)
    assert task_states(first_status) == {"extract": "Successful", "load": "Pending", "report": "Pending"}
    assert task_states(second) == {"extract": "Successful", "load": "Failed", "report": "Failed"}
    assert second["executionStatus"] == "Failed"
    [extract] = [s for s in second["taskStatus"] if s["name"] == "extract"]
    assert extract["startTime"] == int(T0.timestamp() * 1000), "the stored times of a sibling were lost"
    assert stub.calls("GET", "/v1/pipelines/af.orders/status"), "no merge with the stored status"
    assert len(stub.calls("PUT", "/v1/lineage")) == 1  # extract's edge; load failed


def test_runtime_ti_without_sdk_states_still_reports(stub: OMStub, delivery: Delivery) -> None:
    _, tasks = three_tasks()
    ti = FakeRuntimeTI(tasks["extract"], "success", {})
    ti.get_task_states = None  # type: ignore[assignment,method-assign]
    listener.Airflow3Listener().on_task_instance_success(None, ti)
    [status] = status_puts(stub)
    assert task_states(status) == {"extract": "Successful"}


def test_parse_task_states_reads_mapped_keys() -> None:
    siblings = adapter.parse_task_states(
        {"a": "success", "b_map_0": "failed", "b_map_12": None, "ghost": "success", "a_x": "success"},
        {"a", "b_map"},
    )
    assert [(s.task_id, s.state, s.map_index) for s in siblings] == [
        ("a", "success", -1),
        ("b_map", "failed", 0),
        ("b_map", None, 12),
    ]


# -- never raise, never leak, stay cheap ---------------------------------------------------------------------


def test_hooks_never_raise(
    stub: OMStub, delivery: Delivery, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise ValueError("token=s3cr3t")

    monkeypatch.setattr(delivery, "hand_off", explode)
    _, tasks = three_tasks()
    ti = FakeTI(tasks["extract"], "success")
    FakeDagRun([ti])
    with caplog.at_level(logging.WARNING, logger="airflow_openmetadata_lineage"):
        listener.Airflow2Listener().on_task_instance_success(None, ti, session=None)
        listener.Airflow3Listener().on_task_instance_failed(None, object(), error=None)  # no task: skipped
        listener.Airflow2Listener().on_task_instance_failed(None, None, None, None)
    assert "report skipped after an unexpected ValueError" in caplog.text
    assert "s3cr3t" not in caplog.text


@pytest.mark.parametrize("major", [2, 3])
def test_a_slow_server_costs_at_most_the_time_budget(
    stub: OMStub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    major: int,
) -> None:
    options = {
        "airflow_service_name": "af",
        "openmetadata_api_endpoint": stub.url,
        "spool_dir": str(tmp_path / "spool"),
        "timeout": "5",
        "time_budget": "1",
    }
    built = runtime.build_delivery(config.mapping_getter(options))  # delivers in the background, as in a task
    monkeypatch.setattr(runtime, "get_delivery", lambda: built)
    stub.delay = 3.0
    _, tasks = three_tasks()
    if major == 3:
        ti: FakeTI = FakeRuntimeTI(tasks["extract"], "success", {"extract": "success"})
        hook = lambda: listener.Airflow3Listener().on_task_instance_success(None, ti)  # noqa: E731
    else:
        ti = FakeTI(tasks["extract"], "success")
        FakeDagRun([ti])
        hook = lambda: listener.Airflow2Listener().on_task_instance_success(None, ti, None)  # noqa: E731
    with caplog.at_level(logging.INFO, logger="airflow_openmetadata_lineage"):
        started = time.monotonic()
        hook()  # the success is committed: the hook waits for the delivery, at most the time budget
        assert time.monotonic() - started < 1.0 + 0.5
        assert built.settle(time.monotonic() + 2)  # the delivery thread's own end, for its log line
    assert "orders.extract reported: status not sent" in caplog.text  # it tried, and gave up in time
    assert len(built.spool.entries()) == 1  # kept for the next drain


def test_unconfigured_listener_sends_nothing(stub: OMStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "get_delivery", lambda: None)
    _, tasks = three_tasks()
    ti = FakeTI(tasks["extract"], "success")
    FakeDagRun([ti])
    listener.Airflow2Listener().on_task_instance_success(None, ti, session=None)
    assert stub.requests == []


def test_plugin_import_is_cheap(tmp_path: Path) -> None:
    """Airflow imports plugins in every process: ours must not pull in requests or an auth library."""
    code = (
        "import sys, airflow.plugins_manager\n"
        "before = set(sys.modules)\n"
        "import airflow_openmetadata_lineage.plugin as p\n"
        "assert p.OpenMetadataLineagePlugin.listeners\n"
        "heavy = {'requests', 'urllib3', 'boto3', 'botocore', 'google', 'msal', 'jwt'}\n"
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before} & heavy))\n"
    )
    assert airflow_python(code, tmp_path) == "[]"


def test_final_record_is_spooled_when_the_server_fails_and_replayed(stub: OMStub, delivery: Delivery) -> None:
    dag, tasks = three_tasks()
    extract = FakeTI(tasks["extract"], "success")
    FakeDagRun([extract, FakeTI(tasks["load"], None), FakeTI(tasks["report"], None)])
    listener.Airflow2Listener().on_task_instance_success(None, extract, session=None)
    run = FakeDagRun([FakeTI(t, "success") for t in tasks.values()])
    run.state, run.dag = "success", dag
    stub.fail_next["/v1/pipelines/af.orders/status"] = [503]
    listener.Airflow2Listener().on_dag_run_success(run)
    assert len(delivery.spool.entries()) == 1  # kept, not lost
    (stored,) = stub.statuses["af.orders"].values()
    assert stored["executionStatus"] == "Pending"  # the 503 left the record from the task's report
    # the next delivery on this machine replays it
    assert delivery.drain(time.monotonic() + 5) == 1
    (final,) = stub.statuses["af.orders"].values()
    assert final["executionStatus"] == "Successful" and set(task_states(final).values()) == {"Successful"}
    assert delivery.spool.entries() == []


def test_final_record_resends_the_pipeline_on_invalid_task_name(stub: OMStub, delivery: Delivery) -> None:
    dag, tasks = three_tasks()
    extract = FakeTI(tasks["extract"], "success")
    FakeDagRun([extract, FakeTI(tasks["load"], None), FakeTI(tasks["report"], None)])
    listener.Airflow2Listener().on_task_instance_success(None, extract, session=None)
    stub.pipelines["af.orders"]["tasks"] = [{"name": "extract"}]  # someone cut the stored pipeline down
    run = FakeDagRun([FakeTI(t, "success") for t in tasks.values()])
    run.state, run.dag = "success", dag
    stub.requests.clear()
    listener.Airflow2Listener().on_dag_run_success(run)
    calls = [f"{m} {p.split('?')[0]}" for m, p, _, _ in stub.requests]
    assert calls.count("PUT /v1/pipelines/af.orders/status") == 2  # 400 "Invalid task name", then again
    assert calls.count(f"PATCH /v1/pipelines/{stub.pipelines['af.orders']['id']}") == 1  # re-sent once
    final = status_puts(stub)[-1]
    assert final["executionStatus"] == "Successful" and set(task_states(final)) == {
        "extract",
        "load",
        "report",
    }


def test_a_crashing_run_hook_never_breaks_the_scheduler(
    stub: OMStub, delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenRun(FakeDagRun):
        def get_task_instances(self, session: Any = None) -> list[FakeTI]:
            raise RuntimeError("DB gone: password=s3cr3t")

    _, tasks = three_tasks()
    run = BrokenRun([FakeTI(tasks["extract"], "success")])
    stub.requests.clear()
    with caplog.at_level(logging.WARNING, logger="airflow_openmetadata_lineage"):
        listener.Airflow2Listener().on_dag_run_success(run)
        listener.Airflow3Listener().on_dag_run_failed(run)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["OpenMetadata lineage: final run status skipped after an unexpected RuntimeError"] * 2
    assert "s3cr3t" not in caplog.text and stub.requests == []
