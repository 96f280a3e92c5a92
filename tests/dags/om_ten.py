"""Ten chained tasks, one edge each (t01: src_00 -> src_01, ...): the requests-per-task measurement."""

from __future__ import annotations

from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator

with DAG("om_ten", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    previous = None
    for i in range(1, 11):
        task = PythonOperator(
            task_id=f"t{i:02d}",
            python_callable=lambda: "ok",
            inlets=[{"tables": [f"mysql.shop.public.src_{i - 1:02d}"]}],
            outlets=[{"tables": [f"mysql.shop.public.src_{i:02d}"]}],
        )
        if previous is not None:
            previous >> task
        previous = task
