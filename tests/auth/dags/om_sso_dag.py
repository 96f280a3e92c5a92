"""One task with the seed's inlet/outlet form: reported to OpenMetadata with an SSO token (tests/auth)."""

from __future__ import annotations

from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

with DAG("om_sso", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    PythonOperator(
        task_id="copy_orders",
        python_callable=lambda: "ok",
        inlets=[{"tables": ["mysql.shop.public.orders"]}],
        outlets=[{"tables": ["mysql.shop.analytics.orders_copy"]}],
    )
