"""Where things are, and the one way a missing tool fails (clearly; never a skip)."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[3]  # devkit/src/omlineage_devkit/paths.py (an editable install)
VENVS = REPO / ".venvs"
# Scripts the tests run by path in venvs without the kit (airflow2, checkov): stdlib + what that venv has.
PROBES = Path(__file__).resolve().parent / "probes"


def missing(message: str) -> NoReturn:
    """A tool or service a test needs is not here: the test fails and says how to get it (never a skip, so
    a run without it can't pass by doing less)."""
    pytest.fail(message, pytrace=False)


def venv_python(venv: str) -> Path:
    """The python of `.venvs/<venv>`, or a test failure that says how to build it."""
    python = VENVS / venv / "bin" / "python"
    if not python.exists():
        missing(
            f".venvs/{venv} is missing ({python} not found): "
            f"run `scripts/bootstrap.sh {venv}` (or `make venvs`)"
        )
    return python
