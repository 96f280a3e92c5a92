"""A tiny stand-in for the OpenMetadata API for the wheel's unit tests (stdlib http.server, loopback).

It keeps just enough state to check what the reporter sends and in what order: services (POST creates, 409
when it exists), pipelines (with `sourceHash` and task names; POST creates, PATCH applies add/replace/remove
JSON Patch operations), statuses per timestamp (PUT replaces; unknown task names -> 400), tables, edges
(PUT replaces the details, getLineageEdge reads them, PATCH applies JSON Patch). The update rules are the
real server's (see devkit/src/omlineage_devkit/emulators/openmetadata.py, which cites them); this stub only
keeps their shape.
Faults: `fail_next[path_prefix] = [status, ...]`, `delay` seconds before every answer, `valid_tokens`
(others get 401).
Not emulated: body schemas (the devkit emulator validates with the official models), FQN quoting
beyond the pipeline name, search, pagination, versions.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional, Union
from urllib.parse import parse_qs, unquote, urlsplit


class OMStub:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, Any, Optional[str]]] = []  # method, path, body, auth header
        self.services: dict[str, dict[str, Any]] = {}
        self.pipelines: dict[str, dict[str, Any]] = {}  # fqn -> entity
        self.statuses: dict[str, dict[int, dict[str, Any]]] = {}
        self.tables: dict[str, str] = {}  # fqn -> id
        self.edges: dict[tuple[str, str], dict[str, Any]] = {}
        self.fail_next: dict[str, list[int]] = {}
        self.delay = 0.0
        self.drip: Union[float, list[float]] = 0.0
        self.gzip = False
        self.valid_tokens: Optional[set[str]] = None
        self.version = "1.12.14"
        self.principal: Optional[dict[str, Any]] = {"name": "ingestion-bot", "isBot": True}  # None: unknown
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def seed_tables(self, *fqns: str) -> None:
        for fqn in fqns:
            self.tables[fqn] = str(uuid.uuid4())

    def calls(
        self, method: Optional[str] = None, prefix: str = ""
    ) -> list[tuple[str, str, Any, Optional[str]]]:
        return [r for r in self.requests if (method is None or r[0] == method) and r[1].startswith(prefix)]

    # -- request handling ---------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, body: Any, auth: Optional[str]) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        path = parts.path.removeprefix("/api")
        with self.lock:
            self.requests.append((method, path, body, auth))
            for prefix, codes in self.fail_next.items():
                if path.startswith(prefix) and codes:
                    return codes.pop(0), {"code": 0, "message": "injected"}
        if self.valid_tokens is not None:
            token = (auth or "").removeprefix("Bearer ")
            if token not in self.valid_tokens:
                return 401, {"code": 401, "message": "Not authorized"}
        query = parse_qs(parts.query)
        with self.lock:
            return self._route(method, path, body, query)

    def _route(self, method: str, path: str, body: Any, query: dict[str, list[str]]) -> tuple[int, Any]:
        if method == "GET" and path == "/v1/system/version":
            return 200, {"version": self.version}
        if self.principal is None:  # an SSO principal OpenMetadata has no user for: 404 on any call
            return 404, {"code": 404, "message": "user instance for stranger not found"}
        if method == "GET" and path == "/v1/users/loggedInUser":
            return 200, self.principal
        if method == "POST" and path == "/v1/services/pipelineServices":
            if body["name"] in self.services:
                return 409, {"code": 409, "message": "Entity already exists"}
            entity = {"id": str(uuid.uuid4()), **body, "fullyQualifiedName": body["name"]}
            self.services[body["name"]] = entity
            return 201, entity
        if method == "GET" and path.startswith("/v1/pipelines/name/"):
            fqn = unquote(path[len("/v1/pipelines/name/") :])
            if fqn not in self.pipelines:
                return 404, {"message": f"pipeline instance for {fqn} not found"}
            return 200, self.pipelines[fqn]
        if method == "POST" and path == "/v1/pipelines":
            if body["service"] not in self.services:
                return 404, {"message": f"pipelineService instance for {body['service']} not found"}
            name = f'"{body["name"]}"' if "." in body["name"] else body["name"]
            fqn = f"{body['service']}.{name}"
            if fqn in self.pipelines:
                return 409, {"code": 409, "message": "Entity already exists"}
            self.pipelines[fqn] = {"id": str(uuid.uuid4()), **body, "fullyQualifiedName": fqn}
            return 201, self.pipelines[fqn]
        if method == "PATCH" and path.startswith("/v1/pipelines/"):
            pid = path.rsplit("/", 1)[1]
            for entity in self.pipelines.values():
                if entity["id"] == pid:
                    apply_patch(entity, body)
                    return 200, entity
            return 404, {"message": f"pipeline instance for {pid} not found"}
        if method == "GET" and path.startswith("/v1/lineage/getLineageEdge/"):
            from_id, to_id = path.split("/")[-2:]
            if (from_id, to_id) not in self.edges:
                return 404, {"message": f"Lineage edge not found between {from_id} and  {to_id}"}
            return 200, {"edge": self.edges[(from_id, to_id)]}
        if method == "PATCH" and path.startswith("/v1/lineage/"):
            _, from_id, _, to_id = path.split("/")[-4:]
            if (from_id, to_id) not in self.edges:
                return 404, {"message": f"Lineage edge not found between {from_id} and {to_id}"}
            apply_patch(self.edges[(from_id, to_id)], body)
            return 200, self.edges[(from_id, to_id)]
        if method == "PUT" and path == "/v1/services/pipelineServices":
            entity = self.services.setdefault(body["name"], {"id": str(uuid.uuid4())})
            entity.update(body, fullyQualifiedName=body["name"])
            return 200, entity
        if method == "GET" and path.startswith("/v1/services/pipelineServices/name/"):
            name = unquote(path.rsplit("/", 1)[1])
            return (200, self.services[name]) if name in self.services else (404, {"message": "not found"})
        if method == "PUT" and path == "/v1/pipelines":
            if body["service"] not in self.services:
                return 404, {"message": f"pipelineService instance for {body['service']} not found"}
            name = f'"{body["name"]}"' if "." in body["name"] else body["name"]
            fqn = f"{body['service']}.{name}"
            entity = self.pipelines.setdefault(fqn, {"id": str(uuid.uuid4())})
            entity.update(body, fullyQualifiedName=fqn)
            return 200, entity
        if path.startswith("/v1/pipelines/") and path.endswith("/status"):
            fqn = unquote(path[len("/v1/pipelines/") : -len("/status")])
            if fqn not in self.pipelines:
                return 404, {"message": f"pipeline instance for {fqn} not found"}
            if method == "GET":
                start, end = int(query["startTs"][0]), int(query["endTs"][0])
                rows = [s for ts, s in sorted(self.statuses.get(fqn, {}).items()) if start <= ts <= end]
                return 200, {"data": rows}
            names = {t["name"] for t in self.pipelines[fqn]["tasks"]}
            for ts in body.get("taskStatus", []):
                if ts["name"] not in names:
                    return 400, {"message": f"Invalid task name {ts['name']}"}
            self.statuses.setdefault(fqn, {})[body["timestamp"]] = body
            return 200, {"fullyQualifiedName": fqn}
        if method == "GET" and path.startswith("/v1/tables/name/"):
            fqn = unquote(path[len("/v1/tables/name/") :])
            if fqn not in self.tables:
                return 404, {"message": f"table instance for {fqn} not found"}
            return 200, {"id": self.tables[fqn], "fullyQualifiedName": fqn}
        if method == "PUT" and path == "/v1/lineage":
            edge = body["edge"]
            ids = set(self.tables.values())
            if edge["fromEntity"]["id"] not in ids or edge["toEntity"]["id"] not in ids:
                return 404, {"message": "table instance not found"}
            # openmetadata-service LineageRepository.addLineage resolves lineageDetails.pipeline with
            # Entity.getEntityReferenceById(..., NON_DELETED): an unknown or deleted pipeline is a 404
            pipe = (edge.get("lineageDetails") or {}).get("pipeline")
            if pipe and pipe["id"] not in {p["id"] for p in self.pipelines.values()}:
                return 404, {"message": f"pipeline instance for {pipe['id']} not found"}
            self.edges[(edge["fromEntity"]["id"], edge["toEntity"]["id"])] = edge["lineageDetails"]
            return 200, None
        return 404, {"message": f"no route {method} {path}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                if stub.delay:
                    time.sleep(stub.delay)
                status, answer = stub.handle(method, self.path, body, self.headers.get("Authorization"))
                raw = isinstance(answer, bytes)  # a malformed answer, as is
                data = answer if raw else b"" if answer is None else json.dumps(answer).encode()
                if stub.gzip and data:  # like a server behind a compressing proxy
                    data = gzip.compress(data)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    if stub.gzip and data:
                        self.send_header("Content-Encoding", "gzip")
                    self.end_headers()
                    if stub.drip:  # a Content-Length body, one byte then a pause (`drip` s, or a list)
                        pauses = stub.drip if isinstance(stub.drip, list) else [stub.drip]
                        for i in range(len(data)):
                            self.wfile.write(data[i : i + 1])
                            self.wfile.flush()
                            time.sleep(pauses[min(i, len(pauses) - 1)])
                    else:
                        self.wfile.write(data)
                except OSError:  # the client gave up (timeout tests)
                    pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def apply_patch(doc: dict[str, Any], ops: list[dict[str, Any]]) -> None:
    """The JSON Patch operations the wheel sends: add/replace/remove of a top-level member, append."""
    for op in ops:
        parts = op["path"].lstrip("/").split("/")
        if len(parts) == 2 and parts[1] == "-":
            doc.setdefault(parts[0], []).append(op["value"])
        elif op["op"] == "remove":
            doc.pop(parts[0], None)
        else:
            doc[parts[0]] = op["value"]
