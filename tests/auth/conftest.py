"""Fixtures for the auth integration tests: the identity servers, and the wheel imported from python/src.

The providers run in this (driver) venv against tests/emulators/identity.py; the OpenMetadata emulator
(tests/conftest.py) verifies every bearer token against the realms' JWKS. Airflow runs go through
tests/helpers/airflow_runner.py in .venvs/airflow2.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.emulators.identity import IdentityServers, start_identity_servers
from tests.helpers.openmetadata import OpenMetadataEmulator, sso_users
from tests.helpers.paths import REPO

sys.path.insert(0, str(REPO / "python" / "src"))  # the wheel's code, as the editable installs use it


@pytest.fixture(scope="session")
def identity_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityServers]:
    servers = start_identity_servers(tmp_path_factory.mktemp("identity"))
    yield servers
    servers.stop()


@pytest.fixture
def idp(identity_servers: IdentityServers) -> IdentityServers:
    """The identity servers with counters, ttl, down and delay reset for this test."""
    identity_servers.reset()
    return identity_servers


@pytest.fixture
def om_sso(om: OpenMetadataEmulator, idp: IdentityServers) -> OpenMetadataEmulator:
    """The OpenMetadata emulator trusting every realm's JWKS (as `publicKeyUrls`), audience `openmetadata`."""
    om.set_auth(**idp.om_auth(), users=sso_users(idp))
    return om
