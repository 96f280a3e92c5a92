"""Awkward names: a DAG id with a dot, a TaskGroup (task ids with dots), a mapped task (three instances)."""

from __future__ import annotations

from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator
from airflow.utils.task_group import TaskGroup


def _work(*args: object) -> str:
    return "ok"


with DAG("om.shapes", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    start = PythonOperator(task_id="start", python_callable=_work)
    with TaskGroup("grp") as grp:
        inner = PythonOperator(
            task_id="inner",
            python_callable=_work,
            inlets=[{"tables": ["mysql.shop.public.orders"]}],
            outlets=[{"tables": ["mysql.shop.staging.orders_grp"]}],
        )
    fan = PythonOperator.partial(
        task_id="fan",
        python_callable=_work,
        inlets=[{"tables": ["mysql.shop.staging.orders_grp"]}],
        outlets=[{"tables": ["mysql.shop.analytics.orders_fan"]}],
    ).expand(op_args=[[1], [2], [3]])
    end = PythonOperator(task_id="end", python_callable=_work)
    start >> grp >> fan >> end
