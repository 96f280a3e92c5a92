"""One report per task instance: service (once per worker), pipeline (when its structure changed), the
run status, and one edge per inlet x outlet whose tables resolve. Steady state: status + edges, nothing else.

Seams for later work:
- `on_undelivered(report, error)`: called when a transient error or the time budget stops a report; the
  spool (issue 7) stores `report.to_dict()` and replays it with `Reporter.report()`. Every call here is an
  idempotent PUT, and a handed-over report is marked incomplete so a replay merges with the stored status.
- `marks.claim(key)`: the "already reported" mark per task instance try (issue 6: on 2.x the backend and
  the listener must report once between them). The default remembers claims in this process only.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

from .cache import DiskCache
from .client import ClientError, NotFoundError, OpenMetadataClient, RejectedError, TransientError, quote_fqn
from .config import LineageConfig
from .model import (
    TERMINAL,
    TaskReport,
    lineage_body,
    pipeline_body,
    pipeline_fqn,
    service_body,
    status_body,
)

if TYPE_CHECKING:
    from .spool import Spool

log = logging.getLogger(__name__)

SERVICE_TTL = 6 * 3600.0
PIPELINE_TTL = 24 * 3600.0
TABLE_TTL = 3600.0
# A table OpenMetadata does not know is remembered worker-wide this long: task processes waiting on the same
# lookup (single flight) then skip it instead of each asking in turn; a table created later shows up soon.
MISSING_TABLE_TTL = 60.0


class ReportMarks(Protocol):
    def claim(self, key: str) -> bool:
        """True the first time `key` is claimed (go ahead and report), False afterwards."""
        ...

    def seen(self, key: str) -> bool:
        """Whether `key` was claimed already (a cheap look before building a report)."""
        ...


class MemoryMarks:
    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True

    def seen(self, key: str) -> bool:
        with self._lock:
            return key in self._seen


def try_key(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> str:
    """The "already reported" mark of one task instance try."""
    return f"{dag_id}|{run_id}|{task_id}|{map_index}|{try_number}"


def mark_key(report: TaskReport) -> str:
    r = report
    return try_key(r.dag.dag_id, r.run.run_id, r.task_id, r.map_index, r.try_number)


@dataclass
class ReportResult:
    requests: int = 0
    status_sent: bool = False
    edges_sent: int = 0
    skipped_tables: list[str] = field(default_factory=list)
    not_sent: list[str] = field(default_factory=list)  # what a transient error / the budget left undelivered
    error: Optional[str] = None
    duplicate: bool = False
    failure: Optional[ClientError] = field(default=None, repr=False)  # what stopped it (the spool reads it)


@dataclass
class _Pipeline:
    id: str
    fqn: str
    tasks: list[str]


class Reporter:
    def __init__(
        self,
        config: LineageConfig,
        client: OpenMetadataClient,
        cache: Optional[DiskCache] = None,
        marks: Optional[ReportMarks] = None,
        on_undelivered: Optional[Callable[[TaskReport, ClientError], None]] = None,
        spool: Optional[Spool] = None,
    ) -> None:
        self.config = config
        self.client = client
        self.cache = cache if cache is not None else DiskCache(config.spool_dir)
        self.marks: ReportMarks = marks if marks is not None else MemoryMarks()
        # spool.py: keeps undelivered reports, holds new ones during a Retry-After, replays after a delivery
        self.spool = spool
        self.on_undelivered = on_undelivered or (spool.store if spool is not None else None)
        self._unknown_tables: set[str] = set()  # warned once per process

    # -- cache keys: the endpoint is part of every key so two servers never share entries --------------------

    def _key(self, kind: str, name: str) -> str:
        return f"{self.config.endpoint}|{kind}|{name}"

    # -- steps -----------------------------------------------------------------------------------------------

    def ensure_service(self, deadline: float, force: bool = False) -> None:
        body = service_body(self.config.service_name, self.config.airflow_base_url)
        key = self._key("service", f"{self.config.service_name}|{self.config.airflow_base_url}")
        if not force and self.cache.get(key):
            return
        with self.cache.single_flight(key, deadline):  # one PUT per worker, not one per task process
            if not force and self.cache.get(key):
                return
            self.client.put("/v1/services/pipelineServices", body, deadline)
            self.cache.set(key, True, SERVICE_TTL)

    def ensure_pipeline(
        self, report: TaskReport, deadline: float, force: bool = False, replay: bool = False
    ) -> _Pipeline:
        body = pipeline_body(
            report.dag, self.config.service_name, self.config.airflow_base_url, report.airflow_major
        )
        fqn = pipeline_fqn(self.config.service_name, report.dag.dag_id)
        key = self._key("pipeline", fqn)
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
        try:
            entity = self._put_pipeline(body, deadline)
        except NotFoundError:
            # The service is gone on the server (deleted, or our cache is stale): create it, then retry once.
            self.ensure_service(deadline, force=True)
            entity = self._put_pipeline(body, deadline)
        if not isinstance(entity, dict) or not entity.get("id"):
            raise TransientError("PUT /v1/pipelines: the answer has no pipeline id")
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

    def _put_pipeline(self, body: dict[str, Any], deadline: float) -> Any:
        try:
            return self.client.put("/v1/pipelines", body, deadline)
        except RejectedError as exc:
            # Servers before sourceHash existed reject the unknown field (400): the hash is ours anyway (the
            # disk cache keeps it), so send the pipeline without it.
            if exc.status != 400 or "sourceHash" not in str(exc):
                raise
            return self.client.put(
                "/v1/pipelines", {k: v for k, v in body.items() if k != "sourceHash"}, deadline
            )

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
            report.run, names, self.config.airflow_base_url, report.airflow_major, stored, authoritative
        )
        self.client.put(f"/v1/pipelines/{quote_fqn(pipeline.fqn)}/status", body, deadline)

    def table_id(self, fqn: str, deadline: float) -> Optional[str]:
        key = self._key("table", fqn)
        cached = self.cache.get(key)
        if isinstance(cached, str):
            return cached
        if fqn in self._unknown_tables:
            return None
        if cached == {"missing": True}:  # another task process of this worker just found it missing
            return self._unknown_table(fqn)
        with self.cache.single_flight(key, deadline):  # one lookup per worker
            cached = self.cache.get(key)
            if isinstance(cached, str):
                return cached
            if cached == {"missing": True}:
                return self._unknown_table(fqn)
            return self._lookup_table(fqn, key, deadline)

    def _unknown_table(self, fqn: str) -> None:
        self._unknown_tables.add(fqn)
        log.warning("OpenMetadata lineage: table %s is not in OpenMetadata; its edges are skipped", fqn)

    def _lookup_table(self, fqn: str, key: str, deadline: float) -> Optional[str]:
        try:
            entity = self.client.get(f"/v1/tables/name/{quote_fqn(fqn)}", deadline)
        except NotFoundError:
            self.cache.set(key, {"missing": True}, MISSING_TABLE_TTL)
            return self._unknown_table(fqn)
        if not isinstance(entity, dict) or not entity.get("id"):
            raise TransientError(f"GET /v1/tables/name/{fqn}: the answer has no id")
        self.cache.set(key, str(entity["id"]), TABLE_TTL)
        return str(entity["id"])

    # -- the report ------------------------------------------------------------------------------------------

    def report(
        self, report: TaskReport, deadline: Optional[float] = None, replay: bool = False
    ) -> ReportResult:
        """Send one task instance's report within the time budget. Never raises ClientError.

        `replay=True` (the spool re-sending a kept report): no duplicate check, no hand-over to the spool (it
        keeps its own entry), the cached pipeline wins over the report's, the stored newer status wins."""
        started = time.monotonic()
        deadline = deadline if deadline is not None else started + self.config.time_budget
        result = ReportResult()
        sent_before = self.client.requests_sent
        where = f"{report.dag.dag_id}.{report.task_id}"
        if not replay and not self.marks.claim(mark_key(report)):
            result.duplicate = True
            log.debug("OpenMetadata lineage: %s already reported", where)
            return result
        edges = [(i, o) for i in report.inlets for o in report.outlets if i != o]
        pending = ["service", "pipeline", "status", *(f"edge {i} -> {o}" for i, o in edges)]
        try:
            if self.spool is not None and not replay:
                self.spool.check_backoff()  # the server's Retry-After still runs: spool, send nothing
            self.ensure_service(deadline)
            pending.remove("service")
            pipeline = self.ensure_pipeline(report, deadline, replay=replay)
            pending.remove("pipeline")
            try:
                self.send_status(report, pipeline, deadline, replay)
            except (NotFoundError, RejectedError):
                # The stored pipeline differs from our cache (deleted, or lacks a task): re-send it, retry
                # once.
                pipeline = self.ensure_pipeline(report, deadline, force=True)
                self.send_status(report, pipeline, deadline, replay)
            pending.remove("status")
            result.status_sent = True
            self._send_edges(edges, pipeline, deadline, result, pending)
        except TransientError as exc:
            result.error = str(exc)
            result.failure = exc
            result.not_sent = pending
            log.warning(
                "OpenMetadata lineage: %s not delivered (%s); not sent: %s",
                where,
                exc,
                ", ".join(pending) or "-",
            )
            if self.on_undelivered is not None and not replay:
                self._hand_over(replace(report, run=replace(report.run, complete=False)), exc)
        except ClientError as exc:
            result.error = str(exc)
            result.failure = exc
            result.not_sent = pending
            log.warning("OpenMetadata lineage: %s rejected by the server: %s", where, exc)
            if exc.status in (401, 403) and self.on_undelivered is not None and not replay:
                # Credentials get fixed without the report changing: keep it for a replay then.
                self._hand_over(replace(report, run=replace(report.run, complete=False)), exc)
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
        if result.error is None and self.spool is not None and not replay:
            self._replay_spool(deadline)
        return result

    def _replay_spool(self, deadline: float) -> None:
        """The server took this report: deliver what the spool kept, within what is left of the budget."""
        try:
            self.spool.replay(self, deadline)  # type: ignore[union-attr]
        except Exception as err:  # the spool must never fail a report
            log.warning("OpenMetadata lineage: spool replay failed: %s", type(err).__name__)

    def _send_edges(
        self,
        edges: list[tuple[str, str]],
        pipeline: _Pipeline,
        deadline: float,
        result: ReportResult,
        pending: list[str],
    ) -> None:
        for inlet, outlet in edges:
            label = f"edge {inlet} -> {outlet}"
            from_id, to_id = self.table_id(inlet, deadline), self.table_id(outlet, deadline)
            if from_id is None or to_id is None:
                result.skipped_tables.extend(f for f, i in ((inlet, from_id), (outlet, to_id)) if i is None)
                pending.remove(label)
                continue
            try:
                try:
                    self.client.put("/v1/lineage", lineage_body(from_id, to_id, pipeline.id), deadline)
                except NotFoundError:
                    # A cached table id went stale (table re-created): look both up again, retry once.
                    self.cache.delete(self._key("table", inlet))
                    self.cache.delete(self._key("table", outlet))
                    from_id, to_id = self.table_id(inlet, deadline), self.table_id(outlet, deadline)
                    if from_id is None or to_id is None:
                        result.skipped_tables.extend(
                            f for f, i in ((inlet, from_id), (outlet, to_id)) if i is None
                        )
                        pending.remove(label)
                        continue
                    self.client.put("/v1/lineage", lineage_body(from_id, to_id, pipeline.id), deadline)
                result.edges_sent += 1
            except NotFoundError:
                log.warning("OpenMetadata lineage: %s: not found after a fresh table lookup; skipped", label)
            except RejectedError as exc:
                log.warning("OpenMetadata lineage: %s rejected: %s", label, exc)
            pending.remove(label)

    def _hand_over(self, report: TaskReport, exc: ClientError) -> None:
        try:
            self.on_undelivered(report, exc)  # type: ignore[misc]
        except Exception as err:  # the spool must never fail a report
            log.warning("OpenMetadata lineage: could not keep the undelivered report: %s", type(err).__name__)


def _stored_is_newer(stored: list[dict[str, Any]], report: TaskReport) -> bool:
    """The server holds a finished status for the report's task that ended after the report's own run."""
    mine = [tr.end_ms or 0 for tr in report.run.task_runs if tr.task_id == report.task_id]
    for status in stored:
        if status.get("name") == report.task_id and status.get("executionStatus") in TERMINAL:
            return int(status.get("endTime") or 0) > max(mine, default=0)
    return False
