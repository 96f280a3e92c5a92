"""A run that fails in its middle task: extract >> boom >> after (after ends upstream_failed)."""

from __future__ import annotations

from datetime import datetime

try:  # Airflow 3
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.python import PythonOperator


def _work() -> str:
    return "ok"


def _boom() -> None:
    raise RuntimeError("boom: this task fails on purpose")


with DAG("om_fail", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    extract = PythonOperator(
        task_id="extract",
        python_callable=_work,
        inlets=[{"tables": ["mysql.shop.public.orders"]}],
        outlets=[{"tables": ["mysql.shop.staging.orders_raw"]}],
    )
    boom = PythonOperator(
        task_id="boom",
        python_callable=_boom,
        retries=0,
        inlets=[{"tables": ["mysql.shop.staging.orders_raw"]}],
        outlets=[{"tables": ["mysql.shop.analytics.orders_daily"]}],
    )
    after = PythonOperator(task_id="after", python_callable=_work)
    extract >> boom >> after
