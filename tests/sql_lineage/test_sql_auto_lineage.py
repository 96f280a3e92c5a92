"""Issue 14: a DAG of SQLExecuteQueryOperator tasks with no inlets/outlets runs real SQL on a real PostgreSQL
and SQLite, on Airflow 2.10.5 and 3.0.6, with and without the OpenLineage provider (venvs airflow2[-ol],
airflow3[-ol]); the table edges that reach the OpenMetadata emulator match what the SQL does, each naming the
pipeline, and their columnsLineage (column FQNs of the seeded tables) match the columns the SQL moves. The
report the wheel builds (its `automatic lineage` log line) is checked too: it says where lineage came from."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from omlineage_devkit.airflow_runner import DagRunResult, run_dag
from omlineage_devkit.lineage_settings import LOGICAL_DATE, lineage_env
from omlineage_devkit.openmetadata import OpenMetadataEmulator
from omlineage_devkit.postgres import PostgresServer
from omlineage_devkit.sql_scenario import (
    DAG_FILE,
    DAG_ID,
    PG,
    PIPELINE,
    SERVICE_MAP,
    TABLES,
    fresh_sqlite,
    fresh_warehouse,
)

EXPECTED_EDGES = {
    (f"{PG}.raw.orders", f"{PG}.mart.order_facts", PIPELINE),
    (f"{PG}.raw.customers", f"{PG}.mart.order_facts", PIPELINE),
    (f"{PG}.mart.order_facts", f"{PG}.mart.customer_totals", PIPELINE),
    (f"{PG}.mart.order_facts", f"{PG}.mart.big_orders", PIPELINE),
    (f"{PG}.raw.orders", f"{PG}.mart.positive", PIPELINE),
    ("lake.main.main.orders", "lake.main.main.order_totals", PIPELINE),
    ("hand.db.s.source", "hand.db.s.target", PIPELINE),  # declared xlets win over the SQL
}
# task -> {(from table, to table, to column, from columns)}
EXPECTED_COLUMNS = {
    "ctas_join": {
        (f"{PG}.raw.orders", f"{PG}.mart.order_facts", "order_id", ("id",)),
        (f"{PG}.raw.customers", f"{PG}.mart.order_facts", "customer", ("name",)),
        (f"{PG}.raw.orders", f"{PG}.mart.order_facts", "amount", ("amount",)),
    },
    "insert_cte": {
        (f"{PG}.mart.order_facts", f"{PG}.mart.customer_totals", "customer", ("customer",)),
        (f"{PG}.mart.order_facts", f"{PG}.mart.customer_totals", "total", ("amount",)),
    },
    "view": {
        (f"{PG}.mart.order_facts", f"{PG}.mart.big_orders", "order_id", ("order_id",)),
        (f"{PG}.mart.order_facts", f"{PG}.mart.big_orders", "amount", ("amount",)),
    },
    "temp_staging": {
        (f"{PG}.raw.orders", f"{PG}.mart.positive", "id", ("id",)),
        (f"{PG}.raw.orders", f"{PG}.mart.positive", "amount", ("amount",)),
    },
    "sqlite_ctas": {
        ("lake.main.main.orders", "lake.main.main.order_totals", "customer_id", ("customer_id",)),
        ("lake.main.main.orders", "lake.main.main.order_totals", "total", ("amount",)),
    },
}
FOUND = re.compile(r"OpenMetadata lineage: om_sql_auto\.(\w+): automatic lineage (\{.*\})")
VENVS = ("airflow2", "airflow3", "airflow2-ol", "airflow3-ol")
# The tables' columns as OpenMetadata holds them (the reporter keeps only column FQNs that exist).
COLUMNS = {
    f"{PG}.raw.orders": ["id", "customer_id", "amount"],
    f"{PG}.raw.customers": ["id", "name", "email"],
    f"{PG}.mart.order_facts": ["order_id", "customer", "amount"],
    f"{PG}.mart.customer_totals": ["customer", "total"],
    f"{PG}.mart.big_orders": ["order_id", "amount"],
    f"{PG}.mart.positive": ["id", "amount"],
    "lake.main.main.orders": ["id", "customer_id", "amount"],
    "lake.main.main.order_totals": ["customer_id", "total"],
}


@dataclass
class Outcome:
    venv: str
    run: DagRunResult
    state: dict[str, Any]
    found: dict[str, dict[str, Any]]  # task -> the automatic lineage the wheel logged
    row_counts: dict[str, int]
    requests: list[dict[str, Any]]


@pytest.fixture(scope="module", params=VENVS)
def outcome(
    request: pytest.FixtureRequest,
    om_server: OpenMetadataEmulator,
    postgres: PostgresServer,
    tmp_path_factory: Any,
) -> Outcome:
    venv = request.param
    om_server.reset()
    om_server.seed_tables(*TABLES, columns=COLUMNS)
    uri = fresh_warehouse(postgres, "warehouse")
    lake = fresh_sqlite(tmp_path_factory.mktemp("lake") / "lake.db")
    env = lineage_env(om_server.api_url, service_map=json.dumps(SERVICE_MAP), **om_server.bot_env())
    if venv.startswith("airflow3"):
        env.pop("AIRFLOW__LINEAGE__BACKEND")  # 3.x: the listener plugin
    env["AIRFLOW_CONN_WAREHOUSE_PG"] = uri
    env["AIRFLOW_CONN_LOCAL_SQLITE"] = json.dumps({"conn_type": "sqlite", "host": str(lake)})
    run = run_dag(DAG_ID, [DAG_FILE], venv=venv, env=env, logical_date=LOGICAL_DATE)
    found: dict[str, dict[str, Any]] = {}
    for task, text in FOUND.findall(run.output):
        found.setdefault(task, json.loads(text))
    counts = {
        table: int(postgres.psql(f"SELECT count(*) FROM {table}", "warehouse"))
        for table in ("mart.order_facts", "mart.customer_totals", "mart.big_orders", "mart.positive")
    }
    return Outcome(venv, run, om_server.state(), found, counts, om_server.requests())


def test_the_sql_really_ran(outcome: Outcome) -> None:
    assert outcome.run.states == dict.fromkeys(
        ("ctas_join", "insert_cte", "view", "temp_staging", "select_only", "declared", "sqlite_ctas"),
        "success",
    ), outcome.run.output[-5000:]
    assert outcome.row_counts == {
        "mart.order_facts": 4,
        "mart.customer_totals": 2,
        "mart.big_orders": 2,
        "mart.positive": 3,
    }


def test_edges_in_openmetadata_match_the_sql(outcome: Outcome) -> None:
    edges = {(e["from"], e["to"], e["pipeline"]) for e in outcome.state["edges"]}
    assert edges == EXPECTED_EDGES, outcome.run.output[-5000:]


def test_column_lineage_in_openmetadata_matches_the_sql(outcome: Outcome) -> None:
    expected: dict[tuple[str, str], set[tuple[str, tuple[str, ...]]]] = {}
    for records in EXPECTED_COLUMNS.values():
        for from_table, to_table, to_column, from_columns in records:
            expected.setdefault((from_table, to_table), set()).add(
                (f"{to_table}.{to_column}", tuple(f"{from_table}.{c}" for c in from_columns))
            )
    got = {
        (e["from"], e["to"]): {
            (c["toColumn"], tuple(c["fromColumns"])) for c in e["lineageDetails"].get("columnsLineage") or []
        }
        for e in outcome.state["edges"]
        if e["from"] != "hand.db.s.source"
    }
    assert got == expected


def test_column_lineage_in_the_report_matches_the_sql(outcome: Outcome) -> None:
    for task, expected in EXPECTED_COLUMNS.items():
        assert task in outcome.found, f"{task}: no automatic lineage logged\n{outcome.run.output[-4000:]}"
        got = {(f, t, c, tuple(cols)) for f, t, c, cols in outcome.found[task]["columns"]}
        assert got == expected, f"{task}: {outcome.found[task]}"


def test_source_is_openlineage_only_where_the_provider_is_installed(outcome: Outcome) -> None:
    """With the provider, Postgres tasks take OpenLineage's facets; where they name nothing (openlineage-sql
    finds no input in a WITH ... INSERT; the provider has no SQLite support) the SQL parse steps in."""
    sources = {task: found["source"] for task, found in outcome.found.items()}
    assert "declared" not in outcome.found and "select_only" not in outcome.found
    if outcome.venv.endswith("-ol"):
        expected = {
            "ctas_join": "openlineage",
            "insert_cte": "sql",
            "view": "openlineage",
            "temp_staging": "openlineage",
            "sqlite_ctas": "sql",
        }
    else:
        expected = dict.fromkeys(EXPECTED_COLUMNS, "sql")
    assert sources == expected


def test_each_table_is_looked_up_once(outcome: Outcome) -> None:
    """Automatic lineage adds no request kind: status + edges, and one table lookup per table (cached)."""
    lookups = Counter(
        r["path"] for r in outcome.requests if r["method"] == "GET" and "/v1/tables/name/" in r["path"]
    )
    assert lookups and max(lookups.values()) == 1, lookups
    assert len(lookups) <= len(TABLES)
    kinds = Counter(
        f"{r['method']} {r['path'].split('/')[3] if r['path'].count('/') > 2 else r['path']}"
        for r in outcome.requests
    )
    print(
        f"{outcome.venv}: {sum(kinds.values())} requests, 7 tasks, {len(EXPECTED_EDGES)} edges: {dict(kinds)}"
    )
