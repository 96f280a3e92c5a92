"""One report per task instance: the server's version and the pipeline service (once per worker), the
pipeline (when its structure changed), the run status, and one edge per inlet x outlet whose tables resolve.

A good citizen on a shared server: the service is created only when missing, never overwritten; an existing
pipeline gets a JSON Patch of the fields the DAG owns (structure, source URLs, schedule, sourceHash), never
its description, display name, owners, tags or domains; an existing edge keeps every detail others stored
(column lineage, SQL, description, source) and gets our pipeline and columns added. Which edges were
merged is remembered per worker, so the steady state is the status plus at most one request per edge.

The reporter sends; it does not keep. What to do with a report it could not deliver (keep it, drop it) is
the delivery layer's (delivery.py), which reads `ReportResult.failure`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from .cache import DiskCache
from .client import (
    ClientError,
    ConflictError,
    IdentityError,
    NotFoundError,
    OpenMetadataClient,
    RejectedError,
    TransientError,
    quote_fqn,
)
from .config import LineageConfig
from .model import (
    TERMINAL,
    TaskReport,
    columns_lineage,
    edge_patch,
    has_run_details,
    kept_edge_details,
    lineage_body,
    pipeline_body,
    pipeline_fqn,
    pipeline_patch,
    quote_name,
    service_body,
    status_body,
    unsupported_server,
)

log = logging.getLogger(__name__)

SERVICE_TTL = 6 * 3600.0
SERVER_TTL = 6 * 3600.0
PIPELINE_TTL = 24 * 3600.0
TABLE_TTL = 3600.0
EDGE_TTL = 3600.0  # a merged edge is looked at again after this long (someone may have removed it)

# A table OpenMetadata does not know is remembered worker-wide this long: task processes waiting on the same
# lookup (single flight) then skip it instead of each asking in turn; a table created later shows up soon.
MISSING_TABLE_TTL = 60.0


class UnsupportedServerError(RejectedError):
    """The server's version is outside what the wheel's request shapes fit."""


@dataclass
class ReportResult:
    requests: int = 0
    status_sent: bool = False
    edges_sent: int = 0
    skipped_tables: list[str] = field(default_factory=list)
    not_sent: list[str] = field(default_factory=list)  # what a transient error / the budget left undelivered
    error: Optional[str] = None
    failure: Optional[ClientError] = field(default=None, repr=False)  # what stopped it (delivery.py reads it)


@dataclass
class _Pipeline:
    id: str
    fqn: str
    tasks: list[str]


@dataclass(frozen=True)
class _Table:
    id: str
    columns: Optional[tuple[str, ...]]  # None: the server did not say

    @classmethod
    def from_cache(cls, value: Any) -> Optional[_Table]:
        if isinstance(value, str):  # cache entries written before columns were kept
            return cls(value, None)
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            cols = value.get("columns")
            return cls(value["id"], tuple(cols) if isinstance(cols, list) else None)
        return None

    def to_cache(self) -> dict[str, Any]:
        return {"id": self.id, "columns": list(self.columns) if self.columns is not None else None}


def _edge_mark(pipeline_id: str, columns: list[dict[str, Any]]) -> str:
    """What this worker merged into an edge: our pipeline and our column lineage."""
    canon = json.dumps([pipeline_id, sorted(json.dumps(c, sort_keys=True) for c in columns)])
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:24]


class Reporter:
    def __init__(
        self,
        config: LineageConfig,
        client: OpenMetadataClient,
        cache: Optional[DiskCache] = None,
    ) -> None:
        self.config = config
        self.client = client
        self.cache = cache if cache is not None else DiskCache(config.spool_dir)
        self._unknown_tables: set[str] = set()  # warned once per process
        self._warned: set[str] = set()  # setup errors (identity, server version): one log line per process
        self.run_details = False  # the server takes PipelineStatus.executionId / endTime (>= 1.12)
        self.edge_patch_api = True  # getLineageEdge + PATCH /v1/lineage (else: read, merge, PUT)

    # -- cache keys: the endpoint is part of every key so two servers never share entries --------------------

    def _key(self, kind: str, name: str) -> str:
        return f"{self.config.endpoint}|{kind}|{name}"

    # -- steps -----------------------------------------------------------------------------------------------

    def ensure_server(self, deadline: float) -> None:
        """The server's version, once per worker: refuse servers our request shapes don't fit."""
        key = self._key("server", "version")
        version = self.cache.get(key)
        if not isinstance(version, str):
            with self.cache.single_flight(key, deadline):
                version = self.cache.get(key)
                if not isinstance(version, str):
                    answer = self.client.get("/v1/system/version", deadline)
                    version = str(answer.get("version") or "") if isinstance(answer, dict) else ""
                    self.cache.set(key, version, SERVER_TTL)
        reason = unsupported_server(version)
        if reason:
            raise UnsupportedServerError(reason)
        self.run_details = has_run_details(version)

    def ensure_service(self, deadline: float, force: bool = False) -> None:
        """Get or create: an existing service (and the connection its administrator set) is never written."""
        name = self.config.service_name
        key = self._key("service", name)
        if not force and self.cache.get(key):
            return
        with self.cache.single_flight(key, deadline):  # one lookup per worker, not one per task process
            if not force and self.cache.get(key):
                return
            try:
                self.client.get(f"/v1/services/pipelineServices/name/{quote_fqn(quote_name(name))}", deadline)
            except NotFoundError:
                try:
                    body = service_body(name, self.config.airflow_base_url)
                    self.client.post("/v1/services/pipelineServices", body, deadline)
                    log.info("OpenMetadata lineage: created the pipeline service %s", name)
                except ConflictError:
                    pass  # another worker created it first
            self.cache.set(key, True, SERVICE_TTL)

    def ensure_pipeline(
        self, report: TaskReport, deadline: float, force: bool = False, replay: bool = False
    ) -> _Pipeline:
        body = pipeline_body(
            report.dag, self.config.service_name, self.config.airflow_base_url, report.airflow_major
        )
        fqn = pipeline_fqn(self.config.service_name, report.dag.dag_id)
        key = self._key("pipeline", fqn)
        if report.status_only:  # the DAG is unknown here: use the pipeline as stored, never write it
            return self._stored_pipeline(key, fqn, deadline)
        if not force:
            cached = self._cached_pipeline(key, fqn, body["sourceHash"], replay)
            if cached is not None:
                return cached
        with self.cache.single_flight(key, deadline):  # one PUT per worker and DAG change
            return self._ensure_pipeline(report, body, fqn, key, deadline, force, replay)

    def _cached_pipeline(self, key: str, fqn: str, source_hash: str, replay: bool) -> Optional[_Pipeline]:
        cached = self.cache.get(key)
        # A replayed report may carry an older DAG structure than the cache: never write it back over a newer.
        if isinstance(cached, dict) and cached.get("id") and (replay or cached.get("hash") == source_hash):
            return _Pipeline(cached["id"], cached.get("fqn") or fqn, list(cached.get("tasks") or []))
        return None

    def _ensure_pipeline(
        self,
        report: TaskReport,
        body: dict[str, Any],
        fqn: str,
        key: str,
        deadline: float,
        force: bool,
        replay: bool,
    ) -> _Pipeline:
        cached = None if force else self._cached_pipeline(key, fqn, body["sourceHash"], replay)
        if cached is not None:  # another task process wrote it while this one waited
            return cached
        entity = self._get_pipeline(fqn, deadline)
        if entity is None:
            entity = self._create_pipeline(body, fqn, deadline)
        if force or entity.get("sourceHash") != body["sourceHash"]:
            # Someone else's copy, an older DAG, or (force) a stored structure the server proved different:
            # patch only what the DAG owns.
            ops = pipeline_patch(entity, body)
            if ops:
                entity = self.client.patch(f"/v1/pipelines/{entity['id']}", ops, deadline) or entity
        if not isinstance(entity, dict) or not entity.get("id"):
            raise TransientError("pipeline: the answer has no pipeline id")
        pipeline = _Pipeline(
            str(entity["id"]),
            str(entity.get("fullyQualifiedName") or fqn),
            [t["name"] for t in body["tasks"]],
        )
        self.cache.set(
            key,
            {"hash": body["sourceHash"], "id": pipeline.id, "fqn": pipeline.fqn, "tasks": pipeline.tasks},
            PIPELINE_TTL,
        )
        return pipeline

    def _stored_pipeline(self, key: str, fqn: str, deadline: float) -> _Pipeline:
        cached = self.cache.get(key)
        if isinstance(cached, dict) and cached.get("id"):
            return _Pipeline(cached["id"], cached.get("fqn") or fqn, list(cached.get("tasks") or []))
        entity = self._get_pipeline(fqn, deadline)
        if entity is None:
            raise NotFoundError(f"pipeline {fqn} is not in OpenMetadata (no task of it reported yet)", 404)
        tasks = [t.get("name") for t in entity.get("tasks") or [] if isinstance(t, dict) and t.get("name")]
        return _Pipeline(str(entity["id"]), str(entity.get("fullyQualifiedName") or fqn), tasks)

    def _get_pipeline(self, fqn: str, deadline: float) -> Optional[dict[str, Any]]:
        try:
            entity = self.client.get(f"/v1/pipelines/name/{quote_fqn(fqn)}?fields=tasks", deadline)
        except NotFoundError:
            return None
        if not isinstance(entity, dict) or not entity.get("id"):
            raise TransientError(f"GET /v1/pipelines/name/{fqn}: the answer has no pipeline id")
        return entity

    def _create_pipeline(self, body: dict[str, Any], fqn: str, deadline: float) -> dict[str, Any]:
        try:
            try:
                entity = self.client.post("/v1/pipelines", body, deadline)
            except NotFoundError:
                # The service is gone on the server (deleted, or our cache is stale): create it, then retry.
                self.ensure_service(deadline, force=True)
                entity = self.client.post("/v1/pipelines", body, deadline)
        except ConflictError:  # another worker created it between our lookup and our create
            entity = self._get_pipeline(fqn, deadline)
        if not isinstance(entity, dict) or not entity.get("id"):
            raise TransientError("POST /v1/pipelines: the answer has no pipeline id")
        return entity

    def _stored_task_statuses(
        self, pipeline: _Pipeline, timestamp: int, deadline: float
    ) -> list[dict[str, Any]]:
        path = f"/v1/pipelines/{quote_fqn(pipeline.fqn)}/status?startTs={timestamp}&endTs={timestamp}"
        try:
            answer = self.client.get(path, deadline)
        except NotFoundError:
            return []
        rows = answer.get("data", []) if isinstance(answer, dict) else []
        for row in rows:
            if isinstance(row, dict) and row.get("timestamp") == timestamp:
                return [s for s in row.get("taskStatus") or [] if isinstance(s, dict)]
        return []

    def send_status(
        self, report: TaskReport, pipeline: _Pipeline, deadline: float, replay: bool = False
    ) -> None:
        if report.run.complete:
            self._send_status(report, pipeline, deadline, replay)
            return
        # Read-merge-write of the run's status: concurrent task processes of this worker take turns, or the
        # last PUT drops the others' task states (measured: 4-5 of 10 kept). Other workers can still race.
        key = self._key("status", f"{pipeline.fqn}|{report.run.logical_date_ms}")
        with self.cache.single_flight(key, deadline):
            self._send_status(report, pipeline, deadline, replay)

    def _send_status(self, report: TaskReport, pipeline: _Pipeline, deadline: float, replay: bool) -> None:
        names = set(pipeline.tasks)
        stored = None
        if not report.run.complete:
            stored = self._stored_task_statuses(pipeline, report.run.logical_date_ms, deadline)
        authoritative = {report.task_id}
        if replay and stored and _stored_is_newer(stored, report):
            authoritative = set()  # a later try already reported: the replay only fills gaps
        body = status_body(
            report.run,
            names,
            self.config.airflow_base_url,
            report.airflow_major,
            stored,
            authoritative,
            self.run_details,
        )
        self.client.put(f"/v1/pipelines/{quote_fqn(pipeline.fqn)}/status", body, deadline)

    def table_id(self, fqn: str, deadline: float) -> Optional[str]:
        table = self.table(fqn, deadline)
        return table.id if table is not None else None

    def table(self, fqn: str, deadline: float) -> Optional[_Table]:
        key = self._key("table", fqn)
        cached = _Table.from_cache(self.cache.get(key))
        if cached is not None:
            return cached
        if fqn in self._unknown_tables:
            return None
        if self.cache.get(key) == {"missing": True}:  # another task process of this worker found it missing
            return self._unknown_table(fqn)
        with self.cache.single_flight(key, deadline):  # one lookup per worker
            value = self.cache.get(key)
            cached = _Table.from_cache(value)
            if cached is not None:
                return cached
            if value == {"missing": True}:
                return self._unknown_table(fqn)
            return self._lookup_table(fqn, key, deadline)

    def _unknown_table(self, fqn: str) -> None:
        self._unknown_tables.add(fqn)
        log.warning("OpenMetadata lineage: table %s is not in OpenMetadata; its edges are skipped", fqn)

    def _lookup_table(self, fqn: str, key: str, deadline: float) -> Optional[_Table]:
        try:
            entity = self.client.get(f"/v1/tables/name/{quote_fqn(fqn)}", deadline)
        except NotFoundError:
            self.cache.set(key, {"missing": True}, MISSING_TABLE_TTL)
            return self._unknown_table(fqn)
        if not isinstance(entity, dict) or not entity.get("id"):
            raise TransientError(f"GET /v1/tables/name/{fqn}: the answer has no id")
        columns = entity.get("columns")
        table = _Table(
            str(entity["id"]),
            None
            if not isinstance(columns, list)
            else tuple(str(c.get("name")) for c in columns if isinstance(c, dict) and c.get("name")),
        )
        self.cache.set(key, table.to_cache(), TABLE_TTL)
        return table

    # -- edges: add, never erase -----------------------------------------------------------------------------

    def _stored_edge(self, from_id: str, to_id: str, deadline: float) -> Optional[dict[str, Any]]:
        """The edge's stored lineageDetails, or None when there is no edge yet."""
        if self.edge_patch_api:
            try:
                answer = self.client.get(f"/v1/lineage/getLineageEdge/{from_id}/{to_id}", deadline)
            except NotFoundError as exc:
                if "lineage edge not found" in str(exc).lower():
                    return None
                self.edge_patch_api = False  # the route itself is missing: a server before the edge API
                log.info("OpenMetadata lineage: the server has no lineage edge API; merging through PUT")
            else:
                edge = answer.get("edge") if isinstance(answer, dict) else None
                return edge if isinstance(edge, dict) else {}
        answer = self.client.get(f"/v1/lineage/table/{from_id}?upstreamDepth=0&downstreamDepth=1", deadline)
        for edge in (answer or {}).get("downstreamEdges") or []:
            if isinstance(edge, dict) and edge.get("fromEntity") == from_id and edge.get("toEntity") == to_id:
                details = edge.get("lineageDetails")
                return details if isinstance(details, dict) else {}
        return None

    def merge_edge(
        self, from_id: str, to_id: str, pipeline: _Pipeline, columns: list[dict[str, Any]], deadline: float
    ) -> None:
        """Create the edge, or add our pipeline and columns to the one stored; remembered per worker."""
        key = self._key("edge", f"{from_id}|{to_id}")
        mark = _edge_mark(pipeline.id, columns)
        if self.cache.get(key) == mark:
            return  # this worker merged exactly this already
        with self.cache.single_flight(key, deadline):  # one merge per worker: no racing PUTs of a new edge
            if self.cache.get(key) != mark:
                self._merge_edge(key, mark, from_id, to_id, pipeline, columns, deadline)

    def _merge_edge(
        self,
        key: str,
        mark: str,
        from_id: str,
        to_id: str,
        pipeline: _Pipeline,
        columns: list[dict[str, Any]],
        deadline: float,
    ) -> None:
        stored = self._stored_edge(from_id, to_id, deadline)
        if stored is None:
            self.client.put("/v1/lineage", lineage_body(from_id, to_id, pipeline.id, columns), deadline)
        elif self.edge_patch_api:
            ops = edge_patch(stored, pipeline.id, columns)
            if ops:
                self.client.patch(f"/v1/lineage/table/{from_id}/table/{to_id}", ops, deadline)
        else:
            kept = kept_edge_details(stored)
            body = lineage_body(from_id, to_id, pipeline.id, columns, details=kept)
            if body["edge"]["lineageDetails"] != kept:
                self.client.put("/v1/lineage", body, deadline)
        self.cache.set(key, mark, EDGE_TTL)

    # -- the report ------------------------------------------------------------------------------------------

    def report(
        self, report: TaskReport, deadline: Optional[float] = None, replay: bool = False
    ) -> ReportResult:
        """Send one task instance's report (or a run's final record: `task_id` empty) within the time budget.
        Never raises ClientError: what stopped it is in the result.

        `replay=True` (a record kept after a failed attempt, or left by another process): the cached pipeline
        wins over the report's (it may carry an older DAG structure), the stored newer status wins."""
        started = time.monotonic()
        deadline = deadline if deadline is not None else started + self.config.time_budget
        result = ReportResult()
        sent_before = self.client.requests_sent
        where = f"{report.dag.dag_id}.{report.task_id}" if report.task_id else f"{report.dag.dag_id} (run)"
        edges = [(i, o) for i in report.inlets for o in report.outlets if i != o]
        pending = ["service", "pipeline", "status", *(f"edge {i} -> {o}" for i, o in edges)]
        try:
            self.ensure_server(deadline)
            self.ensure_service(deadline)
            pending.remove("service")
            pipeline = self.ensure_pipeline(report, deadline, replay=replay)
            pending.remove("pipeline")
            try:
                self.send_status(report, pipeline, deadline, replay)
            except IdentityError:
                raise
            except (NotFoundError, RejectedError):
                if report.status_only:
                    raise
                # The stored pipeline differs from our cache (deleted, or lacks a task): re-send it, retry
                # once.
                pipeline = self.ensure_pipeline(report, deadline, force=True)
                self.send_status(report, pipeline, deadline, replay)
            pending.remove("status")
            result.status_sent = True
            self._send_edges(report, edges, pipeline, deadline, result, pending)
        except TransientError as exc:
            result.error, result.failure, result.not_sent = str(exc), exc, pending
            log.warning(
                "OpenMetadata lineage: %s not delivered (%s); not sent: %s",
                where,
                exc,
                ", ".join(pending) or "-",
            )
        except (IdentityError, UnsupportedServerError) as exc:
            result.error, result.failure, result.not_sent = str(exc), exc, pending
            self._setup_error(exc)
        except ClientError as exc:
            result.error, result.failure, result.not_sent = str(exc), exc, pending
            log.warning("OpenMetadata lineage: %s rejected by the server: %s", where, exc)
        result.skipped_tables = list(dict.fromkeys(result.skipped_tables))
        result.requests = self.client.requests_sent - sent_before
        log.info(
            "OpenMetadata lineage: %s %s: status %s, %d/%d edges, %d requests, %.2fs",
            where,
            "replayed" if replay else "reported",
            "sent" if result.status_sent else "not sent",
            result.edges_sent,
            len(edges),
            result.requests,
            time.monotonic() - started,
        )
        return result

    def _send_edges(
        self,
        report: TaskReport,
        edges: list[tuple[str, str]],
        pipeline: _Pipeline,
        deadline: float,
        result: ReportResult,
        pending: list[str],
    ) -> None:
        for inlet, outlet in edges:
            label = f"edge {inlet} -> {outlet}"
            try:
                if self._send_edge(report, inlet, outlet, pipeline, deadline, result, retry=True):
                    result.edges_sent += 1
            except IdentityError:
                raise
            except NotFoundError:
                log.warning("OpenMetadata lineage: %s: not found after a fresh table lookup; skipped", label)
            except RejectedError as exc:
                log.warning("OpenMetadata lineage: %s rejected: %s", label, exc)
            pending.remove(label)

    def _send_edge(
        self,
        report: TaskReport,
        inlet: str,
        outlet: str,
        pipeline: _Pipeline,
        deadline: float,
        result: ReportResult,
        retry: bool,
    ) -> bool:
        src, dst = self.table(inlet, deadline), self.table(outlet, deadline)
        if src is None or dst is None:
            result.skipped_tables.extend(f for f, t in ((inlet, src), (outlet, dst)) if t is None)
            return False
        columns, dropped = columns_lineage(report.column_lineage, inlet, outlet, src.columns, dst.columns)
        if dropped:
            log.info(
                "OpenMetadata lineage: column lineage %s -> %s: columns not in OpenMetadata, left out: %s",
                inlet,
                outlet,
                ", ".join(sorted(set(dropped))),
            )
        try:
            self.merge_edge(src.id, dst.id, pipeline, columns, deadline)
        except NotFoundError:
            if not retry:
                raise
            # A cached table id went stale (table re-created): look both up again, retry once.
            self.cache.delete(self._key("table", inlet))
            self.cache.delete(self._key("table", outlet))
            return self._send_edge(report, inlet, outlet, pipeline, deadline, result, retry=False)
        return True

    def _setup_error(self, exc: ClientError) -> None:
        """A deployment problem no retry fixes: said once per process, nothing kept for a replay."""
        if isinstance(exc, IdentityError):
            text = (
                f"OpenMetadata lineage is off: {exc}. Create that user (or a bot) in OpenMetadata, or check"
                " the token's email/subject claim and [lineage] auth_provider_type"
            )
        else:
            text = f"OpenMetadata lineage is off: {exc}"
        if text not in self._warned:
            self._warned.add(text)
            log.error(text)


def _stored_is_newer(stored: list[dict[str, Any]], report: TaskReport) -> bool:
    """The server holds a finished status for the report's task that ended after the report's own run."""
    mine = [tr.end_ms or 0 for tr in report.run.task_runs if tr.task_id == report.task_id]
    for status in stored:
        if status.get("name") == report.task_id and status.get("executionStatus") in TERMINAL:
            return int(status.get("endTime") or 0) > max(mine, default=0)
    return False
