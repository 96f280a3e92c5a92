"""The OpenMetadata emulator's update rules, each as the real server applies it (see the emulator's docstring
for the server classes): these are what make "a good citizen" testable at all."""

from __future__ import annotations

from typing import Any

import requests

from omlineage_devkit.openmetadata import OpenMetadataEmulator

SVC = "airflow_rules"
PATCH = {"Content-Type": "application/json-patch+json"}


def api(om: OpenMetadataEmulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    return om.http.request(method, f"{om.api_url}{path}", timeout=10, **kwargs)


def as_bot(om: OpenMetadataEmulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {om.token('ingestion-bot')}"}


def service(connection: dict[str, Any] | None = None) -> dict[str, Any]:
    config = connection or {"type": "Airflow", "hostPort": "http://a:8080", "connection": {"type": "Backend"}}
    return {"name": SVC, "serviceType": "Airflow", "connection": {"config": config}}


MYSQL_METADATA = {
    "type": "Airflow",
    "hostPort": "https://airflow.corp:8080",
    "connection": {
        "type": "Mysql",
        "username": "airflow",
        "hostPort": "db:3306",
        "authType": {"password": "x"},
    },
}


def test_service_put_replaces_the_connection_post_answers_409(om: OpenMetadataEmulator) -> None:
    assert api(om, "POST", "/v1/services/pipelineServices", json=service(MYSQL_METADATA)).status_code == 201
    again = api(om, "POST", "/v1/services/pipelineServices", json=service())
    assert again.json() == {"code": 409, "message": "Entity already exists"}
    assert api(om, "PUT", "/v1/services/pipelineServices", json=service(), headers=as_bot(om)).ok
    stored = api(om, "GET", f"/v1/services/pipelineServices/name/{SVC}").json()
    assert stored["connection"]["config"]["connection"] == {"type": "Backend"}  # the administrator's is gone


def pipeline(**fields: Any) -> dict[str, Any]:
    return {"name": "etl", "service": SVC, "tasks": [{"name": "t", "description": "task doc"}], **fields}


def test_pipeline_put_by_a_user_replaces_descriptions_a_bot_keeps_them(om: OpenMetadataEmulator) -> None:
    api(om, "POST", "/v1/services/pipelineServices", json=service())
    owners = [{"id": "7d2b0a3e-0000-4000-8000-000000000001", "type": "team"}]
    tags = [{"tagFQN": "Tier.Tier1", "source": "Classification", "labelType": "Manual", "state": "Confirmed"}]
    body = pipeline(description="curated", displayName="ETL (curated)", owners=owners, tags=tags)
    assert api(om, "PUT", "/v1/pipelines", json=body).status_code == 201
    # a bot's PUT with other descriptions and no owners/tags: the stored ones stay
    by_bot = api(om, "PUT", "/v1/pipelines", json=pipeline(description="from dag"), headers=as_bot(om)).json()
    assert (by_bot["description"], by_bot["displayName"]) == ("curated", "ETL (curated)")
    assert by_bot["tasks"][0]["description"] == "task doc"
    assert by_bot["owners"] == owners and [t["tagFQN"] for t in by_bot["tags"]] == ["Tier.Tier1"]
    # a user's PUT without them: description and display name are the request's (cleared); owners stay
    by_user = api(om, "PUT", "/v1/pipelines", json={"name": "etl", "service": SVC, "tasks": [{"name": "t"}]})
    view = by_user.json()
    assert "description" not in view and "displayName" not in view and "description" not in view["tasks"][0]
    assert view["owners"] == owners and [t["tagFQN"] for t in view["tags"]] == ["Tier.Tier1"]


def test_pipeline_patch_is_json_patch_and_guards_identity(om: OpenMetadataEmulator) -> None:
    api(om, "POST", "/v1/services/pipelineServices", json=service())
    created = api(om, "POST", "/v1/pipelines", json=pipeline(description="curated")).json()
    path = f"/v1/pipelines/{created['id']}"
    ops = [{"op": "add", "path": "/tasks/-", "value": {"name": "u"}}]
    assert api(om, "PATCH", path, json=ops).status_code == 415  # application/json is not a JSON Patch
    patched = api(om, "PATCH", path, data=_json(ops), headers=PATCH).json()
    assert [t["name"] for t in patched["tasks"]] == ["t", "u"] and patched["version"] == 0.2
    assert patched["description"] == "curated"
    renamed = api(
        om, "PATCH", path, data=_json([{"op": "replace", "path": "/name", "value": "x"}]), headers=PATCH
    )
    assert renamed.status_code == 400
    bad = api(
        om, "PATCH", path, data=_json([{"op": "replace", "path": "/nope/1", "value": 1}]), headers=PATCH
    )
    assert bad.status_code == 400 and "Invalid JSON Patch" in bad.json()["message"]


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def test_lineage_put_replaces_details_patch_adds_get_edge_reads(om: OpenMetadataEmulator) -> None:
    ids = om.seed_tables("db.d.s.a", "db.d.s.b", columns={"db.d.s.a": ["x", "y"], "db.d.s.b": ["z"]})
    a, b = ids["db.d.s.a"], ids["db.d.s.b"]
    columns = [{"fromColumns": ["db.d.s.a.x"], "toColumn": "db.d.s.b.z"}]
    edge = {"fromEntity": {"id": a, "type": "table"}, "toEntity": {"id": b, "type": "table"}}
    details = {
        "columnsLineage": columns,
        "sqlQuery": "insert into b select x from a",
        "source": "QueryLineage",
    }
    assert api(om, "PUT", "/v1/lineage", json={"edge": {**edge, "lineageDetails": details}}).ok
    stored = api(om, "GET", f"/v1/lineage/getLineageEdge/{a}/{b}").json()["edge"]
    assert stored["sqlQuery"] == details["sqlQuery"] and stored["createdBy"] == "admin"
    # PATCH adds next to what is stored; a column the table lacks is dropped silently
    ops = [
        {
            "op": "add",
            "path": "/columnsLineage/-",
            "value": {"fromColumns": ["db.d.s.a.y"], "toColumn": "db.d.s.b.z"},
        },
        {
            "op": "add",
            "path": "/columnsLineage/-",
            "value": {"fromColumns": ["db.d.s.a.q"], "toColumn": "db.d.s.b.z"},
        },
    ]
    patched = api(om, "PATCH", f"/v1/lineage/table/{a}/table/{b}", data=_json(ops), headers=PATCH).json()
    assert [c["fromColumns"] for c in patched["columnsLineage"]] == [["db.d.s.a.x"], ["db.d.s.a.y"]]
    assert patched["sqlQuery"] == details["sqlQuery"]
    # a PUT replaces the details: the query and the column lineage are gone
    assert api(om, "PUT", "/v1/lineage", json={"edge": {**edge, "lineageDetails": {}}}).ok
    replaced = api(om, "GET", f"/v1/lineage/getLineageEdge/{a}/{b}").json()["edge"]
    assert "sqlQuery" not in replaced and "columnsLineage" not in replaced
    missing = api(om, "GET", f"/v1/lineage/getLineageEdge/{b}/{a}")
    assert missing.status_code == 404 and "Lineage edge not found" in missing.json()["message"]
    om.set_server(edge_api=False)  # an older server: the routes themselves are missing
    old = api(om, "GET", f"/v1/lineage/getLineageEdge/{a}/{b}")
    assert old.json() == {"code": 404, "message": "HTTP 404 Not Found"}


def test_status_of_an_unknown_pipeline_reads_as_no_data(om: OpenMetadataEmulator) -> None:
    resp = api(om, "GET", "/v1/pipelines/nope.etl/status", params={"startTs": 1, "endTs": 2})
    assert (resp.status_code, resp.json()["data"]) == (200, [])
    put = api(
        om, "PUT", "/v1/pipelines/nope.etl/status", json={"timestamp": 1, "executionStatus": "Successful"}
    )
    assert put.status_code == 404
