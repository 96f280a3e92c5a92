"""Every inlet/outlet form of docs/architecture.md §2 in one Airflow 2 DAG (plus forms that must be skipped).

extract >> transform >> load >> notify; each task's edges are its own inlets x outlets.
"""

from __future__ import annotations

from datetime import datetime

from airflow import DAG
from airflow.datasets import Dataset
from airflow.lineage.entities import Table
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator


def _work() -> str:
    return "ok"


with DAG(
    "om_forms",
    start_date=datetime(2024, 1, 1),
    schedule=None,
    catchup=False,
    doc_md="Orders pipeline: every inlet/outlet form.",
) as dag:
    extract = PythonOperator(
        task_id="extract",
        python_callable=_work,
        doc_md="Extract orders and customers.",
        inlets=[{"tables": ["mysql.shop.public.orders", "mysql.shop.public.customers"]}],
        outlets=[{"entity": "table", "fqn": "mysql.shop.staging.orders_raw"}],
    )
    transform = PythonOperator(
        task_id="transform",
        python_callable=_work,
        inlets=[Table(cluster="mysql", database="shop", name="staging.orders_raw")],
        outlets=[
            Dataset("openmetadata://mysql/shop/analytics/orders_daily"),
            Dataset("openmetadata://mysql/shop/analytics/orders%2Ev2"),  # a table name with a dot
            Dataset("s3://bucket/not-a-table"),  # not an OpenMetadata table: skipped
            {"path": "/tmp/x"},  # not a table reference: skipped
        ],
    )
    load = PythonOperator(
        task_id="load",
        python_callable=_work,
        task_display_name="Load the warehouse",
        inlets=[Dataset("openmetadata://mysql/shop/analytics/orders_daily")],
        outlets=[{"tables": ["snowflake.dw.public.orders_fact"]}],
    )
    notify = BashOperator(task_id="notify", bash_command="echo done")
    extract >> transform >> load >> notify
