"""One task whose inlets name a table OpenMetadata does not know: that edge is skipped, the others kept."""

from __future__ import annotations

from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

with DAG("om_unknown", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    PythonOperator(
        task_id="copy",
        python_callable=lambda: "ok",
        inlets=[{"tables": ["mysql.shop.public.orders", "mysql.shop.public.ghost"]}],
        outlets=[{"tables": ["mysql.shop.staging.orders_copy"]}],
    )
