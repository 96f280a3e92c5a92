"""Static checks of the module and its examples: `terraform fmt -check`, `terraform validate` of the root and
of every example (offline, from the provider mirror, lock files read-only), and a real plan of
examples/complete against moto (new VPC, customer KMS key, Okta, artifacts built at apply time: plan
needs no plugins.zip)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terraform.harness import REPO, MotoServer, Terraform, stage, write_provider_override

EXAMPLES = sorted(p.name for p in (REPO / "examples").iterdir() if (p / "main.tf").is_file())


def test_examples_exist() -> None:
    assert {"basic", "complete", "auth-providers"} <= set(EXAMPLES)
    for name in EXAMPLES:
        assert (REPO / "examples" / name / ".terraform.lock.hcl").is_file(), f"examples/{name}: no lock file"
        assert "h1:" in (REPO / "examples" / name / ".terraform.lock.hcl").read_text()


def test_fmt_check(tf_cli_config: Path) -> None:
    tf = Terraform(REPO, cli_config=tf_cli_config)
    for args in (
        ("fmt", "-check", "-diff", "-no-color"),
        ("fmt", "-check", "-recursive", "-diff", "-no-color", "examples", "tests/terraform"),
    ):
        proc = tf.run(*args, check=False)
        assert proc.returncode == 0, f"terraform {' '.join(args)}: not formatted:\n{proc.stdout}"


@pytest.mark.parametrize("root", [".", *(f"examples/{name}" for name in EXAMPLES)])
def test_validate(root: str, tf_cli_config: Path, tmp_path: Path) -> None:
    tf = Terraform(REPO / root, cli_config=tf_cli_config, env={"TF_DATA_DIR": str(tmp_path / "data")})
    tf.run("init", "-input=false", "-no-color", "-backend=false", "-lockfile=readonly")
    result = tf.validate()
    assert result["valid"] is True, result["diagnostics"]
    assert result["error_count"] == 0


def test_complete_example_plans_without_prebuilt_artifacts(
    tf_cli_config: Path, moto_server: MotoServer, tmp_path: Path
) -> None:
    workdir = stage(REPO / "examples" / "complete", tmp_path / "complete")
    write_provider_override(workdir, moto_server.endpoint)
    tf = Terraform(workdir, cli_config=tf_cli_config)
    tf.init()
    plan = tf.plan(
        {
            "openmetadata_api_endpoint": "https://om.example.com/api",
            "okta_client_id": "client",
            "okta_org_url": "https://dev-1.okta.com/oauth2/default",
            "okta_private_key": "-----BEGIN PRIVATE KEY-----\nMIIcompletesecret\n-----END PRIVATE KEY-----\n",
            "okta_email": "bot@example.com",
        }
    )
    addresses = plan.addresses()
    for expected in (
        "module.mwaa.aws_vpc.this[0]",
        "module.mwaa.aws_nat_gateway.this[0]",
        "module.mwaa.terraform_data.artifacts[0]",
        "module.mwaa.aws_s3_object.plugins",
        'module.mwaa.aws_s3_object.dags["lineage_example.py"]',
        "module.mwaa.aws_s3_object.startup_script[0]",
        "module.mwaa.aws_secretsmanager_secret.this[0]",
        "aws_kms_key.this",
    ):
        assert expected in addresses, f"{expected} not planned"
    subnets = [plan.after(f"module.mwaa.aws_subnet.private[{i}]") for i in (0, 1)]
    assert subnets[0]["availability_zone"] != subnets[1]["availability_zone"]
    env = plan.after("module.mwaa.aws_mwaa_environment.this")
    assert env["environment_class"] == "mw1.medium" and env["max_workers"] == 5
    assert env["logging_configuration"][0]["worker_logs"][0]["enabled"] is False
    # the customer key is wired everywhere it can be
    unknown = plan.after_unknown("module.mwaa.aws_mwaa_environment.this")
    assert unknown.get("kms_key") is True and unknown.get("startup_script_s3_object_version") is True
    assert plan.after_unknown("module.mwaa.aws_secretsmanager_secret.this[0]").get("kms_key_id") is True
    assert "MIIcompletesecret" not in plan.text
    # the apply-time build is keyed on the sources' hash, and the upload on the same hash (plan reads no file)
    trigger = plan.after("module.mwaa.terraform_data.artifacts[0]")["triggers_replace"]
    assert re.fullmatch("[0-9a-f]{64}", trigger)
    assert plan.after("module.mwaa.aws_s3_object.plugins")["source_hash"] == trigger
