"""Load: 200 task processes of one worker report at the same instant (one spool_dir, custom-oidc tokens).

Checks: no failed report; the token endpoint is hit at most once per process; the pipeline service and the
pipeline are written once per worker (not once per process), and table ids looked up once; every status and
edge arrives; the emulator sees a bounded number of requests (no storm). The counts go into the summary.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from omlineage_devkit.emulators.identity import IdentityServers
from omlineage_devkit.openmetadata import OpenMetadataEmulator
from omlineage_devkit.paths import PROBES, venv_python
from omlineage_devkit.summary import SUMMARY

PROCESSES = 200
TASKS = 10  # one DAG of 10 tasks x 20 runs = 200 task instances
T0 = 1_704_153_600_000
PREFIX = "mysql.shop.load"
DRIVER = PROBES / "load_driver.py"


def kind(request: dict[str, Any]) -> str:
    path = request["path"]
    if path.startswith("/api/v1/pipelines/") and path.endswith("/status"):
        return f"{request['method']} status"
    if path.startswith("/api/v1/tables/name/"):
        return "GET table"
    if path.startswith("/api/v1/lineage/getLineageEdge/"):
        return "GET edge"
    return f"{request['method']} {path.removeprefix('/api')}"


def run_load(spec: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run(
        [str(venv_python("airflow2")), str(DRIVER), str(spec_path)],
        capture_output=True,
        text=True,
        timeout=spec["timeout"] * 3 + 60,
        env={"PATH": "/usr/bin:/bin", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_200_processes_one_worker(om_sso: OpenMetadataEmulator, idp: IdentityServers, tmp_path: Path) -> None:
    om = om_sso
    om.seed_tables(*(f"{PREFIX}.t{k}" for k in range(TASKS + 1)))
    options = {
        **idp.options("custom-oidc"),
        "airflow_service_name": "mwaa_load",
        "openmetadata_api_endpoint": om.api_url,
        "airflow_base_url": "http://airflow.example:8080",
        "spool_dir": str(tmp_path / "spool"),
        "timeout": "20",
        "time_budget": "60",
    }
    spec = {
        "processes": PROCESSES,
        "tasks": TASKS,
        "runs": PROCESSES // TASKS,
        "dag_id": "load_dag",
        "table_prefix": PREFIX,
        "t0_ms": T0,
        "options": options,
        "timeout": 120,
    }
    _warm_up(om, idp)
    out = run_load(spec, tmp_path)

    outcomes = out["outcomes"]
    failed = [o for o in outcomes if o.get("error")]
    requests = om.requests()
    kinds = Counter(kind(r) for r in requests)
    tokens = idp.realms["custom-oidc"].token_requests
    seconds = sorted(o["seconds"] for o in outcomes if "seconds" in o)
    hand_offs = sorted(o["hand_off_ms"] for o in outcomes if "hand_off_ms" in o)
    SUMMARY.append(
        f"load: {PROCESSES} processes, one spool_dir, custom-oidc: wall {out['wall_s']}s, report p50 "
        f"{median(seconds)}s max {max(seconds, default='-')}s "
        f"(hand-off p50 {median(hand_offs)} ms max {max(hand_offs, default='-')} ms), "
        f"failed {len(failed)}; token requests {tokens}; OpenMetadata requests {len(requests)} "
        f"({sum(1 for r in requests if r['status'] == 401)} answered 401): "
        + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    )

    assert len(outcomes) == PROCESSES and not out["killed"], f"{len(outcomes)} of {PROCESSES} reported"
    assert failed == [], failed[:3]
    # A 401 makes the client fetch a new token once (a new token lifetime) and resend: count those apart.
    refused = sum(1 for r in requests if r["status"] == 401)
    assert tokens <= PROCESSES + refused, f"{tokens} token requests for {PROCESSES} processes; {SUMMARY[-1]}"
    assert refused <= PROCESSES // 8, Counter((r["status"], kind(r)) for r in requests)
    kinds = Counter(kind(r) for r in requests if r["status"] != 401)
    # get-or-create, one per worker (single flight): one lookup and one create of the service and pipeline
    assert kinds["POST /v1/services/pipelineServices"] == 1 and kinds["POST /v1/pipelines"] == 1, kinds
    assert not kinds["PUT /v1/services/pipelineServices"] and not kinds["PUT /v1/pipelines"], kinds
    assert kinds["GET table"] <= TASKS + 1, kinds
    # at least one status per run, at most one per task: a record whose run has a newer waiting record that
    # carries its state leaves the PUT to that one (delivery.py); each edge looked up and written once per
    # worker, then remembered
    assert PROCESSES // TASKS <= kinds["PUT status"] <= PROCESSES, kinds
    assert kinds["GET edge"] == TASKS and kinds["PUT /v1/lineage"] == TASKS, kinds
    assert len(requests) - refused <= 2 * PROCESSES + 2 * (TASKS + 1) + 2, "request storm"

    state = om.state()
    assert len(state["edges"]) == TASKS
    statuses = state["statuses"]["mwaa_load.load_dag"]
    assert len(statuses) == PROCESSES // TASKS
    assert all(s["executionStatus"] == "Successful" for s in statuses)
    assert all(
        sorted(t["name"] for t in s["taskStatus"] if t["executionStatus"] == "Successful")
        == [f"t{k:02d}" for k in range(TASKS)]
        for s in statuses
    ), "every task of every run Successful"
    assert not list((tmp_path / "spool" / "spool").rglob("*.json")), "nothing should be left in the spool"


def median(values: list[float]) -> object:
    return values[len(values) // 2] if values else "-"


def _warm_up(om: OpenMetadataEmulator, idp: IdentityServers) -> None:
    """One authenticated call first, as a running server would have: the emulator caches the realm's JWKS
    (30 s) and fetches it on a miss; 200 first calls at once would each fetch it from a busy test IdP."""
    token = idp.realms["custom-oidc"].mint("oidc-client")  # a principal OpenMetadata knows (om_sso)
    answer = om.http.get(
        f"{om.api_url}/v1/users/loggedInUser", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    om.clear_requests()
