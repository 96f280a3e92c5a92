"""Fixtures for the secret-hygiene tests: the identity servers (one per session, reset per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulators.identity import IdentityServers, start_identity_servers


@pytest.fixture(scope="session")
def identity_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityServers]:
    servers = start_identity_servers(tmp_path_factory.mktemp("identity"))
    yield servers
    servers.stop()


@pytest.fixture
def idp(identity_servers: IdentityServers) -> IdentityServers:
    identity_servers.reset()
    return identity_servers
