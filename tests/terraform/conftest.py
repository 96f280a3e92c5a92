"""Fixtures of the Terraform tests: built artifacts, an initialised plan root, a local AWS per module (the
CLI config against the offline provider mirror and moto come from the kit's pytest plugin).

Prerequisites (terraform on PATH, the provider mirror, moto_server) fail the tests with a clear message:
never a skip. Terraform commands cost ~5 s each here, so directories are initialised once per session and
shared.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from omlineage_devkit.local_aws import LocalAws
from omlineage_devkit.terraform import (
    REPO,
    HarnessError,
    MotoServer,
    Terraform,
    provider_mirror,
    require_terraform,
    write_module_root,
    write_provider_override,
)


@pytest.fixture(scope="session")
def built_artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scripts/build_artifacts.py run once into a temp dir (wheel, plugins.zip, artifacts.json)."""
    out = tmp_path_factory.mktemp("artifacts")
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_artifacts.py"), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"build_artifacts.py failed: {proc.stderr}"
    return out


@pytest.fixture(scope="session")
def plan_root(
    tmp_path_factory: pytest.TempPathFactory, tf_cli_config: Path, moto_server: MotoServer
) -> Terraform:
    """An initialised root (provider -> moto) whose main.tf.json tests rewrite with
    harness.write_module_root."""
    workdir = tmp_path_factory.mktemp("plan-root")
    shutil.copy2(REPO / ".terraform.lock.hcl", workdir / ".terraform.lock.hcl")
    write_provider_override(workdir, moto_server.endpoint)
    # aws_override.tf needs a provider block to override: declare the provider in the root.
    (workdir / "providers.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
        'provider "aws" {\n  region = "us-east-1"\n}\n'
    )
    write_module_root(workdir, {"name": "init", "openmetadata": {"api_endpoint": "http://x/api"}})
    tf = Terraform(workdir, cli_config=tf_cli_config)
    tf.init()
    return tf


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    """Local AWS (moto + the MWAA emulator) for one test module's applies."""
    try:
        require_terraform()
        provider_mirror()
        local = LocalAws(delay=1.0).start()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield local
    local.stop()
