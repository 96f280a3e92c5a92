"""Two tasks in a chain, for the "state committed before delivery" test: runs on Airflow 2 and 3."""

from __future__ import annotations

from datetime import datetime

try:
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:  # Airflow 2
    from airflow.operators.python import PythonOperator  # type: ignore[no-redef]

from airflow import DAG

with DAG("om_commit", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    first = PythonOperator(task_id="first", python_callable=lambda: "ok")
    second = PythonOperator(task_id="second", python_callable=lambda: "ok")
    first >> second
