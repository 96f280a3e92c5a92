"""The demo DAG (`make demo`): SQL tasks with no inlets/outlets on a SQLite warehouse, whose lineage the wheel
finds from the SQL (table and column level), and one task with hand-declared inlets/outlets.

`demo_sqlite` comes from AIRFLOW_CONN_DEMO_SQLITE (scripts/demo.py); the module's `openmetadata.service_map`
maps it to the OpenMetadata service/database/schema `sample.shop.main`.
"""

from __future__ import annotations

from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

with DAG(
    "orders_sql",
    start_date=datetime(2024, 1, 1),
    schedule=None,
    catchup=False,
    doc_md="Orders on SQLite: raw tables -> order facts -> customer totals -> a published report.",
) as dag:
    seed = SQLExecuteQueryOperator(  # writes without reading a table: no edge
        task_id="seed",
        conn_id="demo_sqlite",
        sql=[
            "CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT)",
            "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer_id INTEGER, amount REAL)",
            "CREATE TABLE IF NOT EXISTS customer_totals (customer TEXT, total REAL)",
            "INSERT OR REPLACE INTO customers VALUES (1, 'ada', 'a@x.example'), (2, 'bob', 'b@x.example')",
            "INSERT OR REPLACE INTO orders VALUES (10, 1, 5.0), (11, 1, 20.0), (12, 2, 30.0)",
            "DROP TABLE IF EXISTS order_facts",
            "DROP VIEW IF EXISTS big_orders",
            "DELETE FROM customer_totals",
        ],
    )
    facts = SQLExecuteQueryOperator(
        task_id="order_facts",
        conn_id="demo_sqlite",
        sql="CREATE TABLE order_facts AS SELECT o.id AS order_id, c.name AS customer, o.amount "
        "FROM orders o JOIN customers c ON c.id = o.customer_id",
    )
    totals = SQLExecuteQueryOperator(
        task_id="customer_totals",
        conn_id="demo_sqlite",
        sql="WITH per_customer AS (SELECT customer, SUM(amount) AS total FROM order_facts GROUP BY customer)"
        " INSERT INTO customer_totals (customer, total) SELECT customer, total FROM per_customer",
    )
    big = SQLExecuteQueryOperator(
        task_id="big_orders",
        conn_id="demo_sqlite",
        sql="CREATE VIEW big_orders AS SELECT order_id, amount FROM order_facts WHERE amount > 10",
    )
    publish = PythonOperator(  # not SQL: lineage declared by hand, as before
        task_id="publish",
        python_callable=lambda: "published",
        inlets=[{"tables": ["sample.shop.main.customer_totals"]}],
        outlets=[{"tables": ["sample.shop.mart.customer_report"]}],
    )
    seed >> facts >> [totals, big]
    totals >> publish
