"""Fixtures of the end-to-end tests: a loopback AWS (moto + MWAA emulator), a network, built artifacts.

The OpenMetadata emulator and the identity servers come from the kit's pytest plugin (`om`,
`identity_servers`). Prerequisites (terraform, the provider mirror, moto, uv) fail the tests with a clear
message: never a skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omlineage_devkit.e2e_deploy import Deployment, build_artifacts
from omlineage_devkit.local_aws import LocalAws, routed_network
from omlineage_devkit.terraform import HarnessError, provider_mirror, require_terraform


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    try:
        require_terraform()
        provider_mirror()
        aws = LocalAws().start()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield aws
    aws.stop()


@pytest.fixture(scope="session")
def network(local_aws: LocalAws) -> dict[str, Any]:
    """An existing VPC with two private subnets in two AZs routed through a NAT gateway (what
    examples/basic expects the caller to bring)."""
    return routed_network(local_aws.client("ec2"), "10.60")


@pytest.fixture(scope="session")
def plugins_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_artifacts(tmp_path_factory.mktemp("e2e-artifacts"))


@pytest.fixture(scope="session")
def deployment(
    local_aws: LocalAws, network: dict[str, Any], plugins_zip: Path, tmp_path_factory: pytest.TempPathFactory
) -> Deployment:
    """The e2e root staged and initialised once; each test applies and destroys it."""
    return Deployment(local_aws, tmp_path_factory.mktemp("e2e-root"), network, plugins_zip)
