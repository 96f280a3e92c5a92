"""Airflow 3.3.1 (MWAA's image, the wheel installed offline from plugins.zip): a bare dict inlet/outlet is
reduced to its keys by Airflow; the wheel says so once for the task, naming it and the fix, and the list form
beside it still draws its edge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omlineage_devkit.airflow_runner import run_dag
from omlineage_devkit.lineage_settings import LOGICAL_DATE, lineage_env
from omlineage_devkit.mwaa_image import install
from omlineage_devkit.openmetadata import OpenMetadataEmulator

DAG = Path(__file__).resolve().parent / "dags" / "om_dict_form.py"
TABLES = ("mysql.shop.public.orders", "mysql.shop.staging.orders_raw", "mysql.shop.analytics.orders_daily")


def test_bare_dict_on_3_3_1_warns_once_with_the_fix(
    om_server: OpenMetadataEmulator, plugins: dict[str, Any], module_outputs: dict[str, Any], tmp_path: Path
) -> None:
    venv = install("3.3.1", plugins, module_outputs["no-auth"]["requirements"], tmp_path, tag="dict-form")
    env = lineage_env(om_server.api_url, **om_server.bot_env())  # auth is on, like the server
    env.pop("AIRFLOW__LINEAGE__BACKEND")
    env["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(plugins["3.3.1"]["dir"])
    om_server.reset()
    om_server.seed_tables(*TABLES)
    run = run_dag("om_dict_form", [DAG], venv=venv, env=env, logical_date=LOGICAL_DATE)
    state = om_server.state()
    om_server.reset()
    run.assert_ok()
    warnings = [
        line for line in run.output.splitlines() if "what Airflow >= 3.1 leaves of a bare dict" in line
    ]
    assert len(warnings) == 1, warnings
    assert "task om_dict_form.bare: inlets=['tables']" in warnings[0]
    assert 'Wrap the dict in a list: inlets=[{"tables": [...]}]' in warnings[0]
    assert {(e["from"], e["to"]) for e in state["edges"]} == {
        ("mysql.shop.staging.orders_raw", "mysql.shop.analytics.orders_daily")
    }
