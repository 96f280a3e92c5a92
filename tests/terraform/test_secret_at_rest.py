"""No secret at rest in Terraform on the default path (inline_secrets = false).

The module is applied for real against moto + the MWAA emulator with a canary credential given through the
ephemeral `openmetadata_credentials` input. The canary must be in Secrets Manager (the wheel reads it from
there) and nowhere Terraform keeps things: not in the saved plan file (every member of the zip), not in
`terraform show -json` of it, not in the state, not in the apply output. Rotation: a new value with a bumped
`openmetadata_credentials_version` writes a new secret version, and still nothing lands in state.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omlineage_devkit.local_aws import LocalAws, routed_network
from omlineage_devkit.terraform import REPO, HarnessError, Terraform, write_module_root

CANARY = "CANARY-jwt-4f1d9a7c2b-%-at-rest"
ROTATED = "CANARY-jwt-rotated-8e6b0c3d51"
NAME = "om-at-rest"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    try:
        local = LocalAws(delay=0.5).start()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield local
    local.stop()


def texts_of_plan_file(path: Path) -> str:
    """Every member of a saved plan (a zip: tfplan, tfstate, tfconfig/...) as text."""
    with zipfile.ZipFile(path) as plan:
        return "\n".join(plan.read(name).decode("utf-8", "replace") for name in plan.namelist())


def assert_absent(secret: str, **places: str) -> None:
    escaped = json.dumps(secret)[1:-1]
    for where, text in places.items():
        assert secret not in text and escaped not in text, f"the credential is kept in {where}"


def secret_value(aws: LocalAws) -> dict[str, Any]:
    sm = aws.client("secretsmanager")
    return json.loads(sm.get_secret_value(SecretId=f"openmetadata-lineage/{NAME}")["SecretString"])


def test_credentials_in_neither_plan_nor_state(
    aws: LocalAws, tf_cli_config: Path, built_artifacts: Path, tmp_path: Path
) -> None:
    network = routed_network(aws.client("ec2"), "10.80")
    workdir = tmp_path / "root"
    workdir.mkdir()
    shutil.copy2(REPO / ".terraform.lock.hcl", workdir / ".terraform.lock.hcl")
    (workdir / "providers.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
        'provider "aws" {\n  region = "us-east-1"\n}\n'
    )
    aws.write_override(workdir)
    inputs: dict[str, Any] = {
        "name": NAME,
        "vpc_id": network["vpc_id"],
        "private_subnet_ids": network["subnet_ids"],
        "openmetadata": {"api_endpoint": "https://om.example.com/api", "auth_provider_type": "openmetadata"},
        "openmetadata_credentials": {"jwt_token": CANARY},
        "artifacts": {"plugins_zip_path": str(built_artifacts / "plugins.zip")},
        "bucket_force_destroy": True,
        "secret_recovery_window_in_days": 0,
        "timeouts": {"create": "5m", "update": "5m", "delete": "5m"},
    }
    write_module_root(workdir, inputs)
    tf = Terraform(workdir, cli_config=tf_cli_config)
    tf.init()
    try:
        plan = tf.plan(inputs, name="at-rest")
        assert "module.mwaa.aws_secretsmanager_secret_version.this[0]" in plan.changes()
        assert_absent(
            CANARY, plan_file=texts_of_plan_file(plan.path), plan_json=plan.json_text(), text=plan.text
        )

        applied = tf.apply({"openmetadata_credentials": inputs["openmetadata_credentials"]}, plan=plan)
        state = tf.run("state", "pull").stdout
        assert '"aws_secretsmanager_secret_version"' in state and '"secret_string_wo_version": 1' in state
        assert_absent(CANARY, state=state, apply_output=applied)
        assert secret_value(aws) == {"jwt_token": CANARY}, "the credential must reach Secrets Manager"
        options = aws.client("mwaa").get_environment(Name=NAME)["Environment"]["AirflowConfigurationOptions"]
        assert options["lineage.jwt_token"] == f"aws-secretsmanager:openmetadata-lineage/{NAME}#jwt_token"

        # Same version, same inputs: nothing to do (the write-only value is not compared).
        assert tf.plan_exitcode(inputs) == 0

        # Rotation: a new value and a bumped version write a new secret version.
        rotated = {
            **inputs,
            "openmetadata_credentials": {"jwt_token": ROTATED},
            "openmetadata_credentials_version": 2,
        }
        write_module_root(workdir, rotated)
        rotate_plan = tf.plan(rotated, name="rotate")
        assert_absent(
            ROTATED, plan_file=texts_of_plan_file(rotate_plan.path), plan_json=rotate_plan.json_text()
        )
        tf.apply({"openmetadata_credentials": rotated["openmetadata_credentials"]}, plan=rotate_plan)
        assert secret_value(aws) == {"jwt_token": ROTATED}
        state = tf.run("state", "pull").stdout
        assert_absent(ROTATED, state=state)
        assert_absent(CANARY, state=state)
        inputs = rotated
    finally:
        tf.destroy(inputs)
