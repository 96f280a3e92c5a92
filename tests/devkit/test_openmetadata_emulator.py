"""The OpenMetadata emulator itself: schema validation, real-server answers, auth, faults, concurrency."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from omlineage_devkit.openmetadata import OpenMetadataEmulator

SVC = "airflow_test"


def api(om: OpenMetadataEmulator, method: str, path: str, **kwargs: Any) -> requests.Response:
    return om.http.request(method, f"{om.api_url}{path}", timeout=10, **kwargs)


def make_pipeline(om: OpenMetadataEmulator, name: str = "etl", tasks: list[dict] | None = None) -> dict:
    assert api(om, "PUT", "/v1/services/pipelineServices", json={"name": SVC, "serviceType": "Airflow"}).ok
    body = {
        "name": name,
        "service": SVC,
        "tasks": tasks or [{"name": "extract", "downstreamTasks": ["load"]}, {"name": "load"}],
    }
    resp = api(om, "PUT", "/v1/pipelines", json=body)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def test_service_and_pipeline_create_update(om: OpenMetadataEmulator) -> None:
    resp = api(om, "PUT", "/v1/services/pipelineServices", json={"name": SVC, "serviceType": "Airflow"})
    assert resp.status_code == 201
    assert resp.json()["fullyQualifiedName"] == SVC
    assert api(
        om, "POST", "/v1/services/pipelineServices", json={"name": SVC, "serviceType": "Airflow"}
    ).json() == {
        "code": 409,
        "message": "Entity already exists",
    }
    created = make_pipeline(om, "dag.with.dots")
    assert created["fullyQualifiedName"] == f'{SVC}."dag.with.dots"'
    assert [t["fullyQualifiedName"] for t in created["tasks"]] == [
        f'{SVC}."dag.with.dots".extract',
        f'{SVC}."dag.with.dots".load',
    ]
    same = make_pipeline(om, "dag.with.dots")
    assert (same["id"], same["version"]) == (created["id"], 0.1)  # unchanged PUT: no version bump
    changed = make_pipeline(om, "dag.with.dots", [{"name": "extract"}])
    assert (changed["id"], changed["version"]) == (created["id"], 0.2)
    # tasks only with fields=tasks, like the real server; unknown field names are a 400
    bare = api(om, "GET", f'/v1/pipelines/name/{SVC}."dag.with.dots"').json()
    assert "tasks" not in bare
    full = api(
        om, "GET", f'/v1/pipelines/name/{SVC}."dag.with.dots"', params={"fields": "tasks,sourceHash"}
    ).json()
    assert [t["name"] for t in full["tasks"]] == ["extract"]
    star = api(om, "GET", f'/v1/pipelines/name/{SVC}."dag.with.dots"', params={"fields": "*"})
    assert star.status_code == 200 and [t["name"] for t in star.json()["tasks"]] == ["extract"]
    bad = api(om, "GET", f'/v1/pipelines/name/{SVC}."dag.with.dots"', params={"fields": "nope"})
    assert bad.json() == {"code": 400, "message": "Invalid field name nope"}


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/v1/services/pipelineServices", {"name": SVC, "serviceType": "NotAType"}, "serviceType"),
        ("/v1/services/pipelineServices", {"name": SVC, "serviceType": "Airflow", "extra": 1}, "extra"),
        ("/v1/pipelines", {"service": SVC}, "name"),
        ("/v1/pipelines", {"name": "p", "service": SVC, "tasks": [{"downstreamTasks": []}]}, "tasks.0.name"),
        ("/v1/lineage", {"edge": {"fromEntity": {"id": "not-a-uuid", "type": "table"}}}, "edge"),
    ],
)
def test_invalid_bodies_are_400_with_the_models_message(
    om: OpenMetadataEmulator, path: str, body: dict, fragment: str
) -> None:
    resp = api(om, "PUT", path, json=body)
    assert resp.status_code == 400
    assert resp.json()["code"] == 400
    assert fragment in resp.json()["message"]


def test_body_must_be_json(om: OpenMetadataEmulator) -> None:
    resp = api(om, "PUT", "/v1/services/pipelineServices", data='{"name": "x", "serviceType": "Airflow"}')
    assert resp.json() == {"code": 415, "message": "HTTP 415 Unsupported Media Type"}
    resp = api(om, "PUT", "/v1/pipelines", data="{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "Unable to process JSON" in resp.json()["message"]


def test_not_found_messages(om: OpenMetadataEmulator) -> None:
    assert api(om, "GET", "/v1/tables/name/a.b.c.d").json() == {
        "code": 404,
        "message": "table instance for a.b.c.d not found",
    }
    assert api(om, "PUT", "/v1/pipelines", json={"name": "p", "service": "nosvc"}).json() == {
        "code": 404,
        "message": "pipelineService instance for nosvc not found",
    }
    resp = api(om, "PUT", "/v1/pipelines/x.y/status", json={"timestamp": 1, "executionStatus": "Successful"})
    assert resp.json() == {"code": 404, "message": "pipeline instance for x.y not found"}


def test_status_replaces_per_timestamp_and_checks_task_names(om: OpenMetadataEmulator) -> None:
    make_pipeline(om)
    url = f"/v1/pipelines/{SVC}.etl/status"
    first = {
        "timestamp": 1000,
        "executionStatus": "Pending",
        "taskStatus": [{"name": "extract", "executionStatus": "Successful"}],
    }
    second = {
        "timestamp": 1000,
        "executionStatus": "Successful",
        "taskStatus": [{"name": "load", "executionStatus": "Successful"}],
    }
    assert api(om, "PUT", url, json=first).status_code == 200
    assert api(om, "PUT", url, json=second).status_code == 200
    stored = api(om, "GET", url, params={"startTs": 0, "endTs": 2000}).json()["data"]
    assert stored == [second]  # replaced, not merged
    bad = {
        "timestamp": 1000,
        "executionStatus": "Failed",
        "taskStatus": [{"name": "ghost", "executionStatus": "Failed"}],
    }
    assert api(om, "PUT", url, json=bad).json() == {"code": 400, "message": "Invalid task name ghost"}
    assert om.state()["statuses"][f"{SVC}.etl"] == [second]


def test_lineage_edges_keyed_by_from_to(om: OpenMetadataEmulator) -> None:
    ids = om.seed_tables("mysql.shop.public.orders", "mysql.shop.public.orders_daily")
    pipeline = make_pipeline(om)
    edge = {
        "fromEntity": {"id": ids["mysql.shop.public.orders"], "type": "table"},
        "toEntity": {"id": ids["mysql.shop.public.orders_daily"], "type": "table"},
        "lineageDetails": {"pipeline": {"id": pipeline["id"], "type": "pipeline"}},
    }
    for _ in range(2):
        resp = api(om, "PUT", "/v1/lineage", json={"edge": edge})
        assert resp.status_code == 200, resp.text
    assert om.edges() == {("mysql.shop.public.orders", "mysql.shop.public.orders_daily", f"{SVC}.etl")}
    graph = api(om, "GET", "/v1/lineage/table/name/mysql.shop.public.orders").json()
    assert [e["toEntity"] for e in graph["downstreamEdges"]] == [ids["mysql.shop.public.orders_daily"]]
    ghost = {**edge, "toEntity": {"id": "8c6c5f1e-0c8e-4b0e-9d7b-0d8d3b2f7a11", "type": "table"}}
    assert api(om, "PUT", "/v1/lineage", json={"edge": ghost}).status_code == 404
    log = om.requests()
    assert [r["status"] for r in log if r["path"] == "/api/v1/lineage"] == [200, 200, 404]


def test_auth_bot_tokens_expired_foreign_and_revoked(om: OpenMetadataEmulator) -> None:
    """Auth is on by default; a bot's token works only while it is the bot's current one (JwtFilter)."""
    url = f"{om.api_url}/v1/tables/name/svc.db.s.nope"  # any authorized call; 404 once authorized
    assert requests.get(f"{om.api_url}/v1/system/version", timeout=5).status_code == 200  # needs no token
    assert requests.get(url, timeout=5).json() == {
        "code": 401,
        "message": "Not Authorized! Token not present",
    }
    good = om.token("ingestion-bot")
    assert requests.get(url, headers={"Authorization": f"Bearer {good}"}, timeout=5).status_code == 404
    regenerated = om.token("ingestion-bot")  # like "revoke and regenerate" in the bot's page
    resp = requests.get(url, headers={"Authorization": f"Bearer {good}"}, timeout=5)
    assert resp.json() == {"code": 401, "message": "Not Authorized! Invalid Token"}
    assert requests.get(url, headers={"Authorization": f"Bearer {regenerated}"}, timeout=5).status_code == 404
    expired = om.token("ingestion-bot", ttl=-60)
    resp = requests.get(url, headers={"Authorization": f"Bearer {expired}"}, timeout=5)
    assert resp.json() == {"code": 401, "message": "Expired token!"}
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    foreign = jwt.encode(
        {"sub": "ingestion-bot", "exp": int(time.time()) + 60}, foreign_key, algorithm="RS256"
    )
    assert requests.get(url, headers={"Authorization": f"Bearer {foreign}"}, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer garbage"}, timeout=5).status_code == 401
    user = om.user_token("jane")  # a person, not a bot
    who = requests.get(
        f"{om.api_url}/v1/users/loggedInUser", headers={"Authorization": f"Bearer {user}"}, timeout=5
    )
    assert (who.json()["name"], who.json()["isBot"]) == ("jane", False)
    subjects = [r["subject"] for r in om.requests()]
    assert subjects == [None, None, "ingestion-bot", None, "ingestion-bot", None, None, None, "jane"]


def test_faults(om: OpenMetadataEmulator) -> None:
    url = f"{om.api_url}/v1/system/version"
    om.set_faults(
        {"path_regex": "/system/version", "mode": "status", "status": 503, "count": 1},
        {"path_regex": "/system/version", "mode": "retry_after", "retry_after": 7, "count": 1},
        {"path_regex": "/system/version", "mode": "malformed", "count": 1},
        {"path_regex": "/system/version", "mode": "reset", "count": 1},
        {"path_regex": "/system/version", "mode": "delay", "delay_ms": 400, "count": 1},
    )
    assert requests.get(url, timeout=5).status_code == 503
    throttled = requests.get(url, timeout=5)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "7")
    with pytest.raises(ValueError):
        requests.get(url, timeout=5).json()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)
    started = time.monotonic()
    assert requests.get(url, timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.4
    assert requests.get(url, timeout=5).status_code == 200  # every rule used up
    assert [(r["status"], r["fault"]) for r in om.requests()] == [
        (503, "status"),
        (429, "retry_after"),
        (200, "malformed"),
        (0, "reset"),
        (200, "delay"),
        (200, None),
    ]
    om.set_faults({"path_regex": ".*", "method": "PUT", "mode": "status", "status": 500})
    assert requests.get(url, timeout=5).status_code == 200  # method filter
    om.clear_faults()


def test_200_concurrent_clients(om: OpenMetadataEmulator) -> None:
    make_pipeline(om)
    url = f"{om.api_url}/v1/pipelines/{SVC}.etl/status"
    auth = {"Authorization": om.http.headers["Authorization"]}

    def one(i: int) -> int:
        body = {
            "timestamp": i,
            "executionStatus": "Successful",
            "taskStatus": [{"name": "load", "executionStatus": "Successful"}],
        }
        return requests.put(url, json=body, headers=auth, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=200) as pool:
        codes = list(pool.map(one, range(1, 201)))
    assert codes == [200] * 200
    assert len(om.state()["statuses"][f"{SVC}.etl"]) == 200


def test_auth_trusts_configured_jwks_with_audience(om: OpenMetadataEmulator) -> None:
    """SSO tokens: verified against a JWKS URL the emulator was told to trust, audience checked."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": "k1", "use": "sig"}
    payload = json.dumps({"keys": [jwk]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        jwks_url = f"http://127.0.0.1:{server.server_address[1]}/jwks"
        om.set_auth(enabled=True, jwks_urls=[jwks_url], audience="openmetadata", users=["svc"])
        url = f"{om.api_url}/v1/users/loggedInUser"

        def call(claims: dict) -> requests.Response:
            claims = {"sub": "svc@example.com", "exp": int(time.time()) + 60, **claims}
            token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
            return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)

        assert call({"aud": "openmetadata"}).status_code == 200
        assert call({"aud": "someone-else"}).json() == {
            "code": 401,
            "message": "Invalid token: wrong audience",
        }
        assert call({"aud": "openmetadata", "exp": int(time.time()) - 5}).status_code == 401
        assert om.requests()[0]["subject"] == "svc"  # the principal: email/sub cut at "@"
        # an SSO principal that is no user in OpenMetadata: 404 on every authorized call
        unknown = call({"aud": "openmetadata", "sub": "stranger@example.com"})
        assert unknown.json() == {"code": 404, "message": "user instance for stranger not found"}
        assert call({"aud": "openmetadata", "email": "svc@corp.example"}).json()["name"] == "svc"
    finally:
        server.shutdown()


def test_bot_put_keeps_non_empty_descriptions(om: OpenMetadataEmulator) -> None:
    """EntityRepository/PipelineUpdater rule: a bot's PUT does not overwrite a description already set."""
    om.set_auth(enabled=True)
    bot = {"Authorization": f"Bearer {om.token('ingestion-bot')}"}
    assert api(
        om, "PUT", "/v1/services/pipelineServices", json={"name": SVC, "serviceType": "Airflow"}, headers=bot
    ).ok

    def put(description: str) -> dict:
        body = {
            "name": "etl",
            "service": SVC,
            "description": description,
            "tasks": [{"name": "t", "description": description}],
        }
        return api(om, "PUT", "/v1/pipelines", json=body, headers=bot).json()

    put("first")
    kept = put("second")
    assert (kept["description"], kept["tasks"][0]["description"], kept["version"]) == ("first", "first", 0.1)


def test_https_listener_shares_state(om: OpenMetadataEmulator) -> None:
    om.seed_tables("mysql.shop.public.orders")
    url = f"{om.https_api_url}/v1/tables/name/mysql.shop.public.orders"
    auth = {"Authorization": om.http.headers["Authorization"]}
    assert requests.get(url, verify=str(om.ca_cert), headers=auth, timeout=5).json()["name"] == "orders"
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, verify=True, timeout=5)
