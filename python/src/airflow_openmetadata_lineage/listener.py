"""Airflow listener: reports every finished task instance (success and failure) on Airflow 2 and 3.

Registered by plugin.py. Thin on purpose: Airflow objects -> plain data (adapter.py) -> the shared reporter.

- Airflow 2: runs in the task process after the task instance is saved, i.e. after the lineage backend's
  post_execute report; the reporter's per-try mark keeps it to one report per try. Failed tasks (which the
  backend never sees) are reported here. Hooks receive `session`.
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
from dataclasses import replace
from typing import Any, Callable, Optional

log = logging.getLogger("airflow_openmetadata_lineage")

try:
    from airflow.listeners import hookimpl
except Exception:  # keep the module importable without Airflow (unit tests, self-check)

    def hookimpl(func: Callable[..., Any]) -> Callable[..., Any]:  # type: ignore[no-redef]
        return func


def airflow_version() -> tuple[int, int]:
    try:
        from airflow import __version__

        major, minor = (
            int("".join(c for c in part if c.isdigit()) or 0) for part in __version__.split(".")[:2]
        )
        return major, minor
    except Exception:
        return 2, 10


def _state_value(ti: Any) -> Optional[str]:
    state = getattr(ti, "state", None)
    value = getattr(state, "value", state)
    return str(value) if value else None


def failed_state(ti: Any) -> str:
    """`up_for_retry` (reported as Pending: the run goes on) or `failed`. Before 2.10 the hook ran while the
    state was still `running`: then the task instance's own retry rule decides."""
    state = _state_value(ti)
    if state == "running" and callable(getattr(ti, "is_eligible_to_retry", None)):
        return "up_for_retry" if ti.is_eligible_to_retry() else "failed"
    return "up_for_retry" if state == "up_for_retry" else "failed"


def _legacy_try_number(ti: Any) -> Optional[int]:
    """Airflow < 2.10 shows `try_number + 1` once a task instance left RUNNING; the backend (in post_execute)
    saw the stored value, so the listener uses it too and both claim the same per-try mark."""
    if airflow_version() >= (2, 10):
        return None
    raw = getattr(ti, "_try_number", None)
    return raw if isinstance(raw, int) and raw > 0 else None


def _run_and_siblings(ti: Any, dag: Any, session: Any) -> tuple[Any, Optional[list[Any]], bool]:
    """(dag_run, sibling task instances or None, complete?) for either kind of task instance."""
    from . import adapter

    if hasattr(ti, "_ti_context_from_server"):  # Airflow 3 RuntimeTaskInstance: no DB, ask the task SDK
        try:
            siblings = adapter.runtime_siblings(ti, dag)
        except Exception as exc:
            log.debug("OpenMetadata lineage: sibling task states unavailable (%s)", type(exc).__name__)
            siblings = None
        return adapter.runtime_dag_run(ti), siblings, False
    dag_run = ti.get_dagrun(session=session) if session is not None else ti.get_dagrun()
    try:
        kwargs = {"session": session} if session is not None else {}
        return dag_run, list(dag_run.get_task_instances(**kwargs)), True
    except Exception:  # no DB access: the reporter merges with the server's copy instead
        return dag_run, None, False


def _report(ti: Any, state: str, session: Any) -> None:
    started = time.monotonic()
    task = getattr(ti, "task", None)
    dag = getattr(task, "dag", None)
    if task is None or dag is None:  # a state set outside a task process (UI, API, scheduler)
        log.debug("OpenMetadata lineage: %s has no task object; nothing sent", getattr(ti, "task_id", "?"))
        return
    from . import runtime

    reporter = runtime.get_reporter()
    if reporter is None:
        return  # configuration error: logged once by runtime
    from .adapter import task_report, task_run_info
    from .reporter import try_key

    legacy_try = _legacy_try_number(ti)
    run_id = getattr(ti, "run_id", None)
    if state == "success" and run_id is not None:
        # On 2.x the backend usually reported this try already: skip the DB reads and the DAG walk.
        probe = task_run_info(ti)
        key = try_key(dag.dag_id, run_id, probe.task_id, probe.map_index, legacy_try or probe.try_number)
        if reporter.marks.seen(key):
            log.debug("OpenMetadata lineage: %s.%s already reported", dag.dag_id, task.task_id)
            return
    dag_run, siblings, complete = _run_and_siblings(ti, dag, session)
    if dag_run is None:
        log.warning("OpenMetadata lineage: %s.%s has no DAG run; nothing sent", dag.dag_id, task.task_id)
        return
    report = task_report(task, dag, dag_run, ti, task.inlets, task.outlets, state=state, siblings=siblings)
    if state != "success":  # an edge says data moved; a failed try may have moved nothing
        report = replace(report, inlets=(), outlets=())
    if not complete:  # sibling states without times, or none: merge with what OpenMetadata holds
        report = replace(report, run=replace(report.run, complete=False))
    if legacy_try is not None:
        report = replace(report, try_number=legacy_try)
    reporter.report(report, deadline=started + reporter.config.time_budget)


def report_task_instance(ti: Any, state: str, session: Any = None) -> None:
    """Report one finished task instance; never raises."""
    try:
        _report(ti, state, session)
    except Exception as exc:  # never fail the task; never quote the exception (it could carry a value)
        log.warning("OpenMetadata lineage: report skipped after an unexpected %s", type(exc).__name__)
        log.debug("OpenMetadata lineage: details", exc_info=True)


def _session_of(obj: Any) -> Any:
    try:
        from sqlalchemy.orm import object_session

        return object_session(obj)  # the caller's session: sees its not yet committed task states
    except Exception:
        return None


def _report_run(dag_run: Any) -> None:
    session = _session_of(dag_run)
    kwargs = {"session": session} if session is not None else {}
    # Always write the final record (one request per run, from the scheduler): task reports can't settle the
    # run's state, e.g. two last tasks finishing in parallel each see the other running and write Pending.
    tis = list(dag_run.get_task_instances(**kwargs))
    from . import runtime

    reporter = runtime.get_reporter()
    if reporter is None:
        return
    from .adapter import airflow_major, dag_info, final_run_info
    from .model import TaskReport

    dag = getattr(dag_run, "dag", None)
    if dag is None:  # without the DAG the pipeline can't be (re)sent: the record only, as is
        _send_run_status_only(reporter, dag_run, tis)
        return
    # The run's record is a report with no task: same path as task reports (pipeline check, status, the
    # spool on a transient failure, the pipeline re-sent once on "Invalid task name").
    report = TaskReport(
        dag_info(dag), final_run_info(dag_run, tis), task_id="", airflow_major=airflow_major()
    )
    result = reporter.report(report, claim=False)
    if result.status_sent:
        log.info("OpenMetadata lineage: %s final run status sent", dag_run.dag_id)
    else:
        log.warning("OpenMetadata lineage: final run status of %s not sent: %s", dag_run.dag_id, result.error)


def _send_run_status_only(reporter: Any, dag_run: Any, tis: list[Any]) -> None:
    started = time.monotonic()
    from .adapter import airflow_major, final_run_info
    from .client import ClientError, quote_fqn
    from .model import pipeline_fqn, status_body

    names = {ti.task_id for ti in tis}
    body = status_body(final_run_info(dag_run, tis), names, reporter.config.airflow_base_url, airflow_major())
    fqn = pipeline_fqn(reporter.config.service_name, dag_run.dag_id)
    try:
        if reporter.spool is not None:
            reporter.spool.check_backoff()  # the server's Retry-After still holds: send nothing
        reporter.client.put(
            f"/v1/pipelines/{quote_fqn(fqn)}/status", body, started + reporter.config.time_budget
        )
        log.info("OpenMetadata lineage: %s final run status sent", dag_run.dag_id)
    except ClientError as exc:  # e.g. no task ever reported, so the pipeline is unknown
        log.warning("OpenMetadata lineage: final run status of %s not sent: %s", dag_run.dag_id, exc)


def report_dag_run(dag_run: Any) -> None:
    """Write a finished run's final record (every task's final state, the run's state); never raises.
    Runs where Airflow decides a run's state: the scheduler (or `dags test`, or the API server on a manual
    change)."""
    try:
        _report_run(dag_run)
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
    return cls()
