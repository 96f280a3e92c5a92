"""`python -m airflow_openmetadata_lineage coverage`: usage errors exit 2 before any DAG is loaded (the DagBag
runs are in tests/sql_lineage/test_coverage.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_openmetadata_lineage.__main__ import main
from airflow_openmetadata_lineage.coverage import CoverageResult, TaskCoverage


def test_missing_folder_and_bad_map_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", str(tmp_path / "nope")]) == 2
    assert "is not a DAGs folder" in capsys.readouterr().out
    assert main(["coverage", str(tmp_path), "--service-map", '{"pg": "a.b.c.d"}']) == 2
    assert "--service-map service_map" in capsys.readouterr().out
    assert main(["coverage"]) == 2  # argparse usage error


def test_exit_codes_follow_the_tasks() -> None:
    covered = TaskCoverage("d", "a", "Op", "sql", ("s.d.x.a",), ("s.d.x.b",))
    bare = TaskCoverage("d", "b", "Op", "none")
    assert CoverageResult([covered]).exit_code == 0
    assert CoverageResult([covered, bare]).exit_code == 1
    assert CoverageResult([covered], errors={"x.py": "boom"}).exit_code == 2
    text = CoverageResult([covered, bare]).text()
    assert "d.a [Op]: sql\n    in  s.d.x.a\n    out s.d.x.b" in text and "1 without lineage" in text
