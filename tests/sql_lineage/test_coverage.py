"""`python -m airflow_openmetadata_lineage coverage <dags folder>` in the real Airflow venvs: the DagBag loads
offline, every task of dags/om_sql_auto.py is listed with its source and FQNs, tables are looked up on the
OpenMetadata emulator, and the exit code says 0 (all covered) / 1 (some without lineage) / 2 (load error)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from omlineage_devkit.airflow_runner import base_env
from omlineage_devkit.lineage_settings import lineage_env
from omlineage_devkit.openmetadata import OpenMetadataEmulator
from omlineage_devkit.paths import venv_python
from omlineage_devkit.sql_scenario import DAG_FILE, SERVICE_MAP, TABLES

COVERED_DAG = """
from datetime import datetime
from airflow import DAG
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
with DAG("om_covered", start_date=datetime(2024, 1, 1), schedule=None):
    SQLExecuteQueryOperator(task_id="auto", conn_id="warehouse_pg",
                            sql="INSERT INTO mart.positive (id, amount) SELECT id, amount FROM raw.orders")
    SQLExecuteQueryOperator(task_id="hand", conn_id="warehouse_pg", sql="SELECT 1",
                            inlets=[{"tables": ["hand.db.s.source"]}],
                            outlets=[{"tables": ["hand.db.s.target"]}])
"""


def coverage(venv: str, folder: Path, tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    home = tmp_path / f"home-{venv}"
    home.mkdir(exist_ok=True)
    full = {**base_env(home, venv), **env}
    full["AIRFLOW_CONN_WAREHOUSE_PG"] = "postgresql://postgres@127.0.0.1:1/warehouse"  # never connected to
    full["AIRFLOW_CONN_LOCAL_SQLITE"] = json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "lake.db")})
    proc = subprocess.run(
        [str(venv_python(venv)), "-m", "airflow_openmetadata_lineage", "coverage", str(folder), *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc.returncode, proc.stdout + "\n--stderr--\n" + proc.stderr


def as_json(output: str) -> dict[str, Any]:
    text = output.split("\n--stderr--\n")[0]
    return json.loads(text[text.index("{\n") :])


@pytest.mark.parametrize("venv", ["airflow2", "airflow3"])
def test_lists_every_task_and_checks_the_tables_on_the_server(
    venv: str, om: OpenMetadataEmulator, tmp_path: Path
) -> None:
    om.seed_tables(*[t for t in TABLES if t != "pg_local.warehouse.mart.big_orders"])  # one table missing
    folder = tmp_path / "dags"
    folder.mkdir()
    shutil.copy(DAG_FILE, folder)
    env = lineage_env(om.api_url, service_map=json.dumps(SERVICE_MAP), **om.bot_env())
    rc, output = coverage(venv, folder, tmp_path, env, "--json")
    assert rc == 1, output  # select_only has no lineage
    report = as_json(output)
    tasks = {t["task_id"]: t for t in report["tasks"]}
    assert {k: t["source"] for k, t in tasks.items()} == {
        "ctas_join": "sql",
        "insert_cte": "sql",
        "view": "sql",
        "temp_staging": "sql",
        "sqlite_ctas": "sql",
        "declared": "declared",
        "select_only": "none",
    }
    assert tasks["view"]["outlets"] == ["pg_local.warehouse.mart.big_orders"]
    assert tasks["view"]["resolved"] == {
        "pg_local.warehouse.mart.order_facts": "found",
        "pg_local.warehouse.mart.big_orders": "missing",
    }
    assert tasks["sqlite_ctas"]["inlets"] == ["lake.main.main.orders"] and tasks["ctas_join"]["columns"] == 3
    assert report["server"] == om.api_url

    if venv != "airflow2":
        return  # the text form is the same code; one Airflow start per venv is enough
    text_rc, text = coverage(venv, folder, tmp_path, env, "--no-server")
    assert text_rc == 1
    assert "om_sql_auto.select_only [SQLExecuteQueryOperator]: none" in text
    assert "    out pg_local.warehouse.mart.big_orders\n" in text
    assert "7 task(s): declared 1, none 1, sql 5; 1 without lineage" in text


def test_exit_0_when_covered_and_2_on_a_broken_dag(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "covered.py").write_text(COVERED_DAG)
    env = {"AIRFLOW__LINEAGE__SERVICE_MAP": json.dumps(SERVICE_MAP)}
    rc, output = coverage("airflow2", folder, tmp_path, env, "--no-server")
    assert rc == 0, output
    assert "om_covered.auto [SQLExecuteQueryOperator]: sql" in output

    (folder / "broken.py").write_text("from airflow import DAG\nraise RuntimeError('broken on purpose')\n")
    rc, output = coverage("airflow2", folder, tmp_path, env, "--no-server")
    assert rc == 2, output
    assert "ERROR loading" in output and "broken on purpose" in output

    rc, output = coverage("airflow2", folder, tmp_path, {}, "--service-map", "[1]", "--no-server")
    assert rc == 2 and "--service-map service_map must be a JSON object" in output, output
