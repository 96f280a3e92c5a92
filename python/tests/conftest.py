"""Fixtures for the wheel's unit tests (run in .venvs/airflow2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from omlineage_devkit.paths import missing

from airflow_openmetadata_lineage import runtime, secret_refs, xlets
from omstub import OMStub

REPO = Path(__file__).resolve().parents[2]
VENVS = REPO / ".venvs"


def need(path: Path, what: str) -> Path:
    """A tool the test needs, or a failure that says how to get it."""
    if not path.exists():
        missing(f"{what} not found at {path}: run scripts/bootstrap.sh")
    return path


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start slow external helpers (the schema oracle) as soon as we know a selected test needs them."""
    for item in session.items:
        start = getattr(getattr(item, "module", None), "start_oracle", None)
        if start is not None and item.name == "test_bodies_valid_for_the_official_models":
            start()


@pytest.fixture
def stub() -> Iterator[OMStub]:
    server = OMStub()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    """Each test starts like a new task process: no warned-once sets, no reporter, no secret cache."""
    xlets.reset_warnings()
    runtime.reset()
    secret_refs.clear_cache()
    yield
    runtime.reset()
