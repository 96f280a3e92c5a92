"""Static checks of the module and its examples: `terraform fmt -check`, `terraform validate` of the root and
of every example (offline, from the provider mirror, lock files read-only), and a real plan of
examples/complete against moto (new VPC, customer KMS key, Okta, artifacts built at apply time: plan
needs no plugins.zip)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from omlineage_devkit.terraform import REPO, MotoServer, Terraform, stage, write_provider_override

EXAMPLES = sorted(p.name for p in (REPO / "examples").iterdir() if (p / "main.tf").is_file())


def test_examples_exist() -> None:
    assert {"basic", "complete", "auth-providers", "private-no-internet", "customer-endpoints"} <= set(
        EXAMPLES
    )
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


def test_private_no_internet_example_plans_endpoints_and_no_internet(
    tf_cli_config: Path, moto_server: MotoServer, built_artifacts: Path, tmp_path: Path
) -> None:
    workdir = stage(REPO / "examples" / "private-no-internet", tmp_path / "private")
    write_provider_override(workdir, moto_server.endpoint)
    (workdir / "test_override.tf").write_text(
        f'module "mwaa" {{\n  artifacts = {{ plugins_zip_path = "{built_artifacts / "plugins.zip"}" }}\n}}\n'
    )
    tf = Terraform(workdir, cli_config=tf_cli_config)
    tf.init()
    plan = tf.plan(
        {
            "openmetadata_api_endpoint": "https://openmetadata.internal/api",
            "oidc_client_id": "bot",
            "oidc_token_endpoint": "https://idp.internal/token",
            "oidc_client_secret": "oidc-private-secret-value",
        }
    )
    addresses = plan.addresses()
    for kind in ("aws_nat_gateway", "aws_internet_gateway", "aws_eip", "aws_route"):
        assert not plan.addresses(kind), f"a no-internet VPC must have no {kind}: {plan.addresses(kind)}"
    assert not [a for a in addresses if ".aws_subnet.public" in a]
    services = {
        plan.after(a)["service_name"].removeprefix("com.amazonaws.us-east-1.")
        for a in plan.addresses("aws_vpc_endpoint")
    }
    assert services == {
        "s3",
        "airflow.api",
        "airflow.env",
        "airflow.ops",
        "sqs",
        "ecr.api",
        "ecr.dkr",
        "kms",
        "logs",
        "monitoring",
        "secretsmanager",
    }
    endpoint = plan.after('module.mwaa.aws_vpc_endpoint.interface["secretsmanager"]')
    assert endpoint["private_dns_enabled"] is True and endpoint["vpc_endpoint_type"] == "Interface"
    ui = plan.after('module.mwaa.aws_vpc_security_group_ingress_rule.webserver_cidr["10.0.0.0/8"]')
    assert (ui["from_port"], ui["to_port"], ui["cidr_ipv4"]) == (443, 443, "10.0.0.0/8")
    assert "oidc-private-secret-value" not in plan.text + plan.json_text()


def test_customer_endpoints_example_plans_the_two_endpoints(
    tf_cli_config: Path, moto_server: MotoServer, built_artifacts: Path, tmp_path: Path
) -> None:
    workdir = stage(REPO / "examples" / "customer-endpoints", tmp_path / "customer")
    write_provider_override(workdir, moto_server.endpoint)
    (workdir / "test_override.tf").write_text(
        f'module "mwaa" {{\n  artifacts = {{ plugins_zip_path = "{built_artifacts / "plugins.zip"}" }}\n}}\n'
    )
    tf = Terraform(workdir, cli_config=tf_cli_config)
    tf.init()
    plan = tf.plan(
        {
            "vpc_id": "vpc-0abc",
            "private_subnet_ids": ["subnet-0a", "subnet-0b"],
            "ui_security_group_ids": ["sg-0123456789abcdef0"],
            "openmetadata_api_endpoint": "https://om.example.com/api",
            "openmetadata_jwt_token": "eyJ.customer-endpoints-secret.sig",
        }
    )
    assert plan.after("module.mwaa.aws_mwaa_environment.this")["endpoint_management"] == "CUSTOMER"
    for name in ("database", "webserver"):
        assert plan.after_unknown(f"aws_vpc_endpoint.{name}").get("service_name") is True
    assert plan.output_unknown("webserver_https_url") is True
    assert "customer-endpoints-secret" not in plan.text + plan.json_text()
