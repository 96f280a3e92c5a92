"""Fault matrix: real Airflow 2 runs (one worker: one AIRFLOW_HOME, one spool_dir) against the OpenMetadata
emulator with auth on (custom-oidc tokens from the identity server), one fault per run, then one clean run.

For every fault: no task fails, lineage adds no more than its time budget to a task, and after the clean run
(the next report from that worker delivers what the spool kept) OpenMetadata holds 100 % of the faulted run's
edges and task statuses. Records belong to one deployment (endpoint + service): the run against a closed port
is delivered once that port answers again (a relay to the emulator), the run against a name that does not
resolve is never delivered to the other endpoint's server. The measured table goes into the session summary.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

import pytest

from omlineage_devkit.airflow_runner import DagRunResult, new_home, run_dag, task_overheads
from omlineage_devkit.emulators.identity import IdentityServers
from omlineage_devkit.openmetadata import OpenMetadataEmulator
from omlineage_devkit.ports import closed_port
from omlineage_devkit.summary import SUMMARY

DAG_FILE = Path(__file__).parent / "dags" / "rel_faults.py"
SERVICE = "mwaa_rel"
TIMEOUT = 2.0
TIME_BUDGET = 4.0
MARGIN = 1.0  # log timestamps, XCom writes and Airflow's own post_execute work around send_lineage
ALL_API = r"^/api/"
FIRST_DAY = datetime(2024, 2, 1, tzinfo=timezone.utc)


CLOSED_PORT = 0  # picked once per session: the "down" run and its own recovery use the same endpoint


def closed_port_url() -> str:
    global CLOSED_PORT
    if not CLOSED_PORT:
        CLOSED_PORT = closed_port()
    return f"http://127.0.0.1:{CLOSED_PORT}/api"


def relay(port: int, target: tuple[str, int]) -> socket.socket:
    """The server "comes back" on a closed port: a TCP relay from 127.0.0.1:port to the emulator."""
    listener = socket.create_server(("127.0.0.1", port))

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        with src, dst:
            while data := src.recv(65536):
                dst.sendall(data)

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(target)
            threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener


@dataclass
class Fault:
    name: str  # as in the table
    dag: str  # rel_<key> in dags/rel_faults.py
    rule: Optional[dict[str, Any]] = None  # emulator fault rule on every API path
    endpoint: Optional[Callable[[], str]] = None  # another endpoint for this run
    token_endpoint_down: bool = False


FAULTS = [
    Fault("401 once, then valid", "unauthorized_once", {"mode": "status", "status": 401, "count": 1}),
    Fault("down (closed port)", "server_down", endpoint=closed_port_url),
    Fault("connection reset", "connection_reset", {"mode": "reset"}),
    Fault("HTTP 503", "http_503", {"mode": "status", "status": 503}),
    Fault("429 + Retry-After 2s", "too_many_requests", {"mode": "retry_after", "retry_after": 2}),
    Fault("slow (2.5s > timeout)", "slow", {"mode": "delay", "delay_ms": 2500}),
    Fault("malformed JSON", "malformed_json", {"mode": "malformed"}),
    Fault("token endpoint down", "token_endpoint_down", token_endpoint_down=True),
    Fault("DNS failure", "dns_failure", endpoint=lambda: "http://openmetadata.invalid:8585/api"),
]


def lineage_env(idp: IdentityServers, endpoint: str) -> dict[str, str]:
    values = {
        "backend": "airflow_openmetadata_lineage.backend.OpenMetadataLineageBackend",
        "airflow_service_name": SERVICE,
        "openmetadata_api_endpoint": endpoint,
        "airflow_base_url": "http://airflow.example:8080",
        "timeout": str(TIMEOUT),
        "time_budget": str(TIME_BUDGET),
    }
    return {
        **idp.lineage_env("custom-oidc"),
        **{f"AIRFLOW__LINEAGE__{k.upper()}": v for k, v in values.items()},
    }


def tables(key: str) -> tuple[str, str, str]:
    return (f"mysql.rel.{key}.a", f"mysql.rel.{key}.b", f"mysql.rel.{key}.c")


def recovered(state: dict[str, Any], key: str, logical_ms: int) -> tuple[int, int]:
    """(present, expected) edges + task statuses of one run of rel_<key>."""
    a, b, c = tables(key)
    pipeline = f"{SERVICE}.rel_{key}"
    edges = {(e["from"], e["to"], e["pipeline"]) for e in state["edges"]}
    present = sum(1 for edge in ((a, b, pipeline), (b, c, pipeline)) if edge in edges)
    rows = [s for s in state["statuses"].get(pipeline, []) if s["timestamp"] == logical_ms]
    tasks = {t["name"]: t["executionStatus"] for row in rows for t in row.get("taskStatus", [])}
    present += sum(1 for t in ("extract", "load") if tasks.get(t) == "Successful")
    return present, 4


@pytest.fixture
def worker_home() -> Iterator[Path]:
    yield new_home("airflow2", [DAG_FILE])


def test_fault_matrix(om_sso: OpenMetadataEmulator, idp: IdentityServers, worker_home: Path) -> None:
    om = om_sso
    for key in [f.dag for f in FAULTS] + ["recovery"]:
        om.seed_tables(*tables(key))
    realm = idp.realms["custom-oidc"]
    rows: list[tuple[Fault, DagRunResult, int, int, int, int]] = []

    for day, fault in enumerate(FAULTS):
        if fault.rule:
            om.set_faults({"path_regex": ALL_API, **fault.rule})
        realm.down = fault.token_endpoint_down
        tokens_before = realm.token_requests
        om.clear_requests()
        endpoint = fault.endpoint() if fault.endpoint else om.api_url
        logical = FIRST_DAY + timedelta(days=day)
        result = run_dag(
            f"rel_{fault.dag}",
            home=worker_home,
            env=lineage_env(idp, endpoint),
            logical_date=logical.strftime("%Y-%m-%dT%H:%M:%S"),
        )
        om.clear_faults()
        realm.down = False
        logical_ms = int(logical.timestamp() * 1000)
        during = recovered(om.state(), fault.dag, logical_ms)[0]
        sent = len(om.requests())
        rows.append((fault, result, logical_ms, realm.token_requests - tokens_before, sent, during))
        if fault.rule and fault.rule["mode"] == "retry_after":
            time.sleep(fault.rule["retry_after"])  # the test waits the Retry-After out; the tasks never do

    pending = sorted((worker_home / "spool" / "spool").rglob("*.json"))
    recovery_day = FIRST_DAY + timedelta(days=len(FAULTS))
    recovery = run_dag(
        "rel_recovery",
        home=worker_home,
        env=lineage_env(idp, om.api_url),
        logical_date=recovery_day.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    # The closed port answers again: the "down" run's records go to the same endpoint they were made for.
    om_address = urlsplit(om.api_url)
    listener = relay(CLOSED_PORT, (om_address.hostname or "127.0.0.1", om_address.port or 80))
    try:
        back = run_dag(
            "rel_recovery",
            home=worker_home,
            env=lineage_env(idp, closed_port_url()),
            logical_date=(recovery_day + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        )
    finally:
        listener.close()
    back.assert_ok()
    state = om.state()
    left = sorted((worker_home / "spool" / "spool").rglob("*.json"))

    table = [
        f"fault matrix (Airflow 2.10.5, custom-oidc, timeout {TIMEOUT:g}s, budget {TIME_BUDGET:g}s): "
        f"{len(pending)} reports spooled, {len(left)} left after the recovery run",
        f"{'fault':<24} {'failed tasks':>12} {'added s (max)':>13} {'token reqs':>10} {'OM reqs':>7} "
        f"{'delivered in run':>16} {'after recovery':>14}",
    ]
    problems = []
    during_states = {}
    for fault, result, logical_ms, tokens, sent, during in rows:
        failed = [t for t, s in result.states.items() if s != "success"]
        added = task_overheads(result.output)
        worst = max(added.values()) if added else float("nan")
        during_states[fault.name] = result.states
        got, want = recovered(state, fault.dag, logical_ms)
        # Another deployment's records (a name that never resolves): never delivered to this server.
        expected = 0 if fault.dag == "dns_failure" else want
        table.append(
            f"{fault.name:<24} {len(failed):>12} {worst:>13.2f} {tokens:>10} {sent:>7} "
            f"{100 * during / want:>15.0f}% {100 * got / want:>13.0f}%"
        )
        if result.rc != 0 or failed or set(result.states) != {"extract", "load"}:
            problems.append(f"{fault.name}: rc={result.rc} states={result.states}\n{result.output[-3000:]}")
        if set(added) != {"extract", "load"}:
            problems.append(f"{fault.name}: could not measure the added time ({sorted(added)})")
        elif worst > TIME_BUDGET + MARGIN:
            problems.append(f"{fault.name}: lineage added {worst:.2f}s (budget {TIME_BUDGET}s)")
        if got != expected:
            problems.append(f"{fault.name}: {got}/{want} edges+statuses in OpenMetadata after recovery")
        if "Traceback" in result.output:
            problems.append(f"{fault.name}: a traceback in the task log")
    rec_added = task_overheads(recovery.output)
    table.append(
        f"{'recovery run':<24} {sum(s != 'success' for s in recovery.states.values()):>12} "
        f"{max(rec_added.values()) if rec_added else float('nan'):>13.2f}"
    )
    SUMMARY.extend(table)
    print("\n".join(table))

    recovery.assert_ok()
    assert recovery.states == {"extract": "success", "load": "success"}
    assert rec_added and max(rec_added.values()) <= TIME_BUDGET + MARGIN, rec_added
    assert not problems, "\n".join(problems)
    # Only the unresolvable endpoint's records are left (its two tasks and its run's final record), in their
    # own deployment's folder.
    assert len(left) == 3 and len({p.parent for p in left}) == 1, left
    unauthorized = rows[0]
    assert unauthorized[3] == 2, "401: one token, one refresh after the 401"
    assert unauthorized[5] == 4, "401 then valid: delivered in the run itself"
    too_many = next(r for r in rows if r[0].dag == "too_many_requests")
    assert too_many[4] == 1, "after a 429 with Retry-After, the next task must not call the server"
    assert len(pending) >= 2 * (len(FAULTS) - 1), "every faulted run but the 401 one should have spooled"
