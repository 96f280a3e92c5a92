"""The seed's bare-dict form, which Airflow >= 3.1 reduces to its keys, beside the list form that works."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG


def _work() -> str:
    return "ok"


with DAG("om_dict_form", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    bare = PythonOperator(
        task_id="bare",
        python_callable=_work,
        inlets={"tables": ["mysql.shop.public.orders"]},
        outlets={"tables": ["mysql.shop.staging.orders_raw"]},
    )
    wrapped = PythonOperator(
        task_id="wrapped",
        python_callable=_work,
        inlets=[{"tables": ["mysql.shop.staging.orders_raw"]}],
        outlets=[{"tables": ["mysql.shop.analytics.orders_daily"]}],
    )
    bare >> wrapped
