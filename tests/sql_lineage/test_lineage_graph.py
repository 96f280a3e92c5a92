"""scripts/lineage_graph.py: the demo's picture is drawn from what OpenMetadata holds, with real Graphviz."""

from __future__ import annotations

import shutil
from pathlib import Path

from omlineage_devkit.paths import missing
from scripts.lineage_graph import render, to_dot

STATE = {
    "edges": [
        {
            "from": "lake.main.main.orders",
            "to": "lake.main.main.facts",
            "pipeline": "svc.dag",
            "lineageDetails": {},
        },
        {
            "from": "lake.main.main.facts",
            "to": "lake.mart.x.report",
            "pipeline": "svc.dag",
            "lineageDetails": {},
        },
    ]
}


def test_dot_groups_by_schema_and_labels_columns(tmp_path: Path) -> None:
    automatic = {("lake.main.main.orders", "lake.main.main.facts")}
    columns = {("lake.main.main.orders", "lake.main.main.facts"): ["total <- amount"]}
    dot = to_dot(STATE, automatic, columns)
    assert 'label="lake.main.main"' in dot and 'label="lake.mart.x"' in dot
    edge = '"lake.main.main.orders" -> "lake.main.main.facts"'
    assert f'{edge} [label="pipeline: dag\\ntotal <- amount", style=solid]' in dot
    assert '"lake.main.main.facts" -> "lake.mart.x.report" [label="pipeline: dag", style=dashed]' in dot
    if shutil.which("dot") is None:
        missing("Graphviz `dot` not found: apt-get install graphviz")
    assert render(dot, tmp_path / "g.svg") and "<svg" in (tmp_path / "g.svg").read_text()
