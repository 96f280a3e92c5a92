"""A good citizen on a shared OpenMetadata server, on real Airflow 2.10.5 and 3.0.6.

The emulator (strict like the real server: a service PUT replaces the connection, a pipeline PUT replaces
descriptions, a lineage PUT replaces the edge's details) starts out holding another team's metadata: the
administrator's service connection, curated pipeline/task descriptions, owners and tags, and an edge that
query-log ingestion wrote with column lineage and SQL. One DAG run later all of it is still there, and our
pipeline, statuses and edges (naming our pipeline) are complete.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from omlineage_devkit.airflow_runner import run_dag
from omlineage_devkit.lineage_settings import LOGICAL_DATE, LOGICAL_TS, SERVICE, lineage_env
from omlineage_devkit.openmetadata import OpenMetadataEmulator

DAG_FILE = Path(__file__).resolve().parents[1] / "airflow3" / "dags" / "om_parity.py"
PIPELINE = f"{SERVICE}.om_parity"
ORDERS, RAW = "mysql.shop.public.orders", "mysql.shop.staging.orders_raw"
TABLES = {
    ORDERS: ["id", "amount", "customer_id"],
    "mysql.shop.public.customers": ["id", "name"],
    RAW: ["id", "amount", "customer"],
    "mysql.shop.analytics.orders_daily": ["day", "total"],
    'mysql.shop.analytics."orders.v2"': ["day", "total"],
    "snowflake.dw.public.orders_fact": ["day", "total"],
    "mysql.shop.analytics.never_written": ["x"],
}
ADMIN_CONNECTION = {
    "type": "Airflow",
    "hostPort": "https://airflow.corp.example:8080",
    "connection": {
        "type": "Mysql",
        "username": "airflow_ro",
        "hostPort": "metadb:3306",
        "authType": {"password": "p"},
    },
}
OWNERS = [{"id": "1b0c2a5e-6c1e-4a8f-9f55-0d3c1f1d0a01", "type": "team", "name": "data-platform"}]
TAGS = [{"tagFQN": "Tier.Tier1", "source": "Classification", "labelType": "Manual", "state": "Confirmed"}]
COLUMNS = [{"fromColumns": [f"{ORDERS}.amount"], "toColumn": f"{RAW}.amount"}]
SQL = "INSERT INTO staging.orders_raw SELECT id, amount, customer_id FROM public.orders"


def api(om: OpenMetadataEmulator, method: str, path: str, **kwargs: Any) -> Any:
    resp = om.http.request(method, f"{om.api_url}{path}", timeout=10, **kwargs)  # as the user `admin`
    assert resp.ok, resp.text
    return resp.json() if resp.content else None


def other_teams_metadata(om: OpenMetadataEmulator) -> dict[str, str]:
    ids = om.seed_tables(*TABLES, columns=TABLES)
    service = {
        "name": SERVICE,
        "serviceType": "Airflow",
        "description": "Managed by the platform team",
        "connection": {"config": ADMIN_CONNECTION},
    }
    api(om, "POST", "/v1/services/pipelineServices", json=service)
    curated = {
        "name": "om_parity",
        "service": SERVICE,
        "displayName": "Orders (curated)",
        "description": "Curated by the data team",
        "owners": OWNERS,
        "tags": TAGS,
        "sourceUrl": "https://airflow.corp.example:8080/dags/om_parity",
        "tasks": [
            {
                "name": "extract",
                "description": "Curated: pulls orders at 02:00",
                "displayName": "Extract (curated)",
            },
            {"name": "transform"},
        ],
    }
    api(om, "POST", "/v1/pipelines", json=curated)
    edge = {
        "fromEntity": {"id": ids[ORDERS], "type": "table"},
        "toEntity": {"id": ids[RAW], "type": "table"},
        "lineageDetails": {
            "columnsLineage": COLUMNS,
            "sqlQuery": SQL,
            "description": "from query logs",
            "source": "QueryLineage",
        },
    }
    api(om, "PUT", "/v1/lineage", json={"edge": edge})
    return ids


@pytest.mark.parametrize("venv", ["airflow2", "airflow3"])
def test_a_run_keeps_everything_others_stored(om: OpenMetadataEmulator, venv: str) -> None:
    ids = other_teams_metadata(om)
    env = lineage_env(om.api_url, **om.bot_env())
    if venv == "airflow3":
        env = {k: v for k, v in env.items() if k != "AIRFLOW__LINEAGE__BACKEND"}
    result = run_dag(
        "om_parity", [DAG_FILE], venv=venv, env=env, logical_date=LOGICAL_DATE, reserialize=venv == "airflow3"
    )
    assert result.states["boom"] == "failed" and result.states["extract"] == "success"

    # the administrator's service: connection and description untouched
    svc = api(om, "GET", f"/v1/services/pipelineServices/name/{SERVICE}")
    assert (
        svc["connection"]["config"] == ADMIN_CONNECTION
        and svc["description"] == "Managed by the platform team"
    )

    # the curated pipeline: descriptions, display names, owners, tags kept; the DAG's structure is ours
    pipe = api(om, "GET", f"/v1/pipelines/name/{PIPELINE}", params={"fields": "tasks,owners,tags"})
    assert (pipe["description"], pipe["displayName"]) == ("Curated by the data team", "Orders (curated)")
    assert pipe["owners"] == OWNERS and [t["tagFQN"] for t in pipe["tags"]] == ["Tier.Tier1"]
    tasks = {t["name"]: t for t in pipe["tasks"]}
    assert set(tasks) == {"extract", "transform", "load", "notify", "boom", "after"}
    assert tasks["extract"]["description"] == "Curated: pulls orders at 02:00"
    assert tasks["extract"]["displayName"] == "Extract (curated)"
    assert tasks["transform"]["downstreamTasks"] == ["load"] and pipe["sourceHash"]

    # statuses: every task, the failing one Failed
    (status,) = [s for s in om.state()["statuses"][PIPELINE] if s["timestamp"] == LOGICAL_TS]
    states = {s["name"]: s["executionStatus"] for s in status["taskStatus"]}
    assert states["extract"] == "Successful" and states["boom"] == "Failed"

    # the edge query-log ingestion wrote keeps its details and now names our pipeline too
    stored = api(om, "GET", f"/v1/lineage/getLineageEdge/{ids[ORDERS]}/{ids[RAW]}")["edge"]
    assert stored["columnsLineage"] == COLUMNS and stored["sqlQuery"] == SQL
    assert (stored["description"], stored["source"]) == ("from query logs", "QueryLineage")
    assert stored["pipeline"]["id"] == pipe["id"] and stored["createdBy"] == "admin"
    edges = {(e["from"], e["to"]): e["pipeline"] for e in om.state()["edges"]}
    assert edges[("mysql.shop.public.customers", RAW)] == PIPELINE
    assert len(edges) >= 4 and set(edges.values()) == {PIPELINE}

    # nothing was ever written over what exists: no service/pipeline PUT, no lineage PUT on that edge
    writes = [(r["method"], r["path"]) for r in om.requests() if r["subject"] == "ingestion-bot"]
    assert ("PUT", "/api/v1/services/pipelineServices") not in writes
    assert ("PUT", "/api/v1/pipelines") not in writes and ("POST", "/api/v1/pipelines") not in writes
    assert ("PATCH", f"/api/v1/pipelines/{pipe['id']}") in writes
    assert all(r["status"] < 400 or r["status"] == 404 for r in om.requests()), om.requests()
