"""One DAG for both Airflow majors (2.x Dataset / 3.x Asset): the parity test's subject.

extract >> transform >> load >> notify; each task's edges are its own inlets x outlets.
"""

from __future__ import annotations

from datetime import datetime

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG, Asset
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.datasets import Dataset as Asset
    from airflow.operators.bash import BashOperator
    from airflow.operators.python import PythonOperator


def _work() -> str:
    return "ok"


with DAG(
    "om_parity",
    start_date=datetime(2024, 1, 1),
    schedule=None,
    catchup=False,
    doc_md="Orders pipeline on either Airflow major.",
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
        inlets=[Asset("openmetadata://mysql/shop/staging/orders_raw")],
        outlets=[
            Asset("openmetadata://mysql/shop/analytics/orders_daily"),
            Asset("openmetadata://mysql/shop/analytics/orders%2Ev2"),  # a table name with a dot
            Asset("s3://bucket/not-a-table"),  # not an OpenMetadata table: skipped
        ],
    )
    load = PythonOperator(
        task_id="load",
        python_callable=_work,
        task_display_name="Load the warehouse",
        inlets=[Asset("openmetadata://mysql/shop/analytics/orders_daily")],
        outlets=[{"tables": ["snowflake.dw.public.orders_fact"]}],
    )
    notify = BashOperator(task_id="notify", bash_command="echo done")
    extract >> transform >> load >> notify
