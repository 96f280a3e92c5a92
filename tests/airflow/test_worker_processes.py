"""The worker path: `dags backfill` runs each task in its own `tasks run --raw` process (as MWAA workers do).

Checks what single-process `dags test` cannot: the worker-wide disk cache shared between task processes, the
run status completed by the last task's process, and the per-task log files free of secrets.
"""

from __future__ import annotations

from omlineage_devkit.airflow_runner import run_backfill
from omlineage_devkit.lineage_settings import LOGICAL_TS, SERVICE, lineage_env
from omlineage_devkit.openmetadata import OpenMetadataEmulator, rejected


def test_each_task_in_its_own_process(om: OpenMetadataEmulator) -> None:
    om.seed_tables(
        "mysql.shop.public.orders", "mysql.shop.staging.orders_raw", "mysql.shop.analytics.orders_daily"
    )
    om.set_auth(enabled=True)
    token = om.token("ingestion-bot")
    env = lineage_env(om.api_url, auth_provider_type="openmetadata", jwt_token=token)
    pipeline_fqn = f"{SERVICE}.om_worker"

    result = run_backfill("om_worker", ["om_worker.py"], date="2024-01-02", env=env)

    result.assert_ok()
    assert result.states == {"extract": "success", "load": "success"}
    assert "OpenMetadata lineage: om_worker.load reported" in result.output, "no report in the task logs"
    assert token not in result.output, "the JWT leaked into a log"
    log = om.requests()
    assert not rejected(log), rejected(log)
    # the second task process found service and pipeline in the worker-wide disk cache: sent once each
    assert [r["path"] for r in log].count("/api/v1/services/pipelineServices") == 1
    assert [r["path"] for r in log].count("/api/v1/pipelines") == 1
    [status] = om.state()["statuses"][pipeline_fqn]
    assert status["timestamp"] == LOGICAL_TS
    assert status["executionStatus"] == "Successful"
    assert {s["name"]: s["executionStatus"] for s in status["taskStatus"]} == {
        "extract": "Successful",
        "load": "Successful",
    }
    assert all("startTime" in s and "endTime" in s for s in status["taskStatus"]), status["taskStatus"]
    assert om.edges() == {
        ("mysql.shop.public.orders", "mysql.shop.staging.orders_raw", pipeline_fqn),
        ("mysql.shop.staging.orders_raw", "mysql.shop.analytics.orders_daily", pipeline_fqn),
    }
