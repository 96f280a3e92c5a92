"""SQLExecuteQueryOperator tasks with no inlets/outlets running real SQL on PostgreSQL and SQLite
(tests/sql_lineage): the wheel finds their lineage from the SQL, or from OpenLineage facets when the provider
is installed. Connections come from AIRFLOW_CONN_WAREHOUSE_PG / AIRFLOW_CONN_LOCAL_SQLITE set by the test."""

from datetime import datetime

from airflow import DAG
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

with DAG("om_sql_auto", start_date=datetime(2024, 1, 1), schedule=None, catchup=False) as dag:
    ctas = SQLExecuteQueryOperator(
        task_id="ctas_join",
        conn_id="warehouse_pg",
        sql="CREATE TABLE mart.order_facts AS SELECT o.id AS order_id, c.name AS customer, o.amount "
        "FROM raw.orders o JOIN raw.customers c ON c.id = o.customer_id",
    )
    insert_cte = SQLExecuteQueryOperator(
        task_id="insert_cte",
        conn_id="warehouse_pg",
        sql="WITH per_customer AS (SELECT customer, SUM(amount) AS total FROM mart.order_facts "
        "GROUP BY customer) INSERT INTO mart.customer_totals (customer, total) "
        "SELECT customer, total FROM per_customer",
    )
    view = SQLExecuteQueryOperator(
        task_id="view",
        conn_id="warehouse_pg",
        sql="CREATE VIEW mart.big_orders AS SELECT order_id, amount FROM mart.order_facts WHERE amount > 10",
    )
    temp_staging = SQLExecuteQueryOperator(
        task_id="temp_staging",
        conn_id="warehouse_pg",
        sql=[
            "CREATE TEMP TABLE staged AS SELECT id, amount FROM raw.orders",
            "INSERT INTO mart.positive (id, amount) SELECT id, amount FROM staged WHERE amount > 0",
        ],
    )
    select_only = SQLExecuteQueryOperator(
        task_id="select_only", conn_id="warehouse_pg", sql="SELECT count(*) FROM raw.orders"
    )
    declared = SQLExecuteQueryOperator(
        task_id="declared",
        conn_id="warehouse_pg",
        sql="INSERT INTO mart.positive (id, amount) SELECT id, amount FROM raw.orders WHERE amount > 1000",
        inlets=[{"tables": ["hand.db.s.source"]}],
        outlets=[{"tables": ["hand.db.s.target"]}],
    )
    sqlite_ctas = SQLExecuteQueryOperator(
        task_id="sqlite_ctas",
        conn_id="local_sqlite",
        sql="CREATE TABLE order_totals AS SELECT customer_id, SUM(amount) AS total FROM orders "
        "GROUP BY customer_id",
    )
    ctas >> [insert_cte, view]
    view >> temp_staging >> select_only >> declared >> sqlite_ctas
