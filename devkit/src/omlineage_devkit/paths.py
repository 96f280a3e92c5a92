"""Where things are, and the one way a missing tool fails (clearly; never a skip)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]  # devkit/src/omlineage_devkit/paths.py (an editable install)
VENVS = REPO / ".venvs"
# Scripts the tests run by path in venvs without the kit (airflow2, checkov): stdlib + what that venv has.
PROBES = Path(__file__).resolve().parent / "probes"


def venv_python(venv: str) -> Path:
    """The python of `.venvs/<venv>`, or a test failure that says how to build it."""
    python = VENVS / venv / "bin" / "python"
    if not python.exists():
        pytest.fail(
            f".venvs/{venv} is missing ({python} not found): "
            f"run `scripts/bootstrap.sh {venv}` (or `make venvs`)",
            pytrace=False,
        )
    return python
