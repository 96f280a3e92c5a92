"""One report per task instance (or a run's final record): the entities it refers to (entities.py), the run
status, and one edge per inlet x outlet whose tables resolve.

The reporter sends; it does not keep. What to do with a report it could not deliver (keep it, drop it) is
the delivery layer's (delivery.py), which reads `ReportResult.failure`. The steady state is the status plus
at most one request per edge (entities.py remembers what this worker looked up and merged).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from .cache import DiskCache
from .client import (
    ClientError,
    IdentityError,
    NotFoundError,
    OpenMetadataClient,
    RejectedError,
    TransientError,
    quote_fqn,
)
from .config import LineageConfig
from .entities import Entities, Pipeline, UnsupportedServerError
from .model import TERMINAL, TaskReport, columns_lineage, status_body

log = logging.getLogger(__name__)


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
class _Progress:
    """Which steps of one report are done; ReportResult.not_sent names the others."""

    edges: list[str]  # labels of the edges not sent yet
    service: bool = False
    pipeline: bool = False
    status: bool = False

    def not_sent(self) -> list[str]:
        steps = (("service", self.service), ("pipeline", self.pipeline), ("status", self.status))
        return [name for name, done in steps if not done] + self.edges


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
        self.entities = Entities(config, client, self.cache)
        self._warned: set[str] = set()  # setup errors (identity, server version): one log line per process

    def _stored_task_statuses(
        self, pipeline: Pipeline, timestamp: int, deadline: float
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
        self, report: TaskReport, pipeline: Pipeline, deadline: float, replay: bool = False
    ) -> None:
        if report.run.complete:
            self._send_status(report, pipeline, deadline, replay)
            return
        # Read-merge-write of the run's status: concurrent task processes of this worker take turns, or the
        # last PUT drops the others' task states (measured: 4-5 of 10 kept). Other workers can still race.
        key = self.entities.key("status", f"{pipeline.fqn}|{report.run.logical_date_ms}")
        with self.cache.single_flight(key, deadline):
            self._send_status(report, pipeline, deadline, replay)

    def _send_status(self, report: TaskReport, pipeline: Pipeline, deadline: float, replay: bool) -> None:
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
            self.entities.run_details,
        )
        self.client.put(f"/v1/pipelines/{quote_fqn(pipeline.fqn)}/status", body, deadline)

    # -- the report ------------------------------------------------------------------------------------------

    def report(
        self,
        report: TaskReport,
        deadline: Optional[float] = None,
        replay: bool = False,
        status: bool = True,
    ) -> ReportResult:
        """Send one task instance's report (or a run's final record: `task_id` empty) within the time budget.
        Never raises ClientError: what stopped it is in the result.

        `replay=True` (a record kept after a failed attempt, or left by another process): the cached pipeline
        wins over the report's (it may carry an older DAG structure), the stored newer status wins.
        `status=False`: a newer report of the run carries this one's task states (delivery.py decides), so
        its status PUT is left to that one; the pipeline and the edges are still sent."""
        started = time.monotonic()
        deadline = deadline if deadline is not None else started + self.config.time_budget
        result = ReportResult()
        sent_before = self.client.requests_sent
        where = f"{report.dag.dag_id}.{report.task_id}" if report.task_id else f"{report.dag.dag_id} (run)"
        edges = [(i, o) for i in report.inlets for o in report.outlets if i != o]
        progress = _Progress(edges=[f"edge {i} -> {o}" for i, o in edges])
        try:
            self.entities.ensure_server(deadline)
            self.entities.ensure_service(deadline)
            progress.service = True
            pipeline = self.entities.ensure_pipeline(report, deadline, replay=replay)
            progress.pipeline = True
            if status:
                pipeline = self._status_step(report, pipeline, deadline, replay)
            progress.status = result.status_sent = status
            # Without a status PUT nothing has checked the cached pipeline yet: an edge's 404 may mean it.
            self._send_edges(report, edges, pipeline, deadline, result, progress, pipeline_checked=status)
        except TransientError as exc:
            result.error, result.failure, result.not_sent = str(exc), exc, progress.not_sent()
            log.warning(
                "OpenMetadata lineage: %s not delivered (%s); not sent: %s",
                where,
                exc,
                ", ".join(progress.not_sent()) or "-",
            )
        except (IdentityError, UnsupportedServerError) as exc:
            result.error, result.failure, result.not_sent = str(exc), exc, progress.not_sent()
            self._setup_error(exc)
        except ClientError as exc:
            result.error, result.failure, result.not_sent = str(exc), exc, progress.not_sent()
            log.warning("OpenMetadata lineage: %s rejected by the server: %s", where, exc)
        result.skipped_tables = list(dict.fromkeys(result.skipped_tables))
        result.requests = self.client.requests_sent - sent_before
        log.info(
            "OpenMetadata lineage: %s %s: status %s, %d/%d edges, %d requests, %.2fs",
            where,
            "replayed" if replay else "reported",
            "sent" if result.status_sent else ("in a newer record" if not status else "not sent"),
            result.edges_sent,
            len(edges),
            result.requests,
            time.monotonic() - started,
        )
        return result

    def _status_step(self, report: TaskReport, pipeline: Pipeline, deadline: float, replay: bool) -> Pipeline:
        """The status PUT; the pipeline as the server now has it (re-sent when the status found it stale)."""
        try:
            self.send_status(report, pipeline, deadline, replay)
            return pipeline
        except IdentityError:
            raise
        except (NotFoundError, RejectedError):
            if report.status_only:
                raise
            # The stored pipeline differs from our cache (deleted, or lacks a task): re-send it, retry once.
            pipeline = self.entities.ensure_pipeline(report, deadline, force=True)
            self.send_status(report, pipeline, deadline, replay)
            return pipeline

    def _send_edges(
        self,
        report: TaskReport,
        edges: list[tuple[str, str]],
        pipeline: Pipeline,
        deadline: float,
        result: ReportResult,
        progress: _Progress,
        pipeline_checked: bool = True,
    ) -> None:
        for inlet, outlet in edges:
            label = f"edge {inlet} -> {outlet}"
            try:
                try:
                    sent = self._send_edge(report, inlet, outlet, pipeline, deadline, result, retry=True)
                except NotFoundError:
                    if pipeline_checked or report.status_only:
                        raise
                    # The cached pipeline is gone on the server (deleted, re-created): write it, retry once.
                    pipeline = self.entities.ensure_pipeline(report, deadline, force=True)
                    pipeline_checked = True
                    sent = self._send_edge(report, inlet, outlet, pipeline, deadline, result, retry=True)
                if sent:
                    result.edges_sent += 1
            except IdentityError:
                raise
            except NotFoundError:
                log.warning("OpenMetadata lineage: %s: not found after a fresh table lookup; skipped", label)
            except RejectedError as exc:
                log.warning("OpenMetadata lineage: %s rejected: %s", label, exc)
            progress.edges.remove(label)

    def _send_edge(
        self,
        report: TaskReport,
        inlet: str,
        outlet: str,
        pipeline: Pipeline,
        deadline: float,
        result: ReportResult,
        retry: bool,
    ) -> bool:
        src, dst = self.entities.table(inlet, deadline), self.entities.table(outlet, deadline)
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
            self.entities.merge_edge(src.id, dst.id, pipeline, columns, deadline)
        except NotFoundError:
            if not retry:
                raise
            # A cached table id went stale (table re-created): look both up again, retry once.
            self.cache.delete(self.entities.key("table", inlet))
            self.cache.delete(self.entities.key("table", outlet))
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
