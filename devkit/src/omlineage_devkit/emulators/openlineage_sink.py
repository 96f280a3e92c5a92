"""An OpenLineage HTTP sink for tests and benchmarks: accepts and counts events, answers like a loaded server.

    .venvs/driver/bin/python -m omlineage_devkit.emulators.openlineage_sink --port 0 \
        --port-file /tmp/ol.port [--latency '{"fixed_ms": 300}']

What the OpenLineage HTTP transport (openlineage-python `HttpTransport`) talks to: `POST /api/v1/lineage`
with one RunEvent as JSON (gzip when the transport's `compression` is `gzip`), answered 201 with an empty
body (as Marquez does). A body that is not JSON with `eventType`, `run.runId` and `job.name` is answered
400. Every other path is 404.

The latency model is the OpenMetadata emulator's (emulators/latency.py): an event POST is kind
`lineage_put` (a lineage write), any GET is `read`; `--latency JSON` (or env OL_SINK_LATENCY) at start-up,
`POST /__admin/latency` at run time, and the delay comes after the event was stored (so an event whose
client gave up during the delay still counts as delivered: the server got it).

Admin API under `/__admin/` (never delayed): `POST reset` (events, requests; latency back to the start-up
model), `GET events` (every stored event, in arrival order), `GET summary` (`{"events": N, "by_type":
{eventType: N}, "by_job": {job name: N}}`), `GET|DELETE requests` (`{"method", "path", "status", "time",
"kind", "latency_ms"}`), `POST latency` / `GET latency`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import threading
import time
from collections import Counter
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from omlineage_devkit.emulators.latency import LatencyModel, kind_of


class Sink:
    def __init__(self, startup_latency: dict[str, Any] | None = None) -> None:
        self.lock = threading.Lock()
        self.startup_latency = startup_latency
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.events: list[dict[str, Any]] = []
            self.requests: list[dict[str, Any]] = []
            self.latency = LatencyModel.from_json(self.startup_latency)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def create_app(sink: Sink) -> Flask:
    app = Flask("openlineage-sink")

    @app.before_request
    def _before() -> None:
        g.entry = None
        if request.path.startswith("/__admin/"):
            return
        g.entry = {
            "method": request.method,
            "path": request.path,
            "status": None,
            "time": time.time(),
            "kind": kind_of(request.method, request.path, lineage_sink=request.method == "POST"),
            "latency_ms": None,
        }
        with sink.lock:
            sink.requests.append(g.entry)

    @app.after_request
    def _after(resp: Response) -> Response:
        entry = g.get("entry")
        if entry is None:
            return resp
        with sink.lock:
            model = sink.latency
        if model.active:
            entry["latency_ms"] = model.wait(entry["kind"])
            if model.drip_bytes_per_s and resp.get_data():
                body = resp.get_data()
                resp.response = model.drip([body])
                resp.headers["Content-Length"] = str(len(body))
        entry["status"] = resp.status_code
        return resp

    @app.post("/api/v1/lineage")
    def lineage() -> Response:
        raw = request.get_data()
        if request.headers.get("Content-Encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
        try:
            event = json.loads(raw)
            ok = (
                isinstance(event, dict)
                and event["eventType"]
                and event["run"]["runId"]
                and event["job"]["name"]
            )
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            return _json({"code": 400, "message": "not an OpenLineage RunEvent"}, 400)
        with sink.lock:
            sink.events.append(event)
        return Response(status=201)

    @app.post("/__admin/reset")
    def admin_reset() -> Response:
        sink.reset()
        return _json({"ok": True})

    @app.get("/__admin/events")
    def admin_events() -> Response:
        with sink.lock:
            return _json(list(sink.events))

    @app.get("/__admin/summary")
    def admin_summary() -> Response:
        with sink.lock:
            events = list(sink.events)
        return _json(
            {
                "events": len(events),
                "by_type": dict(Counter(e.get("eventType") for e in events)),
                "by_job": dict(Counter(e["job"]["name"] for e in events)),
            }
        )

    @app.get("/__admin/requests")
    def admin_requests() -> Response:
        with sink.lock:
            return _json(list(sink.requests))

    @app.delete("/__admin/requests")
    def admin_clear_requests() -> Response:
        with sink.lock:
            sink.requests.clear()
        return _json({"ok": True})

    @app.post("/__admin/latency")
    def admin_latency() -> Response:
        try:
            model = LatencyModel.from_json(request.get_json(force=True, silent=True) or {})
        except (TypeError, ValueError) as exc:
            return _json({"code": 400, "message": f"admin {exc}"}, 400)
        with sink.lock:
            sink.latency = model
        return _json({"ok": True, "latency": model.describe()})

    @app.get("/__admin/latency")
    def admin_get_latency() -> Response:
        with sink.lock:
            return _json(sink.latency.describe())

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _Server(ThreadedWSGIServer):
    request_queue_size = 1024
    daemon_threads = True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument(
        "--latency", default=os.environ.get("OL_SINK_LATENCY"), help="JSON, as POST /__admin/latency"
    )
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    sink = Sink(json.loads(args.latency) if args.latency else None)
    server = _Server(args.host, args.port, create_app(sink), handler=_QuietHandler)
    port = server.socket.getsockname()[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w") as fh:
            fh.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"openlineage-sink listening on {args.host}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
