"""docs/module.md documents every input and output, generated from variables.tf / outputs.tf and in sync."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from omlineage_devkit.terraform import REPO

GEN = REPO / "scripts" / "gen_tf_docs.py"


def test_module_doc_in_sync() -> None:
    proc = subprocess.run([sys.executable, str(GEN), "--check"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("document", ["README.md", "docs/module.md"])
def test_every_variable_and_output_documented(document: str) -> None:
    doc = (REPO / document).read_text()
    variables = re.findall(r'^variable "([^"]+)"', (REPO / "variables.tf").read_text(), flags=re.M)
    outputs = re.findall(r'^output "([^"]+)"', (REPO / "outputs.tf").read_text(), flags=re.M)
    assert len(variables) >= 30 and len(outputs) >= 11
    for name in variables + outputs:
        assert re.search(rf"^\| `{re.escape(name)}` \| \S", doc, flags=re.M), (
            f"{name} missing from {document}"
        )
    assert "| `openmetadata` |" in doc and "(sensitive)" in doc


def test_check_detects_drift(tmp_path: Path) -> None:
    """--check fails when a description changes (run on a copy of the repository's module files)."""
    for name in ("variables.tf", "outputs.tf"):
        (tmp_path / name).write_text((REPO / name).read_text())
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "module.md").write_text((REPO / "docs" / "module.md").read_text())
    (tmp_path / "README.md").write_text((REPO / "README.md").read_text())
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "gen_tf_docs.py").write_text(GEN.read_text())
    check = [sys.executable, str(tmp_path / "scripts" / "gen_tf_docs.py"), "--check"]
    assert subprocess.run(check, capture_output=True, check=False).returncode == 0
    outputs = tmp_path / "outputs.tf"
    outputs.write_text(outputs.read_text().replace("ARN of the MWAA environment.", "Changed."))
    proc = subprocess.run(check, capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "out of date" in proc.stderr
    assert "README.md" in proc.stderr and "docs/module.md" in proc.stderr
