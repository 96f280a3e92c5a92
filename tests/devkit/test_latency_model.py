"""The emulator's latency model (emulators/latency.py): delays per kind, jitter bounds, slow drip.

Bounds are generous on the fast side (a loaded 2-core machine) and exact on the slow side: a delay is a
floor, so a request that should wait 200 ms and answers in 150 ms fails whatever the load.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from omlineage_devkit.openmetadata import OpenMetadataEmulator

TABLE_A = "bench_db.warehouse.public.a"
TABLE_B = "bench_db.warehouse.public.b"


def api(om: OpenMetadataEmulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    return om.http.request(method, f"{om.api_url}{path}", timeout=10, **kwargs)


def make_pipeline(om: OpenMetadataEmulator) -> None:
    body = {"name": "airflow_test", "serviceType": "Airflow"}
    assert api(om, "PUT", "/v1/services/pipelineServices", json=body).ok
    tasks = [{"name": "extract", "downstreamTasks": ["load"]}, {"name": "load"}]
    resp = api(om, "PUT", "/v1/pipelines", json={"name": "etl", "service": "airflow_test", "tasks": tasks})
    assert resp.status_code in (200, 201), resp.text


def timed(om: OpenMetadataEmulator, method: str, path: str, **kwargs: Any) -> tuple[requests.Response, float]:
    started = time.perf_counter()
    resp = api(om, method, path, **kwargs)
    return resp, (time.perf_counter() - started) * 1000


@pytest.fixture
def world(om: OpenMetadataEmulator) -> dict[str, str]:
    om.set_auth(False)
    make_pipeline(om)
    ids = om.seed_tables(TABLE_A, TABLE_B)
    yield ids
    om.set_latency()


def status_body() -> dict[str, Any]:
    return {"timestamp": int(time.time() * 1000), "executionStatus": "Successful", "taskStatus": []}


def lineage_body(ids: dict[str, str]) -> dict[str, Any]:
    return {
        "edge": {
            "fromEntity": {"id": ids[TABLE_A], "type": "table"},
            "toEntity": {"id": ids[TABLE_B], "type": "table"},
        }
    }


def test_delays_apply_per_kind(om: OpenMetadataEmulator, world: dict[str, str]) -> None:
    model = om.set_latency(status_put=300, lineage_put=250, write=150)
    assert model["per_kind_ms"] == {"status_put": 300.0, "lineage_put": 250.0, "write": 150.0}
    status, status_ms = timed(om, "PUT", "/v1/pipelines/airflow_test.etl/status", json=status_body())
    lineage, lineage_ms = timed(om, "PUT", "/v1/lineage", json=lineage_body(world))
    write, write_ms = timed(
        om, "PUT", "/v1/services/pipelineServices", json={"name": "s2", "serviceType": "Airflow"}
    )
    read, read_ms = timed(om, "GET", "/v1/pipelines/name/airflow_test.etl")
    assert status.ok and lineage.ok and write.ok and read.ok, (
        status.text,
        lineage.text,
        write.text,
        read.text,
    )
    assert status_ms >= 300, status_ms
    assert 250 <= lineage_ms < 300 + 250, lineage_ms
    assert 150 <= write_ms < 250 + 150, write_ms
    assert read_ms < 100, f"a read has no delay in this model, took {read_ms:.0f} ms"
    logged = {(r["method"], r["kind"]): r["latency_ms"] for r in om.requests()}
    assert logged[("PUT", "status_put")] == 300.0 and logged[("PUT", "lineage_put")] == 250.0, logged
    assert logged[("GET", "read")] == 0.0, logged


def test_fixed_delay_adds_to_every_kind_and_writes_land_first(
    om: OpenMetadataEmulator, world: dict[str, str]
) -> None:
    om.set_latency(fixed_ms=200, read=100)
    read, read_ms = timed(om, "GET", "/v1/tables/name/" + TABLE_A)
    assert read.ok and read_ms >= 300, read_ms
    status, status_ms = timed(om, "PUT", "/v1/pipelines/airflow_test.etl/status", json=status_body())
    assert status.ok and 200 <= status_ms < 300, status_ms
    # the model delays the answer, not the work: the status is stored however long the client waits
    assert om.state()["statuses"]["airflow_test.etl"], om.state()["statuses"]


def test_jitter_is_bounded_and_seeded(om: OpenMetadataEmulator, world: dict[str, str]) -> None:
    om.set_latency(fixed_ms=20, jitter_ms=200, seed=7)
    om.clear_requests()
    for _ in range(8):
        assert api(om, "GET", "/v1/pipelines/name/airflow_test.etl").ok
    first = [r["latency_ms"] for r in om.requests()]
    assert all(20 <= ms <= 220 for ms in first), first
    assert max(first) - min(first) > 20, f"jitter drew (nearly) the same delay every time: {first}"
    om.set_latency(fixed_ms=20, jitter_ms=200, seed=7)  # same seed: same draws
    om.clear_requests()
    for _ in range(8):
        assert api(om, "GET", "/v1/pipelines/name/airflow_test.etl").ok
    assert [r["latency_ms"] for r in om.requests()] == first


def test_drip_sends_the_body_slowly(om: OpenMetadataEmulator, world: dict[str, str]) -> None:
    size = len(api(om, "GET", "/v1/pipelines/name/airflow_test.etl").content)
    assert size > 200, size
    rate = size * 2  # the whole body takes ~0.5 s
    om.set_latency(drip_bytes_per_s=rate)
    started = time.perf_counter()
    resp = om.http.get(f"{om.api_url}/v1/pipelines/name/airflow_test.etl", stream=True, timeout=10)
    headers_ms = (time.perf_counter() - started) * 1000
    first = resp.raw.read(1)
    first_ms = (time.perf_counter() - started) * 1000
    body = first + resp.raw.read()
    total_ms = (time.perf_counter() - started) * 1000
    assert json.loads(body)["name"] == "etl"
    assert headers_ms < 300, f"headers should come at once in drip mode: {headers_ms:.0f} ms"
    assert total_ms >= 450, f"a {size}-byte body at {rate} B/s took only {total_ms:.0f} ms"
    assert total_ms - first_ms >= 300, (
        f"the body came in one piece: first byte {first_ms:.0f} ms, all {total_ms:.0f}"
    )


def test_model_is_off_after_reset_and_rejects_unknown_kinds(om: OpenMetadataEmulator) -> None:
    om.set_latency(fixed_ms=500)
    om.reset()
    assert om.latency()["fixed_ms"] == 0
    resp = om.http.post(f"{om.url}/__admin/latency", json={"per_kind_ms": {"search": 5}}, timeout=10)
    assert resp.status_code == 400 and "unknown kinds" in resp.json()["message"], resp.text
    resp = om.http.post(f"{om.url}/__admin/latency", json={"delay": 5}, timeout=10)
    assert resp.status_code == 400, resp.text
