"""Secret-hygiene probe: one task process's worth of lineage work at DEBUG, through every error path.

Run with `.venvs/airflow2/bin/python hygiene_probe.py <spec.json>` and `AIRFLOW__LINEAGE__*` in the
environment (the provider's secrets among them). Every logger (requests, urllib3, msal, google-auth, botocore,
the wheel) writes DEBUG to stderr; stdout gets the self-check text and each report's error. The calling test
looks for the secrets in both streams and in the files left in spool_dir.

Steps (spec["steps"]): "ok" (server and identity provider up), "idp_down" (the realm's token endpoint answers
503), "om_401" (OpenMetadata answers 401 to everything: refresh, retry, rejected), "check" (the self-check),
each switching the emulators through their admin APIs.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, Optional

import requests

from airflow_openmetadata_lineage import runtime
from airflow_openmetadata_lineage.check import run_check
from airflow_openmetadata_lineage.model import DagInfo, RunInfo, TaskInfo, TaskReport, TaskRunInfo


def env_option(section: str, key: str) -> Optional[str]:
    return os.environ.get(f"AIRFLOW__{section.upper()}__{key.upper()}")


def admin(url: Optional[str], body: dict[str, Any], ca: Optional[str] = None) -> None:
    if url:
        requests.post(url, json=body, timeout=10, verify=ca or True).raise_for_status()


def report(ts: int) -> TaskReport:
    dag = DagInfo("hygiene", (TaskInfo("copy", "PythonOperator"),))
    run = RunInfo("hygiene", f"manual__{ts}", ts, "running", (TaskRunInfo("copy", "success", ts, ts + 1),))
    return TaskReport(dag, run, "copy", ("mysql.sec.s.src",), ("mysql.sec.s.dst",))


def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    faults_url = spec["om_admin"] + "/faults"
    results: dict[str, Any] = {}
    for index, step in enumerate(spec["steps"]):
        admin(spec.get("idp_admin"), {"down": step == "idp_down"}, spec.get("ca"))
        rules = [{"path_regex": "^/api/", "mode": "status", "status": 401}] if step == "om_401" else []
        admin(faults_url, {"rules": rules})
        if step == "check":
            results[step] = run_check(env_option).text()
            continue
        runtime.reset()  # a fresh task process: no cached token
        delivery = runtime.build_delivery(env_option, background=False)
        attempts: list[Any] = []
        deliver = delivery.deliver

        def recorded(
            rep: TaskReport,
            deadline: float,
            replay: bool,
            status: bool = True,
            deliver: Any = deliver,
            attempts: Any = attempts,
        ) -> Any:
            result = deliver(rep, deadline, replay, status)
            attempts.append(result)
            return result

        delivery.deliver = recorded
        # The hand-off keeps the report in spool_dir, then delivers it (older kept reports first): the last
        # attempt is this step's outcome.
        delivery.hand_off(report(1_704_067_200_000 + index))
        result = attempts[-1]
        results[step] = {"error": result.error, "status_sent": result.status_sent}
    admin(spec.get("idp_admin"), {"down": False}, spec.get("ca"))
    admin(faults_url, {"rules": []})
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
