"""The wheel's requests against the request models of each server line (1.3, 1.6, 1.9, 1.12, 2.0).

The emulator reports that version and validates every body with that line's generated models (they forbid
unknown fields), so a field an older server does not know fails here."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from airflow_openmetadata_lineage.auth.openmetadata import OpenMetadataJWTProvider
from airflow_openmetadata_lineage.client import OpenMetadataClient
from airflow_openmetadata_lineage.config import LineageConfig
from airflow_openmetadata_lineage.model import (
    ColumnLineage,
    DagInfo,
    RunInfo,
    TaskInfo,
    TaskReport,
    TaskRunInfo,
)
from airflow_openmetadata_lineage.reporter import Reporter
from omlineage_devkit.openmetadata import OpenMetadataEmulator, rejected

SRC, DST = "db.shop.public.orders", "db.shop.mart.daily"
T0 = 1_704_153_600_000
LINES = ["1.3.4", "1.6.13", "1.9.17", "1.12.14", "2.0.7"]


def reporter(om: OpenMetadataEmulator, spool: Path) -> Reporter:
    config = LineageConfig(
        service_name="lines",
        endpoint=om.api_url,
        auth_provider_type="openmetadata",
        options={"jwt_token": om.token()},
        spool_dir=str(spool),
        time_budget=90.0,
        timeout=60.0,
    )
    return Reporter(config, OpenMetadataClient(config, OpenMetadataJWTProvider(config)))


def report(tasks: tuple[TaskInfo, ...], state: str = "success") -> TaskReport:
    dag = DagInfo("etl", tasks, "Orders ETL", schedule="@daily")
    run = RunInfo("etl", "scheduled__1", T0, state, (TaskRunInfo("load", state, T0, T0 + 5),), complete=False)
    cols = (ColumnLineage(SRC, DST, "total", ("amount",), "sum(amount)"),)
    return TaskReport(dag, run, "load", (SRC,), (DST,), airflow_major=2, column_lineage=cols)


@pytest.mark.parametrize("version", LINES)
def test_every_request_fits_the_server_line(om: OpenMetadataEmulator, tmp_path: Path, version: str) -> None:
    om.set_server(version=version)
    om.seed_tables(SRC, DST, columns={SRC: ["id", "amount"], DST: ["day", "total"]})
    first = reporter(om, tmp_path).report(report((TaskInfo("load", "PythonOperator", doc="Loads."),)))
    assert first.error is None and first.status_sent and first.edges_sent == 1
    # the DAG changes: the pipeline gets a JSON Patch; a later run's status with the run details where known
    grown = (TaskInfo("load", "PythonOperator", ("audit",)), TaskInfo("audit", "EmptyOperator"))
    second = reporter(om, tmp_path).report(report(grown, "failed"))
    assert second.error is None and second.status_sent
    assert not rejected(om.requests()), rejected(om.requests())
    (edge,) = om.state()["edges"]
    assert edge["lineageDetails"]["columnsLineage"] == [
        {"fromColumns": [f"{SRC}.amount"], "toColumn": f"{DST}.total", "function": "sum(amount)"}
    ]
    (status,) = om.state()["statuses"]["lines.etl"]
    assert ("executionId" in status) == (tuple(map(int, version.split(".")[:2])) >= (1, 12))


def test_the_line_models_do_reject_what_that_line_lacks(om: OpenMetadataEmulator) -> None:
    """The check bites: 1.3's PipelineStatus has no executionId, 2.0's has."""
    om.seed_tables(SRC)
    api = f"{om.api_url}/v1/services/pipelineServices"
    om.http.post(api, json={"name": "lines", "serviceType": "Airflow"}, timeout=10).raise_for_status()
    body = {"name": "etl", "service": "lines", "tasks": [{"name": "load"}]}
    om.http.post(f"{om.api_url}/v1/pipelines", json=body, timeout=10).raise_for_status()
    status = {"timestamp": T0, "executionStatus": "Successful", "executionId": "scheduled__1"}
    for version, code in (("1.3.4", 400), ("2.0.7", 200)):
        om.set_server(version=version)
        started = time.monotonic()
        resp = om.http.put(f"{om.api_url}/v1/pipelines/lines.etl/status", json=status, timeout=30)
        assert resp.status_code == code, (version, resp.text, time.monotonic() - started)
