"""One DAG for both Airflow majors (2.x Dataset / 3.x Asset): the parity test's subject.

extract >> transform >> load >> notify >> boom >> after; each task's edges are its own inlets x outlets.
`boom` fails on purpose (its edge must not be drawn), so `after` never runs and the run fails. The failing
task comes last so that both majors report the same states in the same order.
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


def _boom() -> None:
    raise RuntimeError("boom: this task fails on purpose")


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
    boom = PythonOperator(
        task_id="boom",
        python_callable=_boom,
        retries=0,
        inlets=[{"tables": ["mysql.shop.public.orders"]}],
        outlets=[{"tables": ["mysql.shop.analytics.never_written"]}],
    )
    after = PythonOperator(task_id="after", python_callable=_work)
    extract >> transform >> load >> notify >> boom >> after
