"""Generic fixtures for tests/: the OpenMetadata emulator (one per session, reset per test).

Area-specific fixtures live in each subfolder's own conftest.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `tests.helpers` importable from any rootdir

from tests.helpers.openmetadata import EmulatorProcess, OpenMetadataEmulator


@pytest.fixture(scope="session")
def om_server() -> Iterator[OpenMetadataEmulator]:
    """The OpenMetadata emulator, started once per session from .venvs/oracle (fails clearly if missing)."""
    process = EmulatorProcess()
    try:
        client = process.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield client
    process.stop()


@pytest.fixture
def om(om_server: OpenMetadataEmulator) -> OpenMetadataEmulator:
    """The emulator, reset to empty (no entities, requests, faults; auth off) for this test."""
    om_server.reset()
    return om_server
