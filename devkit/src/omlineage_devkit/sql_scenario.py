"""The SQL lineage scenario (tests/sql_lineage/dags/om_sql_auto.py): the tables it reads and writes, and fresh
databases for each run of it (a PostgreSQL warehouse from omlineage_devkit.postgres, a SQLite file). Shared by
the automatic-lineage tests and the `coverage` CLI tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .lineage_settings import SERVICE
from .paths import REPO
from .postgres import PostgresServer

DAG_ID = "om_sql_auto"
DAG_FILE = REPO / "tests" / "sql_lineage" / "dags" / f"{DAG_ID}.py"
PIPELINE = f"{SERVICE}.{DAG_ID}"
SERVICE_MAP = {"warehouse_pg": "pg_local", "local_sqlite": "lake.main.main"}
PG = "pg_local.warehouse"
TABLES = (
    f"{PG}.raw.orders",
    f"{PG}.raw.customers",
    f"{PG}.mart.order_facts",
    f"{PG}.mart.customer_totals",
    f"{PG}.mart.big_orders",
    f"{PG}.mart.positive",
    f"{PG}.public.staged",  # exists in OpenMetadata on purpose: a temp table must still get no edge
    "lake.main.main.orders",
    "lake.main.main.order_totals",
    "hand.db.s.source",
    "hand.db.s.target",
)

SEED = """
CREATE SCHEMA raw; CREATE SCHEMA mart;
CREATE TABLE raw.customers (id int PRIMARY KEY, name text, email text);
CREATE TABLE raw.orders (id int PRIMARY KEY, customer_id int, amount numeric);
INSERT INTO raw.customers VALUES (1, 'ada', 'a@x'), (2, 'bob', 'b@x');
INSERT INTO raw.orders VALUES (10, 1, 5), (11, 1, 20), (12, 2, 30), (13, 2, -1);
CREATE TABLE mart.customer_totals (customer text, total numeric);
CREATE TABLE mart.positive (id int, amount numeric);
"""


def fresh_warehouse(pg: PostgresServer, name: str) -> str:
    pg.psql(f"DROP DATABASE IF EXISTS {name}")
    pg.psql(f"CREATE DATABASE {name}")
    pg.psql(SEED, database=name)
    return pg.uri(name)


def fresh_sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE orders (id INTEGER, customer_id INTEGER, amount REAL);"
            "INSERT INTO orders VALUES (10, 1, 5), (11, 1, 20), (12, 2, 30);"
        )
    return path
