"""Airflow objects -> the plain dataclasses of model.py. Read by attribute, so it serves Airflow 2 and 3 alike
(backend and listener); no Airflow import here."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime
from typing import Any, Optional

from . import xlets
from .model import DagInfo, RunInfo, TaskInfo, TaskReport, TaskRunInfo
from .version_compat import airflow_major, airflow_version

log = logging.getLogger(__name__)

DOC_ATTRS = ("doc_md", "doc", "doc_rst", "doc_json", "doc_yaml")


def epoch_ms(value: Any) -> Optional[int]:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return None


def _doc(obj: Any) -> Optional[str]:
    for attr in DOC_ATTRS:
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _display(obj: Any, attr: str, ident: str) -> Optional[str]:
    value = getattr(obj, attr, None)
    return value if isinstance(value, str) and value and value != ident else None


def task_info(task: Any) -> TaskInfo:
    return TaskInfo(
        task_id=task.task_id,
        operator=str(getattr(task, "task_type", None) or type(task).__name__),
        downstream=tuple(sorted(getattr(task, "downstream_task_ids", ()) or ())),
        doc=_doc(task),
        display_name=_display(task, "task_display_name", task.task_id),
    )


def _schedule(dag: Any) -> Optional[str]:
    """The timetable's summary when it is a time schedule ("0 0 * * *", "@once", "2:00:00"); data-triggered
    ("Dataset" on 2.x, "Asset" on 3.x) and unscheduled DAGs get none, so both versions send the same."""
    summary = getattr(getattr(dag, "timetable", None), "summary", None)
    if not isinstance(summary, str) or summary in ("", "None") or summary.startswith(("Dataset", "Asset")):
        return None
    return summary


def dag_info(dag: Any) -> DagInfo:
    doc_md = getattr(dag, "doc_md", None)
    description = doc_md if isinstance(doc_md, str) and doc_md.strip() else getattr(dag, "description", None)
    return DagInfo(
        dag_id=dag.dag_id,
        tasks=tuple(task_info(t) for t in sorted(dag.tasks, key=lambda t: t.task_id)),
        description=description if isinstance(description, str) else None,
        display_name=_display(dag, "dag_display_name", dag.dag_id),
        schedule=_schedule(dag),
    )


def task_run_info(ti: Any, state: Optional[str] = None, end_ms: Optional[int] = None) -> TaskRunInfo:
    raw_state = state if state is not None else getattr(ti, "state", None)
    return TaskRunInfo(
        task_id=ti.task_id,
        state=None if raw_state is None else str(getattr(raw_state, "value", raw_state)),
        start_ms=epoch_ms(getattr(ti, "start_date", None)),
        end_ms=end_ms if end_ms is not None else epoch_ms(getattr(ti, "end_date", None)),
        map_index=int(getattr(ti, "map_index", -1) if getattr(ti, "map_index", None) is not None else -1),
        try_number=int(getattr(ti, "try_number", 1) or 1),
    )


def logical_date_ms(dag_run: Any, ti: Any = None) -> int:
    """The run's logical date; Airflow 3 manual runs may have none, so fall back to run_after / start."""
    for obj, attr in (
        (dag_run, "logical_date"),
        (dag_run, "execution_date"),
        (ti, "logical_date"),
        (dag_run, "run_after"),
        (dag_run, "start_date"),
    ):
        ms = epoch_ms(getattr(obj, attr, None)) if obj is not None else None
        if ms is not None:
            return ms
    return int(time.time() * 1000)


# What a run's status needs of every task instance: loading whole TaskInstance objects instead (as
# DagRun.get_task_instances does) costs ~0.25 ms per task instance on the task's path.
STATE_COLUMNS = ("task_id", "map_index", "state", "start_date", "end_date", "try_number")


def run_task_states(ti: Any, dag_run: Any, session: Any = None) -> list[Any]:
    """Every task instance of `dag_run` as rows with STATE_COLUMNS (what task_run_info reads): one query of
    those columns in the caller's `session`. Where the table is not readable that way (no session, no such
    columns), Airflow's own `dag_run.get_task_instances()`. A database error is raised, not retried: the
    caller owns the session."""
    table = getattr(type(ti), "__table__", None)
    query = _state_query(table) if session is not None and table is not None else None
    if query is not None:
        return list(session.execute(query, {"dag_id": dag_run.dag_id, "run_id": dag_run.run_id}))
    kwargs = {"session": session} if session is not None else {}
    return list(dag_run.get_task_instances(**kwargs))


_STATE_QUERIES: dict[Any, Any] = {}  # table (SQLAlchemy tables hash by identity) -> its statement or None


def _state_query(table: Any) -> Any:
    """The STATE_COLUMNS select of one run, with the run as bound parameters: built once per table and
    process (building the expression cost about as much as running the query), None where the table lacks
    a column."""
    if table in _STATE_QUERIES:
        return _STATE_QUERIES[table]
    columns = getattr(table, "c", None)
    query = None
    if columns is not None and all(name in columns for name in (*STATE_COLUMNS, "dag_id", "run_id")):
        from sqlalchemy import bindparam, select

        query = select(*(columns[name] for name in STATE_COLUMNS)).where(
            columns["dag_id"] == bindparam("dag_id"), columns["run_id"] == bindparam("run_id")
        )
    _STATE_QUERIES[table] = query
    return query


def run_info(dag_run: Any, current: TaskRunInfo, siblings: Optional[list[Any]]) -> RunInfo:
    """The run with every task's state (complete) when the sibling task instances are readable, else this task
    only (complete=False: the reporter merges with the status the server holds)."""
    runs = [current]
    if siblings is not None:
        runs += [
            task_run_info(ti)
            for ti in siblings
            if (ti.task_id, getattr(ti, "map_index", -1)) != (current.task_id, current.map_index)
        ]
    state = getattr(dag_run, "state", None)
    return RunInfo(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        logical_date_ms=logical_date_ms(dag_run),
        state=None if state is None else str(getattr(state, "value", state)),
        task_runs=tuple(runs),
        complete=siblings is not None,
    )


def task_report(
    task: Any,
    dag: Any,
    dag_run: Any,
    ti: Any,
    inlets: Any,
    outlets: Any,
    state: str,
    siblings: Optional[list[Any]],
    end_ms: Optional[int] = None,
) -> TaskReport:
    """Everything the reporter needs for one finished task instance, as plain data. `end_ms` defaults to the
    task instance's end date, else now (the backend runs before Airflow records the end)."""
    end = end_ms or epoch_ms(getattr(ti, "end_date", None)) or int(time.time() * 1000)
    current = task_run_info(ti, state=state, end_ms=end)
    report = TaskReport(
        dag=dag_info(dag),
        run=run_info(dag_run, current, siblings),
        task_id=task.task_id,
        inlets=tuple(xlets.collect(inlets, f"{getattr(dag, 'dag_id', '?')}.{task.task_id}", "inlets")),
        outlets=tuple(xlets.collect(outlets, f"{getattr(dag, 'dag_id', '?')}.{task.task_id}", "outlets")),
        airflow_major=airflow_major(),
        map_index=current.map_index,
        try_number=current.try_number,
    )
    if inlets or outlets or state != "success":  # declared lineage always wins; failed tries send no edges
        return report
    return automatic_lineage(report, task, ti)


def automatic_lineage(report: TaskReport, task: Any, ti: Any) -> TaskReport:
    """Fill inlets/outlets/column lineage from the operator (auto_lineage.py) when the task declares none."""
    from dataclasses import replace

    from . import auto_lineage, runtime

    config = runtime.get_config()
    service_map = getattr(config, "service_map", None) or {}
    found = auto_lineage.extract(task, ti, service_map)
    auto_lineage.log_notes(report.dag.dag_id, report.task_id, found)
    if found.source == auto_lineage.NONE and not found.notes:
        return report
    return replace(
        report,
        inlets=found.inlets,
        outlets=found.outlets,
        column_lineage=found.column_lineage,
        extra={**report.extra, **found.summary()},
    )


# -- Airflow 3 task processes --------------------------------------------------------------------------------
# A RuntimeTaskInstance has no metadata-DB access: the run comes from the context the API server sent with
# the task, sibling states from the task SDK's execution API (one call). Siblings carry no times: the
# reporter merges them with the status OpenMetadata holds (report.run.complete=False), which keeps the
# times already stored.


def runtime_dag_run(ti: Any) -> Any:
    """The DagRun (task SDK model) a RuntimeTaskInstance belongs to, or None."""
    from_server = getattr(ti, "_ti_context_from_server", None)
    dag_run = getattr(from_server, "dag_run", None)
    if dag_run is None and hasattr(ti, "get_template_context"):
        dag_run = ti.get_template_context().get("dag_run")
    return dag_run


class _SiblingState:
    """What task_run_info() reads from a sibling whose only known attribute is its state."""

    start_date = None
    end_date = None
    try_number = 1

    def __init__(self, task_id: str, state: Optional[str], map_index: int) -> None:
        self.task_id, self.state, self.map_index = task_id, state, map_index


def parse_task_states(states: Any, task_ids: set[str]) -> list[Any]:
    """The execution API's `{task_id | f"{task_id}_{map_index}": state}` for one run -> sibling objects."""
    siblings: list[Any] = []
    for key, state in (states or {}).items():
        task_id, map_index = str(key), -1
        if task_id not in task_ids:
            base, _, suffix = task_id.rpartition("_")
            if base not in task_ids or not suffix.isdigit():
                continue
            task_id, map_index = base, int(suffix)
        siblings.append(_SiblingState(task_id, None if state is None else str(state), map_index))
    return siblings


def runtime_siblings(ti: Any, dag: Any) -> Optional[list[Any]]:
    """Every task instance of the run with its state, through the task SDK (None when unavailable)."""
    get_states = getattr(ti, "get_task_states", None)
    if get_states is None:
        return None
    answer = get_states(dag_id=ti.dag_id, run_ids=[ti.run_id])
    return parse_task_states((answer or {}).get(ti.run_id), {t.task_id for t in dag.tasks})


def final_run_info(dag_run: Any, tis: list[Any]) -> RunInfo:
    """A finished DAG run with every task instance's final state (run-level hooks, which have the DB)."""
    state = getattr(dag_run, "state", None)
    return RunInfo(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        logical_date_ms=logical_date_ms(dag_run),
        state=None if state is None else str(getattr(state, "value", state)),
        task_runs=tuple(_final_task_run(ti) for ti in tis),
        complete=True,
    )


def _final_task_run(ti: Any) -> TaskRunInfo:
    """A finished task instance in a run's final record, with the try number the task's own records carry
    (before 2.10 the stored column, not the property's `+ 1`), so the final record can carry their states."""
    info = task_run_info(ti)
    legacy = legacy_try_number(ti)
    return info if legacy is None else replace(info, try_number=legacy)


# -- what the listener hooks report -------------------------------------------------------------------------


def failed_state(ti: Any) -> str:
    """`up_for_retry` (reported as Pending: the run goes on) or `failed`. Before 2.10 the hook ran while the
    state was still `running`: then the task instance's own retry rule decides."""
    state = getattr(ti, "state", None)
    value = getattr(state, "value", state)
    if value == "running" and callable(getattr(ti, "is_eligible_to_retry", None)):
        return "up_for_retry" if ti.is_eligible_to_retry() else "failed"
    return "up_for_retry" if value == "up_for_retry" else "failed"


def legacy_try_number(ti: Any) -> Optional[int]:
    """Airflow < 2.10 shows `try_number + 1` once a task instance left RUNNING; the backend (in post_execute)
    saw the stored value, so the listener uses it too and both claim the same per-try mark."""
    if airflow_version() >= (2, 10):
        return None
    raw = getattr(ti, "_try_number", None)
    return raw if isinstance(raw, int) and raw > 0 else None


def report_key(ti: Any, dag: Any, state: str) -> Optional[str]:
    """The mark of a task instance try's `state` report, cheaply (no DB read, no DAG walk); None without a
    run id."""
    from .delivery import try_key

    run_id = getattr(ti, "run_id", None)
    if run_id is None:
        return None
    probe = task_run_info(ti)
    return try_key(
        dag.dag_id, run_id, probe.task_id, probe.map_index, legacy_try_number(ti) or probe.try_number, state
    )


def _run_and_siblings(ti: Any, dag: Any, session: Any) -> tuple[Any, Optional[list[Any]], bool]:
    """(dag_run, sibling task instances or None, complete?) for either kind of task instance."""
    if hasattr(ti, "_ti_context_from_server"):  # Airflow 3 RuntimeTaskInstance: no DB, ask the task SDK
        try:
            siblings = runtime_siblings(ti, dag)
        except Exception as exc:
            log.debug("OpenMetadata lineage: sibling task states unavailable (%s)", type(exc).__name__)
            siblings = None
        return runtime_dag_run(ti), siblings, False
    dag_run = ti.get_dagrun(session=session) if session is not None else ti.get_dagrun()
    try:
        return dag_run, run_task_states(ti, dag_run, session), True
    except Exception:  # no DB access: the reporter merges with the server's copy instead
        return dag_run, None, False


def finished_task_report(ti: Any, state: str, session: Any = None) -> Optional[TaskReport]:
    """The report of a task instance a listener hook saw finish; None (logged) when there is nothing to
    report: a state set outside a task process, or no DAG run."""
    from dataclasses import replace

    task = getattr(ti, "task", None)
    dag = getattr(task, "dag", None)
    if task is None or dag is None:  # a state set outside a task process (UI, API, scheduler)
        log.debug("OpenMetadata lineage: %s has no task object; nothing sent", getattr(ti, "task_id", "?"))
        return None
    dag_run, siblings, complete = _run_and_siblings(ti, dag, session)
    if dag_run is None:
        log.warning("OpenMetadata lineage: %s.%s has no DAG run; nothing sent", dag.dag_id, task.task_id)
        return None
    report = task_report(task, dag, dag_run, ti, task.inlets, task.outlets, state=state, siblings=siblings)
    if state != "success":  # an edge says data moved; a failed try may have moved nothing
        report = replace(report, inlets=(), outlets=())
    if not complete:  # sibling states without times, or none: merge with what OpenMetadata holds
        report = replace(report, run=replace(report.run, complete=False))
    legacy_try = legacy_try_number(ti)
    if legacy_try is not None:
        report = replace(report, try_number=legacy_try)
    return report


def _session_of(obj: Any) -> Any:
    try:
        from sqlalchemy.orm import object_session

        return object_session(obj)  # the caller's session: sees its not yet committed task states
    except Exception:
        return None


def run_record(dag_run: Any) -> TaskReport:
    """A finished run's final record: a report with no task, every task instance's final state and the run's.
    Without the DAG (`dag_run.dag` unset) the pipeline can't be re-sent: the record is status only."""
    session = _session_of(dag_run)
    kwargs = {"session": session} if session is not None else {}
    tis = list(dag_run.get_task_instances(**kwargs))
    dag = getattr(dag_run, "dag", None)
    if dag is None:
        task_ids = sorted({ti.task_id for ti in tis})
        info = DagInfo(dag_run.dag_id, tuple(TaskInfo(t, "") for t in task_ids))
        return TaskReport(
            info, final_run_info(dag_run, tis), task_id="", airflow_major=airflow_major(), status_only=True
        )
    return TaskReport(dag_info(dag), final_run_info(dag_run, tis), task_id="", airflow_major=airflow_major())
