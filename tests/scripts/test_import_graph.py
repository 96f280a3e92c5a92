"""scripts/import_graph.py on tiny packages built in tmp_path: a cycle (through a type-only and a
function-local import) fails naming it; the same package without the cycle passes and lists every import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from omlineage_devkit.paths import REPO

SCRIPT = REPO / "scripts" / "import_graph.py"


def package(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    return pkg


def run(pkg: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(pkg)], capture_output=True, text=True, check=False
    )


LAZY = "def load():\n    from .sub import base\n    from pkg import model\n    return base, model\n"
TYPE_ONLY = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..config import Config\n"
SUB = {
    "sub/__init__.py": TYPE_ONLY,
    "sub/base.py": "from . import helpers\n",
    "sub/helpers.py": "import json\n",
    "model.py": "X = 1\n",
}


def test_a_cycle_through_type_only_and_lazy_imports_fails_naming_it(tmp_path: Path) -> None:
    pkg = package(
        tmp_path,
        {
            **SUB,
            "config.py": LAZY,
            "sub/__init__.py": SUB["sub/__init__.py"] + "from .base import helpers\n",
            "sub/base.py": "from . import helpers\nfrom .. import config\n",
        },
    )
    proc = run(pkg)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "import cycle: config -> sub.base -> config" in proc.stderr
    assert "config -> model, sub.base\n" in proc.stdout
    assert "sub -> config (type), sub.base\n" in proc.stdout


def test_no_cycle_passes_and_lists_the_imports(tmp_path: Path) -> None:
    pkg = package(tmp_path, {**SUB, "config.py": "import pkg.model\nfrom .sub import base\n"})
    proc = run(pkg)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "config -> model, sub.base" in lines
    assert "sub -> config (type)" in lines  # type-only imports are listed (and would count for a cycle)
    assert "sub.base -> sub.helpers" in lines
    assert "sub.helpers ->" in lines  # json is not the package's
    assert "no import cycle" in lines[-1]
