"""A scheduled DAG for `airflow dags backfill`: each task runs in its own worker process."""

from __future__ import annotations

from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

with DAG("om_worker", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    extract = PythonOperator(
        task_id="extract",
        python_callable=lambda: "ok",
        inlets=[{"tables": ["mysql.shop.public.orders"]}],
        outlets=[{"tables": ["mysql.shop.staging.orders_raw"]}],
    )
    load = PythonOperator(
        task_id="load",
        python_callable=lambda: "ok",
        inlets=[{"tables": ["mysql.shop.staging.orders_raw"]}],
        outlets=[{"tables": ["mysql.shop.analytics.orders_daily"]}],
    )
    extract >> load
