"""The end-to-end DAG: raw orders -> staging -> mart, with the seed's `{"tables": [...]}` inlets/outlets.

Uploaded to the environment's DagS3Path by the module (dags_dir) and run by omlineage_devkit/mwaa_local.py.
"""

from __future__ import annotations

from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator


def _work() -> str:
    return "ok"


with DAG(
    "mwaa_etl",
    start_date=datetime(2024, 1, 1),
    schedule=None,
    catchup=False,
    doc_md="Orders ETL on MWAA: raw -> staging -> mart.",
) as dag:
    extract = PythonOperator(
        task_id="extract",
        python_callable=_work,
        inlets=[{"tables": ["sample.shop.raw.orders", "sample.shop.raw.customers"]}],
        outlets=[{"tables": ["sample.shop.staging.orders"]}],
    )
    load = PythonOperator(
        task_id="load",
        python_callable=_work,
        inlets=[{"tables": ["sample.shop.staging.orders"]}],
        outlets=[{"tables": ["sample.shop.mart.orders"]}],
    )
    extract >> load
