"""The OpenLineage sink: counts what the real HTTP transport sends, with the emulator's latency model."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from omlineage_devkit.openlineage_sink import OpenLineageSink, SinkProcess
from omlineage_devkit.paths import venv_python


@pytest.fixture(scope="module")
def sink_server() -> Iterator[OpenLineageSink]:
    process = SinkProcess()
    yield process.start()
    process.stop()


@pytest.fixture
def sink(sink_server: OpenLineageSink) -> OpenLineageSink:
    sink_server.reset()
    return sink_server


def event(kind: str = "START", job: str = "dag.task") -> dict:
    return {
        "eventType": kind,
        "eventTime": "2024-01-01T00:00:00Z",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "default", "name": job},
        "producer": "tests",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
    }


def test_counts_events_and_rejects_garbage(sink: OpenLineageSink) -> None:
    for kind in ("START", "COMPLETE"):
        assert sink.http.post(f"{sink.url}/api/v1/lineage", json=event(kind), timeout=10).status_code == 201
    bad = sink.http.post(f"{sink.url}/api/v1/lineage", json={"eventType": "START"}, timeout=10)
    assert bad.status_code == 400
    assert sink.summary() == {"events": 2, "by_type": {"START": 1, "COMPLETE": 1}, "by_job": {"dag.task": 2}}
    assert [r["status"] for r in sink.requests()] == [201, 201, 400]


def test_latency_delays_event_posts_but_not_reads_of_admin(sink: OpenLineageSink) -> None:
    sink.set_latency(fixed_ms=0, per_kind_ms={"lineage_put": 300})
    started = time.perf_counter()
    assert sink.http.post(f"{sink.url}/api/v1/lineage", json=event(), timeout=10).status_code == 201
    post_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    sink.summary()
    admin_ms = (time.perf_counter() - started) * 1000
    assert post_ms >= 300, post_ms
    assert admin_ms < 150, admin_ms
    assert sink.requests()[0]["latency_ms"] == 300.0
    sink.reset()
    assert sink.set_latency()["fixed_ms"] == 0


def test_the_openlineage_http_transport_delivers_here(sink: OpenLineageSink) -> None:
    """The provider's client (openlineage-python in .venvs/airflow2-ol), gzip on, against a 200 ms sink."""
    sink.set_latency(fixed_ms=200)
    script = (
        "import json, sys, time\n"
        "from openlineage.client import OpenLineageClient\n"
        "from openlineage.client.transport.http import HttpConfig, HttpTransport\n"
        "cfg = HttpConfig.from_dict({'type': 'http', 'url': sys.argv[1], 'compression': 'gzip'})\n"
        "client = OpenLineageClient(transport=HttpTransport(cfg))\n"
        "raw = json.loads(sys.argv[2])\n"
        "from openlineage.client.event_v2 import RunEvent as E, Run, Job, RunState\n"
        "ev = E(eventType=RunState.START, eventTime=raw['eventTime'], run=Run(runId=raw['run']['runId']),"
        " job=Job(namespace='default', name='dag.task'), producer='tests')\n"
        "t = time.perf_counter(); client.emit(ev); print((time.perf_counter() - t) * 1000)\n"
    )
    out = subprocess.run(
        [str(venv_python("airflow2-ol")), "-c", script, sink.url, json.dumps(event())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    emit_ms = float(out.stdout.strip().splitlines()[-1])
    assert emit_ms >= 200, f"the transport's emit returned before the sink answered: {emit_ms:.0f} ms"
    assert sink.summary()["by_type"] == {"START": 1}, sink.summary()
