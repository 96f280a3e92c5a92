"""The self-check from a DAG (MWAA users have no shell on workers): its text lands in the task log."""

from __future__ import annotations

from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator


def _check() -> bool:
    from airflow_openmetadata_lineage.check import run_check

    result = run_check()
    print(result.text())
    return result.ok


with DAG("om_selfcheck", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    PythonOperator(task_id="check", python_callable=_check)
