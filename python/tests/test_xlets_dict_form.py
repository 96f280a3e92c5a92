"""Airflow >= 3.1 reduces a bare dict inlet/outlet to its keys: one warning per task, naming it and the
fix."""

from __future__ import annotations

import logging

import pytest

from airflow_openmetadata_lineage import xlets


@pytest.fixture(autouse=True)
def _fresh() -> None:
    xlets.reset_warnings()


def test_lost_dict_is_named_once_per_task(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert xlets.collect(["tables"], "d.extract", "inlets") == []
    assert xlets.collect(["tables"], "d.extract", "outlets") == []  # same task: no second warning
    assert xlets.collect(["entity", "fqn"], "d.load", "outlets") == []
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "task d.extract: inlets=['tables']" in lines[0]
    assert 'Wrap the dict in a list: inlets=[{"tables": [...]}]' in lines[0]
    assert "task d.load: outlets=['entity', 'fqn']" in lines[1]
    assert not any("builtins.str" in line for line in lines)  # not the generic "not a table reference"


def test_list_form_still_works() -> None:
    assert xlets.collect([{"tables": ["s.d.sc.t"]}], "d.t", "inlets") == ["s.d.sc.t"]
