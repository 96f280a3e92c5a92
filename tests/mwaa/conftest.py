"""Fixtures of the MWAA install tests: the module's own requirements.txt and options per auth provider (one
real `terraform plan`), and plugins.zip for every MWAA version (built concurrently, sharing pip's cache)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from omlineage_devkit.mwaa_image import VERSIONS, build_plugins, unpack
from omlineage_devkit.plan_rows import PROVIDERS, ROWS
from omlineage_devkit.terraform import REPO, Terraform, write_modules_root, write_provider_override


@pytest.fixture(scope="session")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """version -> {"zip", "dir" (unpacked, as MWAA does), "manifest"}: the `make artifacts` flavour (every
    extra), built for each version's image."""
    root = tmp_path_factory.mktemp("plugins-by-version")

    def one(version: str) -> tuple[str, dict[str, Any]]:
        out = root / version
        manifest = build_plugins(version, out)
        unpacked = unpack(out / "plugins.zip", root / f"{version}-unpacked")
        return version, {"zip": out / "plugins.zip", "dir": unpacked, "manifest": manifest}

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, VERSIONS))


@pytest.fixture(scope="session")
def module_outputs(
    tmp_path_factory: pytest.TempPathFactory, tf_cli_config: Path, moto_server: Any, plugins: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """provider -> {"requirements": requirements.txt, "options": airflow_configuration_options} as the module
    plans them (one plan for every provider; default airflow_version)."""
    missing = set(PROVIDERS.values()) - set(ROWS)
    assert not missing, f"tests/terraform/test_plan_matrix.py ROWS lacks {missing}"
    workdir = tmp_path_factory.mktemp("mwaa-plan")
    (workdir / ".terraform.lock.hcl").write_bytes((REPO / ".terraform.lock.hcl").read_bytes())
    write_provider_override(workdir, moto_server.endpoint)
    (workdir / "providers.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
        'provider "aws" {\n  region = "us-east-1"\n}\n'
    )
    tf = Terraform(workdir, cli_config=tf_cli_config)
    zip_path = str(plugins[VERSIONS[0]]["zip"])
    credential_keys = ("jwt_token", "secret_key", "client_secret", "private_key")
    modules = {}
    for row in PROVIDERS.values():
        om = dict(ROWS[row]["om"])
        # credentials go through the ephemeral openmetadata_credentials input (the module's default path)
        credentials = {k: om.pop(k) for k in credential_keys if k in om}
        modules[row] = {
            "name": f"om-{row.replace('_', '-')}",
            "vpc_id": "vpc-0abc",
            "private_subnet_ids": ["subnet-0a", "subnet-0b"],
            "secret_recovery_window_in_days": 0,
            "artifacts": {"plugins_zip_path": zip_path},
            "openmetadata": om,
            **({"openmetadata_credentials": credentials} if credentials else {}),
        }
    variables = write_modules_root(workdir, modules)
    tf.init()
    plan = tf.plan(variables, name="mwaa")
    return {
        provider: {
            "requirements": plan.after(f"module.{row}.aws_s3_object.requirements")["content"],
            "options": plan.after(f"module.{row}.aws_mwaa_environment.this")["airflow_configuration_options"],
        }
        for provider, row in PROVIDERS.items()
    }
