"""Plain data about DAGs, tasks and runs, and pure functions that turn it into OpenMetadata request bodies.

No Airflow import: the adapters (backend, listener) fill these dataclasses; everything here is testable alone.
Shapes follow openmetadata-spec (CreatePipelineServiceRequest, CreatePipelineRequest, PipelineStatus,
AddLineageRequest); python/tests validate them against the official generated models.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field, fields, is_dataclass
from functools import lru_cache
from typing import Any, Optional
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class TaskInfo:
    task_id: str
    operator: str  # operator class name -> taskType
    downstream: tuple[str, ...] = ()
    doc: Optional[str] = None
    display_name: Optional[str] = None


@dataclass(frozen=True)
class DagInfo:
    dag_id: str
    tasks: tuple[TaskInfo, ...]
    description: Optional[str] = None
    display_name: Optional[str] = None
    schedule: Optional[str] = None  # a cron expression, "@once", or a timedelta's text; None if unscheduled


@dataclass(frozen=True)
class TaskRunInfo:
    task_id: str
    state: Optional[str]  # Airflow TaskInstanceState value ("success", "failed", ...)
    start_ms: Optional[int] = None
    end_ms: Optional[int] = None
    map_index: int = -1
    try_number: int = 1


@dataclass(frozen=True)
class RunInfo:
    dag_id: str
    run_id: str
    logical_date_ms: int  # the PipelineStatus timestamp: one status record per DAG run
    state: Optional[str] = None  # Airflow DagRunState value, if known
    task_runs: tuple[TaskRunInfo, ...] = ()
    complete: bool = True  # task_runs holds every task of the run (else: merge with what the server holds)


@dataclass(frozen=True)
class ColumnLineage:
    """One output column and the input columns it comes from, on the edge from_table -> to_table.

    Column names are plain names as the SQL or OpenLineage facet gives them; the reporter turns them into
    column FQNs of the tables and drops those OpenMetadata does not know."""

    from_table: str  # table FQN
    to_table: str  # table FQN
    to_column: str
    from_columns: tuple[str, ...]
    function: Optional[str] = None  # the transformation, when known (e.g. "sum(amount)")


@dataclass(frozen=True)
class TaskReport:
    """One task instance's report: everything the reporter needs, as plain data (JSON-able for a spool)."""

    dag: DagInfo
    run: RunInfo
    task_id: str
    inlets: tuple[str, ...] = ()  # table FQNs
    outlets: tuple[str, ...] = ()
    airflow_major: int = 2
    map_index: int = -1
    try_number: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    column_lineage: tuple[ColumnLineage, ...] = ()
    status_only: bool = False  # the DAG's structure is unknown (dag.tasks empty): never write the pipeline

    def to_dict(self) -> dict[str, Any]:
        """`dataclasses.asdict(self)` at a quarter of its cost (~0.1 ms for a 20-task DAG): it runs on the
        task's path (the spool record)."""
        return _plain(self)  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskReport:
        dag = dict(data["dag"])
        dag["tasks"] = tuple(
            TaskInfo(**{**t, "downstream": tuple(t.get("downstream", ()))}) for t in dag.get("tasks", ())
        )
        run = dict(data["run"])
        run["task_runs"] = tuple(TaskRunInfo(**tr) for tr in run.get("task_runs", ()))
        return cls(
            **{
                **data,
                "dag": DagInfo(**dag),
                "run": RunInfo(**run),
                "inlets": tuple(data.get("inlets", ())),
                "outlets": tuple(data.get("outlets", ())),
                "column_lineage": tuple(
                    ColumnLineage(**{**c, "from_columns": tuple(c.get("from_columns", ()))})
                    for c in data.get("column_lineage", ())
                ),
            }
        )


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """What `asdict` makes of a value in these dataclasses: dataclasses become dicts, tuples are rebuilt
    around converted items, dicts are copied deeply; strings, numbers and None are shared (immutable)."""
    kind = type(value)
    if kind in (str, int, float, bool, type(None)):
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and is_dataclass(value):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if kind is tuple:
        return tuple(_plain(item) for item in value)
    return copy.deepcopy(value)  # `extra` and anything else asdict would deep-copy


# -- server versions the request shapes fit ----------------------------------------------------------------

# OpenMetadata 1.0/1.1 have no sourceUrl/sourceHash on pipelines (their request models forbid unknown fields);
# 0.x drew lineage through the pipeline entity. From 1.12 a PipelineStatus also takes executionId and endTime.
MIN_SERVER = (1, 2)
RUN_DETAILS_SINCE = (1, 12)


def parse_version(text: str) -> Optional[tuple[int, int]]:
    """ "1.12.14" -> (1, 12); None when it is not a version."""
    parts = str(text).strip().lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return None


def unsupported_server(version: str) -> Optional[str]:
    """Why a server of this version can't take our requests, or None when it can (or is unknown)."""
    parsed = parse_version(version)
    if parsed is not None and parsed < MIN_SERVER:
        return (
            f"OpenMetadata {version} is not supported (its pipelines lack sourceUrl/sourceHash):"
            f" use a server >= {MIN_SERVER[0]}.{MIN_SERVER[1]}"
        )
    return None


def has_run_details(version: str) -> bool:
    parsed = parse_version(version)
    return parsed is not None and parsed >= RUN_DETAILS_SINCE


# -- URLs into the Airflow UI --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # pure, and asked for every task of the DAG in every report
def dag_url(base_url: str, dag_id: str, airflow_major: int = 2) -> str:
    if airflow_major >= 3:
        return f"{base_url}/dags/{quote(dag_id, safe='')}"
    return f"{base_url}/dags/{quote(dag_id, safe='')}/grid"


@lru_cache(maxsize=4096)  # pure, and asked for every task of the DAG in every report
def task_url(base_url: str, dag_id: str, task_id: str, airflow_major: int = 2) -> str:
    if airflow_major >= 3:
        return f"{base_url}/dags/{quote(dag_id, safe='')}/tasks/{quote(task_id, safe='')}"
    return f"{dag_url(base_url, dag_id, 2)}?{urlencode({'task_id': task_id})}"


@lru_cache(maxsize=4096)  # pure, and asked for every task of the DAG in every report
def log_url(
    base_url: str, dag_id: str, run_id: str, task_id: str, map_index: int = -1, airflow_major: int = 2
) -> str:
    d, r, t = (quote(x, safe="") for x in (dag_id, run_id, task_id))
    if airflow_major >= 3:
        suffix = f"/mapped/{map_index}" if map_index >= 0 else ""
        return f"{base_url}/dags/{d}/runs/{r}/tasks/{t}{suffix}?tab=logs"
    query = {"dag_run_id": run_id, "task_id": task_id, "tab": "logs"}
    if map_index >= 0:
        query["map_index"] = str(map_index)
    return f"{dag_url(base_url, dag_id, 2)}?{urlencode(query)}"


# -- FQNs ----------------------------------------------------------------------------------------------------


def quote_name(name: str) -> str:
    """One FQN part as OpenMetadata writes it: a name containing '.' is wrapped in double quotes."""
    if "." in name and not (name.startswith('"') and name.endswith('"')):
        return f'"{name}"'
    return name


def pipeline_fqn(service: str, dag_id: str) -> str:
    return f"{quote_name(service)}.{quote_name(dag_id)}"


# -- request bodies ------------------------------------------------------------------------------------------


def service_body(service_name: str, airflow_base_url: str) -> dict[str, Any]:
    """CreatePipelineServiceRequest for the Airflow pipeline service."""
    return {
        "name": service_name,
        "serviceType": "Airflow",
        "connection": {
            "config": {"type": "Airflow", "hostPort": airflow_base_url, "connection": {"type": "Backend"}}
        },
    }


def _text(value: Optional[str]) -> Optional[str]:
    return value.strip() if value and value.strip() else None


def _pipeline_core(dag: DagInfo, service_name: str, base_url: str, airflow_major: int) -> dict[str, Any]:
    tasks = []
    for t in sorted(dag.tasks, key=lambda t: t.task_id):
        task: dict[str, Any] = {
            "name": t.task_id,
            "displayName": t.display_name or t.task_id,
            "taskType": t.operator,
            "downstreamTasks": sorted(t.downstream),
            "sourceUrl": task_url(base_url, dag.dag_id, t.task_id, airflow_major),
        }
        if _text(t.doc):
            task["description"] = _text(t.doc)
        tasks.append(task)
    body: dict[str, Any] = {
        "name": dag.dag_id,
        "displayName": dag.display_name or dag.dag_id,
        "sourceUrl": dag_url(base_url, dag.dag_id, airflow_major),
        "tasks": tasks,
        "service": quote_name(service_name),  # the service FQN: a name with dots is quoted
    }
    if _text(dag.description):
        body["description"] = _text(dag.description)
    if _text(dag.schedule):
        body["scheduleInterval"] = _text(dag.schedule)
    return body


def structure_hash(body: dict[str, Any]) -> str:
    """sourceHash: 32 hex chars (the schema's maximum) of the body's canonical JSON."""
    canonical = json.dumps(
        {k: v for k, v in body.items() if k != "sourceHash"}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def pipeline_body(dag: DagInfo, service_name: str, base_url: str, airflow_major: int = 2) -> dict[str, Any]:
    """CreatePipelineRequest with every task; `sourceHash` changes exactly when anything sent changes.

    Owners and tags are left out: both must reference entities that already exist in OpenMetadata
    (users/teams,
    classification tags), and a wrong reference makes the server reject the whole pipeline.
    """
    body = _pipeline_core(dag, service_name, base_url, airflow_major)
    body["sourceHash"] = structure_hash(body)
    return body


STATUS_BY_STATE = {
    "success": "Successful",
    "failed": "Failed",
    "upstream_failed": "Failed",
    "skipped": "Skipped",
    "removed": "Skipped",
}
TERMINAL = frozenset({"Successful", "Failed", "Skipped"})


def execution_status(state: Optional[str]) -> str:
    """Airflow task/DAG-run state -> StatusType; anything unfinished is Pending."""
    return STATUS_BY_STATE.get((state or "").lower(), "Pending")


def task_status(
    tr: TaskRunInfo, base_url: str, dag_id: str, run_id: str, airflow_major: int = 2
) -> dict[str, Any]:
    status: dict[str, Any] = {"name": tr.task_id, "executionStatus": execution_status(tr.state)}
    if tr.start_ms is not None:
        status["startTime"] = tr.start_ms
    if tr.end_ms is not None:
        status["endTime"] = tr.end_ms
    status["logLink"] = log_url(base_url, dag_id, run_id, tr.task_id, tr.map_index, airflow_major)
    return status


def run_execution_status(
    run_state: Optional[str], task_statuses: list[dict[str, Any]], task_names: set[str]
) -> str:
    """A finished run keeps its state; a running one is Failed once a task failed, Successful once every
    task of the pipeline finished without failure, else Pending (so the last task's report completes it)."""
    if (run_state or "").lower() in ("success", "failed"):
        return execution_status(run_state)
    states = {s["name"]: s["executionStatus"] for s in task_statuses}
    if "Failed" in states.values():
        return "Failed"
    if task_names and all(states.get(n) in ("Successful", "Skipped") for n in task_names):
        return "Successful"
    return "Pending"


def merge_task_statuses(
    stored: list[dict[str, Any]], fresh: list[dict[str, Any]], authoritative: set[str]
) -> list[dict[str, Any]]:
    """Combine the server's task statuses for a run with ours. Ours win for `authoritative` names (the
    reporting task); for the others a terminal state beats Pending, and the stored one wins a tie."""
    merged: dict[str, dict[str, Any]] = {s["name"]: s for s in stored if isinstance(s, dict) and "name" in s}
    for s in fresh:
        old = merged.get(s["name"])
        if (
            old is None
            or s["name"] in authoritative
            or (s["executionStatus"] in TERMINAL and old.get("executionStatus") not in TERMINAL)
        ):
            merged[s["name"]] = s
    return [merged[n] for n in sorted(merged)]


def run_tag(dag_id: str, run_id: str) -> str:
    """8 hex characters naming one DAG run: the spool puts them in its file names, so a drain finds a run's
    newer records without reading the others."""
    return hashlib.sha256(f"{dag_id}|{run_id}".encode()).hexdigest()[:8]


def supersedes(newer: TaskReport, older: TaskReport) -> bool:
    """Whether sending `newer`'s run status makes sending `older`'s redundant. OpenMetadata keeps one status
    per run and each PUT replaces it, so an older status sent first is overwritten anyway. Skipping it is
    safe when `older` reports the first try of a task instance succeeding and `newer` is a record of the same
    run (a task's, or the run's final record) that read every task's state (complete) with that instance
    succeeded in its first try: sent as is, or merged where its Successful beats the Pending the server may
    hold. Nothing else is folded: failures and later tries must win over a different terminal state on the
    server (a success a failure overwrites; an earlier try's), which only the reporting record does (the
    reporting task is authoritative), and a run's final record is the one that settles every task."""
    if not (older.task_id and newer.run.complete and older.try_number == 1):
        return False
    if (newer.dag.dag_id, newer.run.run_id, newer.run.logical_date_ms) != (
        older.dag.dag_id,
        older.run.run_id,
        older.run.logical_date_ms,
    ):
        return False
    key = (older.task_id, older.map_index)
    own = [(tr.try_number, tr.state) for tr in older.run.task_runs if (tr.task_id, tr.map_index) == key]
    carried = [(tr.try_number, tr.state) for tr in newer.run.task_runs if (tr.task_id, tr.map_index) == key]
    return own == carried == [(1, "success")]


# A mapped task has one TaskStatus: its worst instance decides (Failed, then unfinished, then done).
_RANK = {"Failed": 0, "Pending": 1, "Successful": 2, "Skipped": 3}


def combine_mapped(task_runs: tuple[TaskRunInfo, ...]) -> list[TaskRunInfo]:
    """One TaskRunInfo per task_id: mapped instances merged (worst state, earliest start, latest end)."""
    by_id: dict[str, list[TaskRunInfo]] = {}
    for tr in task_runs:
        by_id.setdefault(tr.task_id, []).append(tr)
    combined = []
    for task_id in sorted(by_id):
        group = by_id[task_id]
        if len(group) == 1:
            combined.append(group[0])
            continue
        worst = min(group, key=lambda tr: _RANK[execution_status(tr.state)])
        starts = [tr.start_ms for tr in group if tr.start_ms is not None]
        ends = [tr.end_ms for tr in group if tr.end_ms is not None]
        unfinished = any(execution_status(tr.state) == "Pending" for tr in group)
        combined.append(
            TaskRunInfo(
                task_id=task_id,
                state=worst.state,
                start_ms=min(starts) if starts else None,
                end_ms=None if unfinished or not ends else max(ends),
                map_index=-1,
                try_number=max(tr.try_number for tr in group),
            )
        )
    return combined


def status_body(
    run: RunInfo,
    task_names: set[str],
    base_url: str,
    airflow_major: int = 2,
    stored: Optional[list[dict[str, Any]]] = None,
    authoritative: Optional[set[str]] = None,
    run_details: bool = False,
) -> dict[str, Any]:
    """PipelineStatus for the run at its logical date. The server replaces the whole record at that
    timestamp and rejects task names the pipeline lacks: every known task state is sent, unknown names
    are dropped. `run_details`: also `executionId` and `endTime` (fields of servers >= 1.12)."""
    fresh = [
        task_status(tr, base_url, run.dag_id, run.run_id, airflow_major)
        for tr in combine_mapped(run.task_runs)
        if tr.task_id in task_names
    ]
    statuses = (
        merge_task_statuses(stored or [], fresh, authoritative or set()) if stored is not None else fresh
    )
    statuses = [s for s in statuses if s["name"] in task_names]
    body: dict[str, Any] = {
        "timestamp": run.logical_date_ms,
        "executionStatus": run_execution_status(run.state, statuses, task_names),
        "taskStatus": statuses,
    }
    if run_details:  # servers >= 1.12: the orchestrator's run id, and when a finished run ended
        body["executionId"] = run.run_id
        ends = [s["endTime"] for s in statuses if isinstance(s.get("endTime"), int)]
        if body["executionStatus"] in ("Successful", "Failed") and ends:
            body["endTime"] = max(ends)
    return body


def column_fqn(table_fqn: str, column: str) -> str:
    return f"{table_fqn}.{quote_name(column)}"


def columns_lineage(
    records: tuple[ColumnLineage, ...],
    from_table: str,
    to_table: str,
    from_columns: Optional[Collection[str]],
    to_columns: Optional[Collection[str]],
) -> tuple[list[dict[str, Any]], list[str]]:
    """`columnsLineage` entries of the edge from_table -> to_table, as column FQNs, keeping only columns the
    tables have (None: the table's columns are unknown, keep all); and the dropped column names."""
    entries: list[dict[str, Any]] = []
    dropped: list[str] = []
    for rec in records:
        if rec.from_table != from_table or rec.to_table != to_table:
            continue
        if to_columns is not None and rec.to_column not in to_columns:
            dropped.append(f"{to_table}.{rec.to_column}")
            continue
        sources = []
        for col in rec.from_columns:
            if from_columns is not None and col not in from_columns:
                dropped.append(f"{from_table}.{col}")
            else:
                sources.append(column_fqn(from_table, col))
        if sources:
            entry: dict[str, Any] = {
                "fromColumns": sorted(set(sources)),
                "toColumn": column_fqn(to_table, rec.to_column),
            }
            if rec.function:
                entry["function"] = rec.function
            entries.append(entry)
    return entries, dropped


def lineage_body(
    from_table_id: str,
    to_table_id: str,
    pipeline_id: str,
    columns: Optional[list[dict[str, Any]]] = None,
    details: Optional[dict[str, Any]] = None,
) -> dict[str, Any]:
    """AddLineageRequest: table -> table, drawn by the pipeline. `details`: lineage details to keep (the
    merged details of an existing edge on servers without the edge PATCH)."""
    lineage_details: dict[str, Any] = dict(details) if details else {"source": "PipelineLineage"}
    lineage_details.setdefault("pipeline", {"id": pipeline_id, "type": "pipeline"})
    if columns:
        lineage_details["columnsLineage"] = merge_columns(lineage_details.get("columnsLineage"), columns)
    return {
        "edge": {
            "fromEntity": {"id": from_table_id, "type": "table"},
            "toEntity": {"id": to_table_id, "type": "table"},
            "lineageDetails": lineage_details,
        }
    }


def _column_key(entry: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    return str(entry.get("toColumn")), tuple(sorted(str(c) for c in entry.get("fromColumns") or []))


def merge_columns(stored: Optional[list[dict[str, Any]]], ours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored column lineage first and untouched; ours added where no stored entry maps the same
    (toColumn, fromColumns)."""
    merged = [dict(e) for e in stored or [] if isinstance(e, dict)]
    seen = {_column_key(e) for e in merged}
    for entry in ours:
        if _column_key(entry) not in seen:
            merged.append(entry)
            seen.add(_column_key(entry))
    return merged


# Set by the server on every write, never sent back.
_SERVER_DETAIL_FIELDS = ("createdAt", "createdBy", "updatedAt", "updatedBy", "assetEdges")


def kept_edge_details(stored: dict[str, Any]) -> dict[str, Any]:
    """What a merged PUT must carry so an existing edge keeps everything others stored on it."""
    keep = {k: v for k, v in stored.items() if k not in _SERVER_DETAIL_FIELDS and v is not None}
    pipeline = keep.get("pipeline")
    if isinstance(pipeline, dict):
        keep["pipeline"] = {"id": pipeline.get("id"), "type": pipeline.get("type") or "pipeline"}
    return keep


def edge_patch(
    stored: dict[str, Any], pipeline_id: str, columns: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """JSON Patch on an existing edge's lineageDetails: add our pipeline where the edge names none, add our
    column lineage next to what is stored. Nothing stored is replaced or removed (an edge already drawn by
    another pipeline keeps it)."""
    ops: list[dict[str, Any]] = []
    if not stored.get("pipeline"):
        ops.append({"op": "add", "path": "/pipeline", "value": {"id": pipeline_id, "type": "pipeline"}})
    current = stored.get("columnsLineage")
    if columns:
        if not isinstance(current, list):
            ops.append({"op": "add", "path": "/columnsLineage", "value": merge_columns(None, columns)})
        else:
            seen = {_column_key(e) for e in current if isinstance(e, dict)}
            for entry in merge_columns(None, columns):
                if _column_key(entry) not in seen:
                    ops.append({"op": "add", "path": "/columnsLineage/-", "value": entry})
    return ops


# -- pipeline updates: only the fields the wheel owns ------------------------------------------------------

# What the DAG decides: the pipeline's structure and where it lives. Everything else on a stored pipeline
# (description, display name, owners, tags, domains, data products, followers, ...) belongs to its editors.
OWNED_PIPELINE_FIELDS = ("sourceUrl", "scheduleInterval", "sourceHash")
OWNED_TASK_FIELDS = ("taskType", "downstreamTasks", "sourceUrl")
# Written from the DAG only where the server holds none.
FILL_ONLY_FIELDS = ("description", "displayName")


def merged_tasks(stored: list[dict[str, Any]], desired: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The DAG's tasks, each keeping whatever the stored task of that name holds beyond the structure."""
    by_name = {t.get("name"): t for t in stored if isinstance(t, dict)}
    tasks = []
    for want in desired:
        old = by_name.get(want["name"])
        if old is None:
            tasks.append(dict(want))
            continue
        task = dict(old)
        for key in OWNED_TASK_FIELDS:
            if key in want:
                task[key] = want[key]
            else:
                task.pop(key, None)
        for key in FILL_ONLY_FIELDS:
            if not task.get(key) and want.get(key):
                task[key] = want[key]
        tasks.append(task)
    return tasks


def _set(stored: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {"op": "replace" if key in stored else "add", "path": f"/{key}", "value": value}


def pipeline_patch(stored: dict[str, Any], desired: dict[str, Any]) -> list[dict[str, Any]]:
    """JSON Patch from a stored pipeline to the DAG's structure (a CreatePipelineRequest body)."""
    ops: list[dict[str, Any]] = []
    for key in OWNED_PIPELINE_FIELDS:
        if key in desired and stored.get(key) != desired[key]:
            ops.append(_set(stored, key, desired[key]))
        elif key not in desired and stored.get(key) is not None:
            ops.append({"op": "remove", "path": f"/{key}"})
    for key in FILL_ONLY_FIELDS:
        if not stored.get(key) and desired.get(key):
            ops.append(_set(stored, key, desired[key]))
    current = [t for t in stored.get("tasks") or [] if isinstance(t, dict)]
    tasks = merged_tasks(current, desired.get("tasks") or [])
    if tasks != current:
        ops.append({"op": "replace" if "tasks" in stored else "add", "path": "/tasks", "value": tasks})
    return ops
