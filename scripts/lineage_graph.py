#!/usr/bin/env python3
"""OpenMetadata lineage (the emulator's /__admin/state JSON) -> a Graphviz picture.

Tables are boxes grouped by service.database.schema; each edge is labelled with its pipeline and its column
lineage (`to <- from`: the edge's columnsLineage, else the columns the wheel's report named). `make demo`
writes build/demo-lineage.{dot,svg}; the picture in docs/automatic-lineage.md is one such run.
Usage: lineage_graph.py state.json out.svg (needs `dot`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def _split(fqn: str) -> tuple[str, str]:
    parts, current, quoted = [], "", False
    for char in fqn:
        if char == '"':
            quoted = not quoted
        if char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return ".".join(parts[:-1]), parts[-1]


def _q(text: str) -> str:
    """A DOT string; a newline becomes DOT's own line break escape."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(
    state: dict[str, Any],
    automatic: set[tuple[str, str]] | None = None,
    report_columns: dict[tuple[str, str], list[str]] | None = None,
) -> str:
    """`automatic`: (from, to) pairs found without inlets/outlets, drawn solid; declared ones dashed.
    `report_columns`: (from, to) -> ["to_col <- from_col"], used where the edge holds no columnsLineage."""
    edges = state.get("edges", [])
    tables = sorted({e[k] for e in edges for k in ("from", "to") if e.get(k)})
    groups: dict[str, list[str]] = {}
    for fqn in tables:
        groups.setdefault(_split(fqn)[0], []).append(fqn)
    lines = [
        "digraph lineage {",
        "  rankdir=LR; node [shape=box, style=rounded, fontname=Helvetica];",
        "  edge [fontname=Helvetica, fontsize=9];",
    ]
    for i, (schema, fqns) in enumerate(sorted(groups.items())):
        lines.append(f"  subgraph cluster_{i} {{ label={_q(schema)}; style=dashed; color=gray;")
        lines += [f"    {_q(fqn)} [label={_q(_split(fqn)[1])}];" for fqn in fqns]
        lines.append("  }")
    for e in sorted(edges, key=lambda e: (e["from"] or "", e["to"] or "")):
        columns = (e.get("lineageDetails") or {}).get("columnsLineage") or []
        label = [f"pipeline: {(e.get('pipeline') or '-').split('.', 1)[-1]}"]
        for c in columns[:6]:
            sources = ", ".join(_split(f)[1] for f in c.get("fromColumns", []))
            label.append(f"{_split(c.get('toColumn', ''))[1]} <- {sources}")
        if not columns:
            label += (report_columns or {}).get((e["from"], e["to"]), [])[:6]
        style = "solid" if automatic is None or (e["from"], e["to"]) in automatic else "dashed"
        lines.append(f"  {_q(e['from'])} -> {_q(e['to'])} [label={_q(chr(10).join(label))}, style={style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_text: str, out_svg: Path) -> bool:
    """Writes out_svg (and the .dot beside it); False when Graphviz `dot` is not installed."""
    out_svg.with_suffix(".dot").write_text(dot_text)
    dot = shutil.which("dot")
    if dot is None:
        return False
    subprocess.run([dot, "-Tsvg", "-o", str(out_svg)], input=dot_text, text=True, check=True, timeout=60)
    return True


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: lineage_graph.py state.json out.svg")
    ok = render(to_dot(json.loads(Path(sys.argv[1]).read_text())), Path(sys.argv[2]))
    sys.exit(0 if ok else "Graphviz `dot` not found: apt-get install graphviz (the .dot file was written)")
