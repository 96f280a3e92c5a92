"""The entities a report refers to, looked up or created once per worker: the server's version, the pipeline
service, the pipeline, table ids; and the edges, merged without erasing what others stored.

A good citizen on a shared server: the service is created only when missing, never overwritten; an existing
pipeline gets a JSON Patch of the fields the DAG owns (structure, source URLs, schedule, sourceHash), never
its description, display name, owners, tags or domains; an existing edge keeps every detail others stored
(column lineage, SQL, description, source) and gets our pipeline and columns added. Everything is cached in
the worker-wide cache (cache.py) and filled under its single flight, so task processes starting together
send one lookup, not one each; the endpoint is part of every key, so two servers never share entries.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Optional

from .cache import DiskCache
from .client import (
    ConflictError,
    NotFoundError,
    OpenMetadataClient,
    RejectedError,
    TransientError,
    quote_fqn,
)
from .config import LineageConfig
from .model import (
    TaskReport,
    edge_patch,
    has_run_details,
    kept_edge_details,
    lineage_body,
    pipeline_body,
    pipeline_fqn,
    pipeline_patch,
    quote_name,
    service_body,
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
class Pipeline:
    id: str
    fqn: str
    tasks: list[str]


@dataclass(frozen=True)
class Table:
    id: str
    columns: Optional[tuple[str, ...]]  # None: the server did not say

    @classmethod
    def from_cache(cls, value: Any) -> Optional[Table]:
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


class Entities:
    def __init__(self, config: LineageConfig, client: OpenMetadataClient, cache: DiskCache) -> None:
        self.config = config
        self.client = client
        self.cache = cache
        self._unknown_tables: set[str] = set()  # warned once per process
        self.run_details = False  # the server takes PipelineStatus.executionId / endTime (>= 1.12)
        self.edge_patch_api = True  # getLineageEdge + PATCH /v1/lineage (else: read, merge, PUT)

    def key(self, kind: str, name: str) -> str:
        """A worker-wide cache key; the endpoint is part of it so two servers never share entries."""
        return f"{self.config.endpoint}|{kind}|{name}"

    def ensure_server(self, deadline: float) -> None:
        """The server's version, once per worker: refuse servers our request shapes don't fit."""
        key = self.key("server", "version")
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
        key = self.key("service", name)
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
    ) -> Pipeline:
        body = pipeline_body(
            report.dag, self.config.service_name, self.config.airflow_base_url, report.airflow_major
        )
        fqn = pipeline_fqn(self.config.service_name, report.dag.dag_id)
        key = self.key("pipeline", fqn)
        if report.status_only:  # the DAG is unknown here: use the pipeline as stored, never write it
            return self._stored_pipeline(key, fqn, deadline)
        if not force:
            cached = self._cached_pipeline(key, fqn, body["sourceHash"], replay)
            if cached is not None:
                return cached
        with self.cache.single_flight(key, deadline):  # one PUT per worker and DAG change
            return self._ensure_pipeline(report, body, fqn, key, deadline, force, replay)

    def _cached_pipeline(self, key: str, fqn: str, source_hash: str, replay: bool) -> Optional[Pipeline]:
        cached = self.cache.get(key)
        # A replayed report may carry an older DAG structure than the cache: never write it back over a newer.
        if isinstance(cached, dict) and cached.get("id") and (replay or cached.get("hash") == source_hash):
            return Pipeline(cached["id"], cached.get("fqn") or fqn, list(cached.get("tasks") or []))
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
    ) -> Pipeline:
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
        pipeline = Pipeline(
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

    def _stored_pipeline(self, key: str, fqn: str, deadline: float) -> Pipeline:
        cached = self.cache.get(key)
        if isinstance(cached, dict) and cached.get("id"):
            return Pipeline(cached["id"], cached.get("fqn") or fqn, list(cached.get("tasks") or []))
        entity = self._get_pipeline(fqn, deadline)
        if entity is None:
            raise NotFoundError(f"pipeline {fqn} is not in OpenMetadata (no task of it reported yet)", 404)
        tasks = [str(t["name"]) for t in entity.get("tasks") or [] if isinstance(t, dict) and t.get("name")]
        return Pipeline(str(entity["id"]), str(entity.get("fullyQualifiedName") or fqn), tasks)

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

    def table_id(self, fqn: str, deadline: float) -> Optional[str]:
        table = self.table(fqn, deadline)
        return table.id if table is not None else None

    def table(self, fqn: str, deadline: float) -> Optional[Table]:
        key = self.key("table", fqn)
        cached = Table.from_cache(self.cache.get(key))
        if cached is not None:
            return cached
        if fqn in self._unknown_tables:
            return None
        if self.cache.get(key) == {"missing": True}:  # another task process of this worker found it missing
            return self._unknown_table(fqn)
        with self.cache.single_flight(key, deadline):  # one lookup per worker
            value = self.cache.get(key)
            cached = Table.from_cache(value)
            if cached is not None:
                return cached
            if value == {"missing": True}:
                return self._unknown_table(fqn)
            return self._lookup_table(fqn, key, deadline)

    def _unknown_table(self, fqn: str) -> Optional[Table]:
        """None, warned once per process: the table is not in OpenMetadata."""
        if fqn not in self._unknown_tables:
            self._unknown_tables.add(fqn)
            log.warning("OpenMetadata lineage: table %s is not in OpenMetadata; its edges are skipped", fqn)
        return None

    def _lookup_table(self, fqn: str, key: str, deadline: float) -> Optional[Table]:
        try:
            entity = self.client.get(f"/v1/tables/name/{quote_fqn(fqn)}", deadline)
        except NotFoundError:
            self.cache.set(key, {"missing": True}, MISSING_TABLE_TTL)
            return self._unknown_table(fqn)
        if not isinstance(entity, dict) or not entity.get("id"):
            raise TransientError(f"GET /v1/tables/name/{fqn}: the answer has no id")
        columns = entity.get("columns")
        table = Table(
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
        self, from_id: str, to_id: str, pipeline: Pipeline, columns: list[dict[str, Any]], deadline: float
    ) -> None:
        """Create the edge, or add our pipeline and columns to the one stored; remembered per worker."""
        key = self.key("edge", f"{from_id}|{to_id}")
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
        pipeline: Pipeline,
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
