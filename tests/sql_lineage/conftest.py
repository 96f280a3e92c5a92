"""A real PostgreSQL (Debian's package, loopback port, temp dir) seeded with the raw tables of
dags/om_sql_auto.py, and a SQLite file; each test run of the DAG gets a fresh database of both."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.postgres import PostgresServer

SEED = """
CREATE SCHEMA raw; CREATE SCHEMA mart;
CREATE TABLE raw.customers (id int PRIMARY KEY, name text, email text);
CREATE TABLE raw.orders (id int PRIMARY KEY, customer_id int, amount numeric);
INSERT INTO raw.customers VALUES (1, 'ada', 'a@x'), (2, 'bob', 'b@x');
INSERT INTO raw.orders VALUES (10, 1, 5), (11, 1, 20), (12, 2, 30), (13, 2, -1);
CREATE TABLE mart.customer_totals (customer text, total numeric);
CREATE TABLE mart.positive (id int, amount numeric);
"""


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer().start()
    except RuntimeError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))
    yield server
    server.stop()


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
