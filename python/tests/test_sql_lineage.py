"""sql_lineage against golden fixtures (tests/golden_sql/<dialect>.json, reviewed by hand), plus the rules
those fixtures do not show. Regenerate after a deliberate change with GOLDEN_UPDATE=1 and review the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from airflow_openmetadata_lineage.sql_lineage import SqlLineage, dialect_for, parse_sql

GOLDEN = Path(__file__).parent / "golden_sql"
FILES = sorted(GOLDEN.glob("*.json"))


def render(result: SqlLineage) -> dict[str, Any]:
    """The compact, reviewable form a fixture stores: names joined by '.', one line per output column."""
    dotted = ".".join
    return {
        "inputs": [dotted(t) for t in result.inputs],
        "outputs": [dotted(t) for t in result.outputs],
        "columns": [
            f"{dotted(c.to_table)}.{c.to_column} <- "
            + ", ".join(f"{dotted(t)}.{col}" for t, col in c.sources)
            + (f"  [{c.function}]" if c.function else "")
            for c in result.columns
        ],
        "locations": list(result.locations),
    }


def cases() -> list[Any]:
    found = []
    for path in FILES:
        data = json.loads(path.read_text())
        for case in data["cases"]:
            found.append(pytest.param(path, data["dialect"], case, id=f"{path.stem}-{case['name']}"))
    return found


def test_every_dialect_has_fixtures() -> None:
    assert {p.stem for p in FILES} >= {
        "postgres",
        "redshift",
        "snowflake",
        "athena",
        "trino",
        "mysql",
        "sqlite",
    }


@pytest.mark.parametrize(("path", "dialect", "case"), cases())
def test_golden(path: Path, dialect: str, case: dict[str, Any]) -> None:
    got = render(parse_sql(case["sql"], dialect))
    if os.environ.get("GOLDEN_UPDATE") == "1":
        data = json.loads(path.read_text())
        for stored in data["cases"]:
            if stored["name"] == case["name"]:
                stored["expect"] = got
        path.write_text(json.dumps(data, indent=2) + "\n")
        return
    assert "expect" in case, f"{path.name}:{case['name']} has no expect: run with GOLDEN_UPDATE=1 and review"
    assert got == case["expect"]
    if case["name"].endswith("_no_edge"):
        assert not (got["inputs"] and got["outputs"]), "a no-edge case must not yield both inputs and outputs"


def test_script_as_list_and_string_agree() -> None:
    script = ["CREATE TABLE a.x AS SELECT id FROM a.y", "INSERT INTO a.z SELECT id FROM a.x"]
    assert parse_sql(script, "postgres") == parse_sql(";\n".join(script), "postgres")


def test_unparsable_sql_is_a_note_not_an_exception() -> None:
    result = parse_sql("CREATE TABLE AS SELECT FROM WHERE (((", "postgres")
    assert (result.inputs, result.outputs) == ((), ())
    assert result.notes and "postgres" in result.notes[0]


def test_unknown_connection_type_parses_generic() -> None:
    assert dialect_for("postgres") == "postgres" and dialect_for("aws") == "athena"
    assert dialect_for("no-such-db") is None
    assert parse_sql("CREATE TABLE s.b AS SELECT x FROM s.a", dialect_for("no-such-db")).outputs == (
        ("s", "b"),
    )


def test_star_gives_table_lineage_and_a_note() -> None:
    result = parse_sql("CREATE TABLE s.b AS SELECT * FROM s.a", "postgres")
    assert (result.inputs, result.outputs, result.columns) == ((("s", "a"),), (("s", "b"),), ())
    assert any("SELECT *" in n for n in result.notes)


def test_insert_column_count_mismatch_keeps_table_lineage() -> None:
    result = parse_sql("INSERT INTO s.b (x, y) SELECT x FROM s.a", "postgres")
    assert result.outputs == (("s", "b"),) and result.columns == ()
