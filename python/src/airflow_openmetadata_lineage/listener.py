"""Airflow listener: reports every finished task instance (success and failure) on Airflow 2 and 3, and
every finished DAG run's final record.

Registered by plugin.py. Thin on purpose: only hooks. Airflow objects -> a report (adapter.py) -> the
hand-off (delivery.py). A report is waited for (bounded by the time budget) only once Airflow has committed
the task's state (version_compat.committed_before_listener): in the hook where the process leaves through
os._exit next (Airflow 2's forked task runner), else at the process's normal exit.

- Airflow 2: runs in the task process. The success hook runs after the task instance is saved, i.e. after
  the lineage backend's hand-off in post_execute; the per-try mark keeps it to one report per try. Failed
  tasks (which the backend never sees) are reported here, before Airflow saves the failure. Hooks receive
  `session`.
- Airflow 3: `[lineage] backend` is gone; this is the only path. Hooks receive a RuntimeTaskInstance without
  metadata-DB access and no `session`. pluggy rejects an impl that names an argument its spec lacks, so
  get_listener() picks the class that fits the running Airflow's spec (2.10+, 2.7-2.9, 3.x).

Import is cheap (no requests) and never raises; every hook catches everything: a listener must not fail, or
hang, a task.
"""

from __future__ import annotations

import inspect
import logging
import time
from typing import Any, Callable, Optional

log = logging.getLogger("airflow_openmetadata_lineage")

try:
    from airflow.listeners import hookimpl
except Exception:  # keep the module importable without Airflow (unit tests, self-check)

    def hookimpl(func: Callable[..., Any]) -> Callable[..., Any]:  # type: ignore[misc]
        return func


def failed_state(ti: Any) -> str:
    from .adapter import failed_state as state_of

    return state_of(ti)


def _report(ti: Any, state: str, session: Any) -> None:
    started = time.monotonic()
    from . import runtime

    delivery = runtime.get_delivery()
    if delivery is None:
        return  # configuration error: logged once by runtime
    from .version_compat import committed_before_listener

    committed = committed_before_listener(state)
    try:
        _hand_off(delivery, ti, state, session, committed, started + delivery.time_budget)
    finally:
        # The backend's record (handed off before the commit) may go now: after a success the state is
        # committed (it goes once the hand-offs pause: the process may run the next task); after a failure
        # there is no later moment to wait for. Last: the woken thread must not take the GIL from the rest of
        # this hook.
        delivery.release(now=state != "success")


def _hand_off(delivery: Any, ti: Any, state: str, session: Any, committed: bool, deadline: float) -> None:
    from . import adapter
    from .version_compat import exits_without_atexit

    # Wait here only where the process leaves without running atexit (Airflow 2's forked task runner);
    # elsewhere the delivery thread works on while Airflow goes on, and the exit waits for it.
    wait_here = committed and exits_without_atexit()
    task = getattr(ti, "task", None)
    dag = getattr(task, "dag", None)
    if state == "success" and dag is not None:
        # On 2.x the backend handed this try off already: skip the DB reads and the DAG walk, only wait.
        key = adapter.report_key(ti, dag, "success")
        if key is not None and delivery.marks.seen(key):
            log.debug("OpenMetadata lineage: %s.%s already handed off", dag.dag_id, ti.task_id)
            if wait_here:
                delivery.settle(deadline)
            return
    report = adapter.finished_task_report(ti, state, session)
    if report is None:
        return
    delivery.hand_off(report, wait_at_exit=committed, hold=True)  # released when the hook ends
    if wait_here:
        delivery.settle(deadline)


def report_task_instance(ti: Any, state: str, session: Any = None) -> None:
    """Report one finished task instance; never raises."""
    try:
        _report(ti, state, session)
    except Exception as exc:  # never fail the task; never quote the exception (it could carry a value)
        log.warning("OpenMetadata lineage: report skipped after an unexpected %s", type(exc).__name__)
        log.debug("OpenMetadata lineage: details", exc_info=True)


def report_dag_run(dag_run: Any) -> None:
    """Hand off a finished run's final record (every task's final state, the run's state); never raises.
    Runs where Airflow decides a run's state: the scheduler (or `dags test`, or the API server on a manual
    change). Always written, one request per run: task reports can't settle the run's state (two last
    tasks finishing in parallel each see the other running), and tasks that never ran (upstream_failed,
    skipped) get their state here. Delivered in the background: the scheduler does not wait."""
    try:
        from . import runtime

        delivery = runtime.get_delivery()
        if delivery is None:
            return
        from .adapter import run_record

        delivery.hand_off(run_record(dag_run), claim=False)
    except Exception as exc:  # never break the scheduler
        log.warning(
            "OpenMetadata lineage: final run status skipped after an unexpected %s", type(exc).__name__
        )
        log.debug("OpenMetadata lineage: details", exc_info=True)


class _RunHooks:
    """on_dag_run_success / on_dag_run_failed: the same (dag_run, msg) spec on 2.x and 3.x."""

    @hookimpl
    def on_dag_run_success(self, dag_run: Any) -> None:
        report_dag_run(dag_run)

    @hookimpl
    def on_dag_run_failed(self, dag_run: Any) -> None:
        report_dag_run(dag_run)


class Airflow2Listener(_RunHooks):
    """Hook signatures of airflow/listeners/spec/taskinstance.py in 2.10+ (`session`, and `error`)."""

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any, session: Any) -> None:
        report_task_instance(task_instance, "success", session)

    @hookimpl
    def on_task_instance_failed(
        self, previous_state: Any, task_instance: Any, error: Any, session: Any
    ) -> None:
        report_task_instance(task_instance, failed_state(task_instance), session)


class Airflow2LegacyListener(_RunHooks):
    """Airflow 2.7-2.9 (MWAA 2.7.2 to 2.9.2): on_task_instance_failed has no `error` yet."""

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any, session: Any) -> None:
        report_task_instance(task_instance, "success", session)

    @hookimpl
    def on_task_instance_failed(self, previous_state: Any, task_instance: Any, session: Any) -> None:
        report_task_instance(task_instance, failed_state(task_instance), session)


class Airflow3Listener(_RunHooks):
    """Hook signatures of airflow/listeners/spec/taskinstance.py in 3.x (no `session`)."""

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        report_task_instance(task_instance, "success")

    @hookimpl
    def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
        report_task_instance(task_instance, failed_state(task_instance))


class MinimalListener(_RunHooks):
    """Last resort for a future spec that drops arguments: pluggy passes only what a hook names."""

    @hookimpl
    def on_task_instance_success(self, task_instance: Any) -> None:
        report_task_instance(task_instance, "success")

    @hookimpl
    def on_task_instance_failed(self, task_instance: Any) -> None:
        report_task_instance(task_instance, failed_state(task_instance))


LISTENERS = (Airflow2Listener, Airflow2LegacyListener, Airflow3Listener, MinimalListener)  # richest first
HOOKS = ("on_task_instance_success", "on_task_instance_failed")


def _args(func: Callable[..., Any]) -> set[str]:
    return {name for name in inspect.signature(func).parameters if name != "self"}


def select_listener(spec: Any) -> Optional[type]:
    """The first listener class whose hook arguments the spec module all offers (pluggy refuses others)."""
    offered = {hook: _args(getattr(spec, hook)) for hook in HOOKS}
    for cls in LISTENERS:
        if all(_args(getattr(cls, hook)) <= offered[hook] for hook in HOOKS):
            return cls
    return None


def get_listener() -> Optional[object]:
    """A listener object matching the running Airflow's hook signatures (None: no known shape fits)."""
    try:
        from airflow.listeners.spec import taskinstance

        cls = select_listener(taskinstance)
    except ImportError:  # the spec moved (a later major): the one shape every spec so far accepts
        cls = MinimalListener
    if cls is None:
        log.warning(
            "OpenMetadata lineage: this Airflow's listener hooks have an unknown shape; not registered"
        )
        return None
    listener: object = cls()
    return listener
