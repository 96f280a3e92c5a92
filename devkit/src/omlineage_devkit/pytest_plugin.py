"""The kit's pytest plugin (entry point `pytest11`: loaded by every pytest of a venv that has the kit): the
fixtures several suites share. Area-specific fixtures stay in each tests/ subfolder's conftest.py.

Imports of the emulators and harnesses happen inside the fixtures: the plugin also loads in venvs that have
none of their dependencies (.venvs/airflow2 runs the wheel's unit tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from omlineage_devkit.emulators.identity import IdentityServers
    from omlineage_devkit.openmetadata import OpenMetadataEmulator
    from omlineage_devkit.terraform import MotoServer


@pytest.fixture(scope="session")
def om_server() -> Iterator[OpenMetadataEmulator]:
    """The OpenMetadata emulator, started once per session from .venvs/oracle (fails clearly if missing)."""
    from omlineage_devkit.openmetadata import EmulatorProcess

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


@pytest.fixture(scope="session")
def identity_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityServers]:
    """One TLS realm per identity provider (emulators/identity.py), for the session."""
    from omlineage_devkit.emulators.identity import start_identity_servers

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
    """The emulator (reset) trusting every realm's JWKS (as `publicKeyUrls`), audience `openmetadata`: tokens
    really checked."""
    from omlineage_devkit.openmetadata import sso_users

    om.set_auth(**idp.om_auth(), users=sso_users(idp))
    return om


@pytest.fixture(scope="session")
def tf_cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CLI config installing hashicorp/aws from the mirror only (fails clearly when terraform/mirror
    missing)."""
    from omlineage_devkit.terraform import HarnessError, provider_mirror, require_terraform, write_cli_config

    try:
        require_terraform()
        mirror = provider_mirror()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    return write_cli_config(tmp_path_factory.mktemp("tfcli"), mirror)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the session (reset it in tests that apply)."""
    from omlineage_devkit.terraform import HarnessError, MotoServer

    server = MotoServer()
    try:
        server.start()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()
