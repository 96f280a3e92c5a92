"""Two tasks with table inlets/outlets in the form every Airflow version keeps (a list of dicts): the
subject of the "lineage never breaks Airflow" runs."""

from __future__ import annotations

from datetime import datetime

try:  # Airflow 3
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.python import PythonOperator


def _work() -> str:
    return "ok"


with DAG("om_guard", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    extract = PythonOperator(
        task_id="extract",
        python_callable=_work,
        inlets=[{"tables": ["mysql.shop.public.orders"]}],
        outlets=[{"tables": ["mysql.shop.staging.orders_raw"]}],
    )
    load = PythonOperator(
        task_id="load",
        python_callable=_work,
        inlets=[{"tables": ["mysql.shop.staging.orders_raw"]}],
        outlets=[{"tables": ["mysql.shop.analytics.orders_daily"]}],
    )
    extract >> load
