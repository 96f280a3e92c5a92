"""Issue 2: real Airflow 2 runs report the exact service, pipeline, tasks, statuses and edges."""

from __future__ import annotations

from omlineage_devkit.airflow_runner import parse_task_states, run_dag
from omlineage_devkit.lineage_settings import BASE_URL, LOGICAL_DATE, LOGICAL_TS, SERVICE, lineage_env
from omlineage_devkit.openmetadata import OpenMetadataEmulator, rejected
from omlineage_devkit.parity import FORMS_TABLES

PIPELINE = f"{SERVICE}.om_forms"


def assert_every_request_valid(om: OpenMetadataEmulator, allowed: set[int] = frozenset()) -> list[dict]:
    log = om.requests()
    assert log, "the backend sent nothing"
    bad = [r for r in rejected(log) if r[2] not in allowed]
    assert not bad, f"requests the official models / server rejected: {bad}"
    return log


def test_every_xlet_form_with_jwt_auth(om: OpenMetadataEmulator) -> None:
    """One run of om_forms (auth on, bot JWT) checked against everything the emulator holds."""
    om.seed_tables(*FORMS_TABLES)
    om.set_auth(enabled=True)
    token = om.token("ingestion-bot")
    env = lineage_env(om.api_url, auth_provider_type="openmetadata", jwt_token=token)

    result = run_dag("om_forms", ["om_forms.py"], env=env, logical_date=LOGICAL_DATE)

    result.assert_ok()
    expected_states = {"extract": "success", "transform": "success", "load": "success", "notify": "success"}
    assert result.states == expected_states
    assert parse_task_states(result.output) == expected_states
    assert token not in result.output, "the JWT leaked into the task log"
    log = assert_every_request_valid(om)
    assert {r["subject"] for r in log if not r["path"].endswith("/system/version")} == {"ingestion-bot"}

    state = om.state()
    [service] = state["services"]
    assert (service["name"], service["serviceType"]) == (SERVICE, "Airflow")

    [pipeline] = state["pipelines"]
    assert pipeline["fullyQualifiedName"] == PIPELINE
    assert pipeline["service"]["fullyQualifiedName"] == SERVICE
    assert pipeline["description"] == "Orders pipeline: every inlet/outlet form."
    assert pipeline["sourceUrl"].startswith(f"{BASE_URL}/dags/om_forms")
    assert pipeline["version"] == 0.1, "the pipeline was re-sent although the DAG did not change"
    tasks = {t["name"]: t for t in pipeline["tasks"]}
    assert {n: (t["taskType"], t["downstreamTasks"]) for n, t in tasks.items()} == {
        "extract": ("PythonOperator", ["transform"]),
        "transform": ("PythonOperator", ["load"]),
        "load": ("PythonOperator", ["notify"]),
        "notify": ("BashOperator", []),
    }
    assert tasks["extract"]["description"] == "Extract orders and customers."
    assert "description" not in tasks["notify"]
    assert tasks["load"]["displayName"] == "Load the warehouse"
    for name, task in tasks.items():
        assert task["fullyQualifiedName"] == f"{PIPELINE}.{name}"
        assert task["sourceUrl"].startswith(f"{BASE_URL}/dags/om_forms"), task["sourceUrl"]
        assert f"task_id={name}" in task["sourceUrl"] or task["sourceUrl"].endswith(f"/tasks/{name}")

    [status] = state["statuses"][PIPELINE]
    assert status["timestamp"] == LOGICAL_TS
    assert status["executionStatus"] == "Successful"
    assert {s["name"]: s["executionStatus"] for s in status["taskStatus"]} == {
        "extract": "Successful",
        "transform": "Successful",
        "load": "Successful",
        "notify": "Successful",
    }

    assert om.edges() == {
        ("mysql.shop.public.orders", "mysql.shop.staging.orders_raw", PIPELINE),
        ("mysql.shop.public.customers", "mysql.shop.staging.orders_raw", PIPELINE),
        ("mysql.shop.staging.orders_raw", "mysql.shop.analytics.orders_daily", PIPELINE),
        ("mysql.shop.staging.orders_raw", 'mysql.shop.analytics."orders.v2"', PIPELINE),
        ("mysql.shop.analytics.orders_daily", "snowflake.dw.public.orders_fact", PIPELINE),
    }
    # the forms that are not tables were skipped with a warning, not sent
    assert "s3://" not in str(log) and "/tmp/x" not in str(log)
    assert "is not a table reference" in result.output


def test_unknown_table_skips_only_its_edge(om: OpenMetadataEmulator) -> None:
    om.seed_tables("mysql.shop.public.orders", "mysql.shop.staging.orders_copy")
    env = lineage_env(om.url, **om.bot_env())  # the endpoint without its trailing /api is accepted too

    result = run_dag("om_unknown", ["om_unknown.py"], env=env, logical_date=LOGICAL_DATE)

    result.assert_ok()
    assert result.states == {"copy": "success"}
    assert om.edges() == {
        ("mysql.shop.public.orders", "mysql.shop.staging.orders_copy", f"{SERVICE}.om_unknown")
    }
    log = assert_every_request_valid(om, allowed={404})
    assert [r[1] for r in rejected(log) if r[2] == 404] == ["/api/v1/tables/name/mysql.shop.public.ghost"]
    warnings = [line for line in result.output.splitlines() if "mysql.shop.public.ghost" in line]
    assert warnings and all("WARNING" in line for line in warnings), warnings


def test_pipeline_sent_only_when_the_dag_changes(om: OpenMetadataEmulator, om_env: dict[str, str]) -> None:
    """Later runs in the same worker home re-send the pipeline only once the DAG's structure changed."""
    om.seed_tables("mysql.shop.public.orders", "mysql.shop.staging.orders_copy")
    pipeline_fqn = f"{SERVICE}.om_unknown"
    first = run_dag("om_unknown", ["om_unknown.py"], env=om_env, logical_date=LOGICAL_DATE)
    first.assert_ok()
    writes = ("/api/v1/pipelines", f"/api/v1/pipelines/{om.pipeline(pipeline_fqn)['id']}")
    puts_after_first = len([r for r in om.requests() if r["path"] in writes and r["method"] != "GET"])

    same = run_dag("om_unknown", env=om_env, home=first.home, logical_date="2024-01-03T00:00:00")
    same.assert_ok()
    puts_after_same = len([r for r in om.requests() if r["path"] in writes and r["method"] != "GET"])
    assert (puts_after_first, puts_after_same) == (1, 1), "an unchanged DAG re-sent its pipeline"
    assert om.pipeline(pipeline_fqn)["version"] == 0.1

    dag_file = first.home / "dags" / "om_unknown.py"
    dag_file.write_text(
        dag_file.read_text().replace('task_id="copy"', 'task_id="copy", doc_md="Now documented."')
    )
    changed = run_dag("om_unknown", env=om_env, home=first.home, logical_date="2024-01-04T00:00:00")
    changed.assert_ok()
    # the create was a POST; the change is one JSON Patch of what the DAG owns
    assert [r["method"] for r in om.requests() if r["path"] in writes and r["method"] != "GET"] == [
        "POST",
        "PATCH",
    ]
    pipeline = om.pipeline(pipeline_fqn)
    assert pipeline["version"] == 0.2
    assert pipeline["tasks"][0]["description"] == "Now documented."
    assert [s["timestamp"] for s in om.state()["statuses"][pipeline_fqn]] == [
        LOGICAL_TS + day * 86_400_000 for day in range(3)
    ]
    log = assert_every_request_valid(om, allowed={404})
    assert {r[1] for r in rejected(log) if r[2] == 404} == {"/api/v1/tables/name/mysql.shop.public.ghost"}


def test_config_error_one_clear_line_nothing_sent(om: OpenMetadataEmulator) -> None:
    """A missing required option: one log line naming it, nothing sent, the task succeeds."""
    env = lineage_env(om.api_url, **om.bot_env())
    del env["AIRFLOW__LINEAGE__AIRFLOW_SERVICE_NAME"]

    result = run_dag("om_forms", ["om_forms.py"], env=env, logical_date=LOGICAL_DATE)

    result.assert_ok()
    assert set(result.states.values()) == {"success"}
    assert om.requests() == []
    lines = [line for line in result.output.splitlines() if "airflow_service_name" in line]
    assert len(lines) == 1, lines
    assert "ERROR" in lines[0] or "WARNING" in lines[0], lines[0]


def test_task_group_and_mapped_task(om: OpenMetadataEmulator, om_env: dict[str, str]) -> None:
    """A DAG id and task ids with dots are quoted in FQNs; a mapped task is one task with one status."""
    om.seed_tables(
        "mysql.shop.public.orders", "mysql.shop.staging.orders_grp", "mysql.shop.analytics.orders_fan"
    )
    pipeline_fqn = f'{SERVICE}."om.shapes"'

    result = run_dag("om.shapes", ["om_shapes.py"], env=om_env, logical_date=LOGICAL_DATE)

    result.assert_ok()
    assert result.states == {"start": "success", "grp.inner": "success", "fan": "success", "end": "success"}
    assert_every_request_valid(om)
    tasks = {t["name"]: t for t in om.pipeline(pipeline_fqn)["tasks"]}
    assert set(tasks) == {"start", "grp.inner", "fan", "end"}
    assert tasks["grp.inner"]["fullyQualifiedName"] == f'{pipeline_fqn}."grp.inner"'
    assert tasks["start"]["downstreamTasks"] == ["grp.inner"]
    assert tasks["grp.inner"]["downstreamTasks"] == ["fan"]
    [status] = om.state()["statuses"][pipeline_fqn]
    assert status["executionStatus"] == "Successful"
    assert sorted((s["name"], s["executionStatus"]) for s in status["taskStatus"]) == [
        ("end", "Successful"),
        ("fan", "Successful"),
        ("grp.inner", "Successful"),
        ("start", "Successful"),
    ]
    assert om.edges() == {
        ("mysql.shop.public.orders", "mysql.shop.staging.orders_grp", pipeline_fqn),
        ("mysql.shop.staging.orders_grp", "mysql.shop.analytics.orders_fan", pipeline_fqn),
    }
