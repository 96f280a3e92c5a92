"""A real PostgreSQL (Debian's package, loopback port, temp dir) for the session; each test run of
dags/om_sql_auto.py gets a fresh database of it and a SQLite file (omlineage_devkit.sql_scenario)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from omlineage_devkit.paths import missing
from omlineage_devkit.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer().start()
    except RuntimeError as exc:
        missing(str(exc))
    yield server
    server.stop()
