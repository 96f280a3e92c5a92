"""xlets.py: every inlet/outlet form of docs/architecture.md §2, and the log-once rule for anything else."""

from __future__ import annotations

import logging

import pytest
from airflow.datasets import Dataset
from airflow.lineage.entities import File, Table

from airflow_openmetadata_lineage.xlets import collect, fqn_from_uri, to_fqns


@pytest.mark.parametrize(
    "xlet, fqns",
    [
        ({"tables": ["mysql.db.sch.a", "mysql.db.sch.b"]}, ["mysql.db.sch.a", "mysql.db.sch.b"]),
        ({"tables": "mysql.db.sch.a"}, ["mysql.db.sch.a"]),
        ({"entity": "table", "fqn": "mysql.db.sch.a"}, ["mysql.db.sch.a"]),
        ({"entity": "Table", "fqn": " mysql.db.sch.a "}, ["mysql.db.sch.a"]),
        (Table(cluster="mysql", database="db", name="sch.a"), ["mysql.db.sch.a"]),
        (Table(cluster="mysql", database="db.sch", name="a"), ["mysql.db.sch.a"]),
        (Dataset("openmetadata://mysql/db/sch/a"), ["mysql.db.sch.a"]),
        (Dataset("openmetadata://mysql/db/sch/a%2Eb"), ['mysql.db.sch."a.b"']),
        (Dataset("openmetadata://my%2Fsvc/db/sch/t%25x"), ["my/svc.db.sch.t%x"]),
    ],
)
def test_accepted_forms(xlet: object, fqns: list[str]) -> None:
    assert to_fqns(xlet) == fqns


@pytest.mark.parametrize(
    "xlet",
    [
        "mysql.db.sch.a",
        {"entity": "dashboard", "fqn": "x"},
        {"tables": [1, 2]},
        {"tables": [""]},
        {"foo": "bar"},
        Table(cluster="mysql", database="db", name="a"),  # only 3 parts
        File(url="s3://bucket/key"),
        Dataset("s3://bucket/key"),
        Dataset("openmetadata://mysql/db/a"),
        42,
        None,
    ],
)
def test_other_forms_skipped(xlet: object) -> None:
    assert to_fqns(xlet) == []


def test_unknown_form_logged_once_per_shape(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="airflow_openmetadata_lineage")
    for _ in range(3):
        to_fqns({"foo": "bar"})
        to_fqns(Dataset("s3://b/k"))
    warnings = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert len(warnings) == 2
    assert "dict with keys foo" in warnings[0].getMessage()
    assert "Dataset/Asset URI" in warnings[1].getMessage()


def test_collect_dedups_keeps_order_and_mixes_forms() -> None:
    xlets = [
        {"tables": ["s.d.x.b", "s.d.x.a"]},
        Table(cluster="s", database="d", name="x.b"),
        Dataset("openmetadata://s/d/x/c"),
        {"foo": 1},
    ]
    assert collect(xlets) == ["s.d.x.b", "s.d.x.a", "s.d.x.c"]
    assert collect(None) == []
    assert collect({"tables": ["s.d.x.a"]}) == ["s.d.x.a"]


def test_uri_parser() -> None:
    assert fqn_from_uri("openmetadata://svc/db/sch/tbl") == "svc.db.sch.tbl"
    assert fqn_from_uri("OPENMETADATA://svc/db/sch/tbl") == "svc.db.sch.tbl"
    assert fqn_from_uri("openmetadata://svc/db/sch/tbl/") == "svc.db.sch.tbl"
    assert fqn_from_uri("openmetadata://svc/db//tbl") is None
    assert fqn_from_uri("postgres://svc/db/sch/tbl") is None
