"""Example DAG: one task reading one table and writing another; the wheel reports the edge to OpenMetadata."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("lineage_example", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    BashOperator(
        task_id="copy_orders",
        bash_command="echo copying orders",
        # Always a list: Airflow >= 3.1 keeps only the keys of a bare dict.
        inlets=[{"tables": ["mysql.shop.public.orders"]}],
        outlets=[{"tables": ["snowflake.analytics.public.orders"]}],
    )
