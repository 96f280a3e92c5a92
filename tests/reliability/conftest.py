"""Fixtures for the reliability suites (fault matrix, load): identity servers, the OpenMetadata emulator
with auth on (it verifies every bearer token against the realms' JWKS), and a summary of measured outcomes
printed at the end of the session (`pytest_terminal_summary`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulators.identity import IdentityServers, start_identity_servers
from tests.helpers.openmetadata import OpenMetadataEmulator, sso_users
from tests.reliability.summary import SUMMARY


@pytest.fixture(scope="session")
def identity_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityServers]:
    servers = start_identity_servers(tmp_path_factory.mktemp("identity"))
    yield servers
    servers.stop()


@pytest.fixture
def idp(identity_servers: IdentityServers) -> IdentityServers:
    """Identity servers with counters, ttl, down and delay reset for this test."""
    identity_servers.reset()
    return identity_servers


@pytest.fixture
def om_sso(om: OpenMetadataEmulator, idp: IdentityServers) -> OpenMetadataEmulator:
    """The emulator (reset) trusting every realm's JWKS, audience `openmetadata`: tokens really checked."""
    om.set_auth(**{k: v for k, v in idp.om_auth().items() if k != "enabled"}, users=sso_users(idp))
    return om


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY:
        terminalreporter.section("reliability: measured outcomes")
        for line in SUMMARY:
            terminalreporter.write_line(line)
