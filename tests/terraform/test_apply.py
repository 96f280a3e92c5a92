"""Issue 5: real applies of the examples against moto + the MWAA emulator: outputs, read-back, no drift, an
in-place update (new option + new wheel -> new plugins.zip version), and a destroy that leaves nothing.

Each example is staged into a temp dir with two override files: aws_override.tf (the provider against the
loopback endpoints) and mwaa_override.tf (short MWAA timeouts, test-owned artifacts). Destroy always runs.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omlineage_devkit.local_aws import LocalAws, delete_routed_network, routed_network
from omlineage_devkit.terraform import REPO, Terraform, stage

ACCOUNT = "123456789012"
TIMEOUTS = 'timeouts = { create = "5m", update = "5m", delete = "5m" }'
TIMINGS: dict[str, dict[str, float]] = {}


@pytest.fixture(scope="module", autouse=True)
def apply_timings() -> Iterator[None]:
    """Prints each example's apply timings once the module's local AWS (conftest.py: `aws`) has stopped."""
    yield
    for example, steps in TIMINGS.items():
        print(f"\n[apply timings] {example}: {steps}")


def build_plugins_zip(out: Path, python_dir: Path = REPO / "python") -> Path:
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "build_artifacts.py"),
            "--out",
            str(out),
            "--python-dir",
            str(python_dir),
            "-q",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"build_artifacts.py failed: {proc.stderr[-3000:]}"
    return out / "plugins.zip"


def changed_wheel_source(tmp: Path) -> Path:
    """A copy of python/ whose package differs by one line: a new wheel, hence a new plugins.zip."""
    copy = tmp / "python-changed"
    shutil.copytree(
        REPO / "python", copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "build")
    )
    init = copy / "src" / "airflow_openmetadata_lineage" / "__init__.py"
    init.write_text(init.read_text() + "\n# changed by tests/terraform/test_apply.py\n")
    return copy


class Step:
    """Times the steps of one example's lifecycle."""

    def __init__(self, example: str) -> None:
        self.timings = TIMINGS.setdefault(example, {})

    def __call__(self, name: str, call: Any) -> Any:
        started = time.monotonic()
        try:
            return call()
        finally:
            self.timings[name] = round(time.monotonic() - started, 1)


def module_snapshot(tmp: Path) -> Path:
    """A copy of the module (its .tf files, python/ sources, build script, examples) taken now.

    The shared working tree may change while a test runs (a source edit changes the apply-time build hash);
    the snapshot keeps one test's applies and plans consistent.
    """
    snapshot = tmp / "module"
    snapshot.mkdir()
    for item in REPO.glob("*.tf"):
        shutil.copy2(item, snapshot / item.name)
    shutil.copy2(REPO / ".terraform.lock.hcl", snapshot / ".terraform.lock.hcl")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "build", "dist", ".pytest_cache")
    shutil.copytree(REPO / "python", snapshot / "python", ignore=ignore)
    shutil.copytree(REPO / "examples", snapshot / "examples", ignore=ignore)
    shutil.copytree(REPO / "mwaa", snapshot / "mwaa")  # the support table and each image's constraints
    (snapshot / "scripts").mkdir()
    shutil.copy2(REPO / "scripts" / "build_artifacts.py", snapshot / "scripts" / "build_artifacts.py")
    return snapshot


def staged(example: str, tmp: Path, aws: LocalAws, module_override: str) -> Terraform:
    workdir = stage(module_snapshot(tmp) / "examples" / example, tmp / example)
    aws.write_override(workdir)
    (workdir / "mwaa_override.tf").write_text(f'module "mwaa" {{\n  {TIMEOUTS}\n{module_override}}}\n')
    return Terraform(workdir)


def read_back(aws: LocalAws, name: str) -> dict[str, Any]:
    env = aws.client("mwaa").get_environment(Name=name)["Environment"]
    assert env["Status"] == "AVAILABLE"
    return env


def assert_artifacts_pinned(aws: LocalAws, env: dict[str, Any]) -> tuple[str, bytes]:
    """The environment names the latest requirements.txt and plugins.zip versions; returns their contents."""
    s3 = aws.client("s3")
    bucket = env["SourceBucketArn"].split(":::", 1)[1]
    for path_key, version_key in (
        ("RequirementsS3Path", "RequirementsS3ObjectVersion"),
        ("PluginsS3Path", "PluginsS3ObjectVersion"),
    ):
        head = s3.head_object(Bucket=bucket, Key=env[path_key])
        assert env[version_key] == head["VersionId"], f"{path_key} is not pinned to the latest version"
    requirements = s3.get_object(
        Bucket=bucket, Key=env["RequirementsS3Path"], VersionId=env["RequirementsS3ObjectVersion"]
    )["Body"].read()
    plugins = s3.get_object(Bucket=bucket, Key=env["PluginsS3Path"], VersionId=env["PluginsS3ObjectVersion"])[
        "Body"
    ].read()
    # our wheel (the wheelhouse beside it holds the dependencies the image lacks)
    names = zipfile.ZipFile(io.BytesIO(plugins)).namelist()
    wheels = [n for n in names if n.startswith("airflow_openmetadata_lineage-") and n.endswith(".whl")]
    assert len(wheels) == 1, names
    assert f"/usr/local/airflow/plugins/{wheels[0]}" in requirements.decode()
    return requirements.decode(), plugins


def assert_no_drift(tf: Terraform, variables: dict[str, Any]) -> None:
    if tf.plan_exitcode(variables) != 0:
        text = tf.plan(variables, name="drift").text
        changes = [line for line in text.splitlines() if line.strip().startswith(("~", "+", "-", "#"))]
        raise AssertionError("second plan is not empty:\n" + "\n".join(changes[:60]))


def operations(aws: LocalAws, name: str) -> list[str]:
    assert aws.mwaa_emulator is not None
    return [op for op, target in aws.mwaa_emulator.requests if target == name and op != "GetEnvironment"]


def test_basic_apply_drift_update_destroy(aws: LocalAws, tmp_path: Path) -> None:
    """examples/basic in a VPC the test creates: the lifecycle of a real deployment."""
    step = Step("basic")
    ec2 = aws.client("ec2")
    network = routed_network(ec2, "10.70")
    vpc, subnets = network["vpc_id"], network["subnet_ids"]
    baseline = aws.inventory()
    zip_v1 = build_plugins_zip(tmp_path / "build-v1")
    zip_path = tmp_path / "plugins.zip"
    shutil.copy2(zip_v1, zip_path)
    tf = staged("basic", tmp_path, aws, f'  artifacts = {{ plugins_zip_path = "{zip_path}" }}\n')
    token = "eyJhbGciOiJIUzI1NiJ9.e30.test-%-token"
    variables = {
        "name": "om-basic",
        "vpc_id": vpc,
        "private_subnet_ids": subnets,
        "openmetadata_api_endpoint": "http://openmetadata.internal:8585/api",
        "openmetadata_jwt_token": token,
    }
    step("init", tf.init)
    try:
        apply_out = step("apply", lambda: tf.apply(variables))
        assert token not in apply_out
        outputs = tf.output()
        arn = f"arn:aws:airflow:us-east-1:{ACCOUNT}:environment/om-basic"
        assert outputs["environment_arn"] == arn
        assert outputs["source_bucket_name"].startswith("airflow-")
        lineage = outputs["lineage_configuration"]
        assert lineage["lineage.openmetadata_api_endpoint"] == "http://openmetadata.internal:8585/api"
        assert lineage["lineage.auth_provider_type"] == "openmetadata"
        assert lineage["lineage.jwt_token"].startswith("aws-secretsmanager:")

        env = read_back(aws, "om-basic")
        assert env["Arn"] == arn and env["AirflowVersion"] == "2.10.3"
        assert env["SourceBucketArn"] == f"arn:aws:s3:::{outputs['source_bucket_name']}"
        assert sorted(env["NetworkConfiguration"]["SubnetIds"]) == sorted(subnets)
        assert env["AirflowConfigurationOptions"] == lineage, "options differ from what the module reports"
        assert env["Tags"]["example"] == "basic"
        role = env["ExecutionRoleArn"].rsplit("/", 1)[-1]
        assert aws.client("iam").get_role(RoleName=role)["Role"]["Arn"] == env["ExecutionRoleArn"]
        requirements, plugins_v1 = assert_artifacts_pinned(aws, env)
        assert "[aws]" in requirements, "secrets in Secrets Manager need the wheel's aws extra (boto3)"
        assert json.dumps(env, default=str).find(token) == -1 and token.encode() not in plugins_v1

        step("plan (no drift)", lambda: assert_no_drift(tf, variables))

        # Update: a new wheel (one source line changed) and a new option value, rolled out in place.
        shutil.copy2(build_plugins_zip(tmp_path / "build-v2", changed_wheel_source(tmp_path)), zip_path)
        variables["openmetadata_api_endpoint"] = "http://openmetadata-2.internal:8585/api"
        step("update", lambda: tf.apply(variables))
        updated = read_back(aws, "om-basic")
        assert updated["PluginsS3ObjectVersion"] != env["PluginsS3ObjectVersion"]
        assert updated["RequirementsS3ObjectVersion"] == env["RequirementsS3ObjectVersion"]
        assert updated["AirflowConfigurationOptions"]["lineage.openmetadata_api_endpoint"] == (
            "http://openmetadata-2.internal:8585/api"
        )
        assert (updated["Arn"], updated["CreatedAt"]) == (env["Arn"], env["CreatedAt"]), (
            "replaced, not updated"
        )
        _, plugins_v2 = assert_artifacts_pinned(aws, updated)
        assert plugins_v2 != plugins_v1
        assert operations(aws, "om-basic") == ["CreateEnvironment", "UpdateEnvironment"]
        step("plan after update", lambda: assert_no_drift(tf, variables))
    finally:
        step("destroy", lambda: tf.destroy(variables))
    assert aws.inventory() == baseline, "destroy left resources behind"
    delete_routed_network(ec2, network)


def assert_execution_role_proof(aws: LocalAws, env: dict[str, Any], bucket: str) -> None:
    """The applied execution role's policies, read back from IAM and evaluated (omlineage_devkit/iam_eval.py):
    MWAA's calls and the wheel's read of the lineage secret (and its decryption through Secrets Manager with
    the customer key) are allowed; calls outside the environment's resources are not."""
    from omlineage_devkit.iam_eval import decide
    from omlineage_devkit.mwaa_calls import Environment, allowed_calls, denied_calls

    iam = aws.client("iam")
    role = env["ExecutionRoleArn"].rsplit("/", 1)[1]
    documents = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        documents.append(json.loads(document) if isinstance(document, str) else document)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert documents and not attached, (documents, attached)
    reference = env["AirflowConfigurationOptions"]["lineage.private_key"]
    secret_name = reference.removeprefix("aws-secretsmanager:").split("#", 1)[0]
    secret_arn = aws.client("secretsmanager").describe_secret(SecretId=secret_name)["ARN"]
    target = Environment("us-east-1", ACCOUNT, env["Name"], bucket, env["KmsKey"], secret_arn)
    refused = [c for c in allowed_calls(target) if decide(documents, c) != "allow"]
    assert not refused, f"calls MWAA and the wheel need are not allowed: {refused}"
    granted = [c for c in denied_calls(target) if decide(documents, c) == "allow"]
    assert not granted, f"calls outside the environment are allowed: {granted}"


def test_complete_apply_drift_update_destroy(aws: LocalAws, tmp_path: Path) -> None:
    """examples/complete: its own VPC + NAT, a KMS key, Okta, DAGs, a startup script, build at apply."""
    step = Step("complete")
    baseline = aws.inventory()
    build_dir = tmp_path / "build"
    override = (
        f'  artifacts = {{ build_at_apply = true, build_dir = "{build_dir}", python = "{sys.executable}" }}\n'
    )
    tf = staged("complete", tmp_path, aws, override)
    private_key = "-----BEGIN PRIVATE KEY-----\nMIIB-test-only\n-----END PRIVATE KEY-----\n"
    variables = {
        "name": "om-complete",
        "openmetadata_api_endpoint": "https://openmetadata.internal/api",
        "okta_client_id": "0oa-test-client",
        "okta_org_url": "https://dev-1.okta.com/oauth2/default",
        "okta_private_key": private_key,
        "okta_email": "bot@example.com",
    }
    step("init", tf.init)
    try:
        apply_out = step("apply", lambda: tf.apply(variables))
        assert "MIIB-test-only" not in apply_out
        assert (build_dir / "plugins.zip").exists(), "build_at_apply did not build plugins.zip"
        outputs = tf.output()
        env = read_back(aws, "om-complete")
        assert env["Arn"] == outputs["environment_arn"]
        assert (env["EnvironmentClass"], env["MinWorkers"], env["MaxWorkers"]) == ("mw1.medium", 1, 5)
        assert (env["Schedulers"], env["MinWebservers"], env["MaxWebservers"]) == (2, 2, 3)
        assert env["WeeklyMaintenanceWindowStart"] == "SUN:03:30"
        assert env["KmsKey"].startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")
        assert env["StartupScriptS3Path"] == "startup.sh" and env["StartupScriptS3ObjectVersion"]
        logging_config = env["LoggingConfiguration"]
        assert logging_config["WorkerLogs"]["Enabled"] is False
        assert logging_config["TaskLogs"] == {
            **logging_config["TaskLogs"],
            "Enabled": True,
            "LogLevel": "INFO",
        }
        subnets = aws.client("ec2").describe_subnets(SubnetIds=env["NetworkConfiguration"]["SubnetIds"])[
            "Subnets"
        ]
        assert len({s["AvailabilityZone"] for s in subnets}) == 2
        options = env["AirflowConfigurationOptions"]
        assert options["core.default_timezone"] == "utc"
        assert options["lineage.auth_provider_type"] == "okta"
        assert options["lineage.private_key"].startswith("aws-secretsmanager:")
        assert "MIIB-test-only" not in json.dumps(env, default=str)
        requirements, _ = assert_artifacts_pinned(aws, env)
        assert "[aws,okta]" in requirements and "apache-airflow-providers-postgres" in requirements
        bucket = env["SourceBucketArn"].split(":::", 1)[1]
        dags = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix="dags/")["Contents"]
        assert [d["Key"] for d in dags] == ["dags/lineage_example.py"]
        assert_execution_role_proof(aws, env, bucket)

        step("plan (no drift)", lambda: assert_no_drift(tf, variables))

        # Update: change an option through the module (scaling too); the environment is updated in place.
        (tf.workdir / "mwaa_override.tf").write_text(
            f'module "mwaa" {{\n  {TIMEOUTS}\n{override}'
            "  airflow_configuration_options = "
            '{ "core.default_timezone" = "utc", "lineage.time_budget" = "7" }\n'
            "  max_workers = 4\n}\n"
        )
        step("update", lambda: tf.apply(variables))
        updated = read_back(aws, "om-complete")
        assert updated["AirflowConfigurationOptions"]["lineage.time_budget"] == "7"
        assert updated["MaxWorkers"] == 4
        assert updated["CreatedAt"] == env["CreatedAt"]
        assert operations(aws, "om-complete") == ["CreateEnvironment", "UpdateEnvironment"]
        step("plan after update", lambda: assert_no_drift(tf, variables))
    finally:
        step("destroy", lambda: tf.destroy(variables))
    assert aws.inventory() == baseline, "destroy left resources behind"


def test_private_no_internet_apply_drift_destroy(aws: LocalAws, tmp_path: Path) -> None:
    """examples/private-no-internet: a VPC without NAT or internet gateway; MWAA reaches AWS via endpoints."""
    step = Step("private-no-internet")
    baseline = aws.inventory()
    zip_path = build_plugins_zip(tmp_path / "build")
    tf = staged(
        "private-no-internet", tmp_path, aws, f'  artifacts = {{ plugins_zip_path = "{zip_path}" }}\n'
    )
    secret = "oidc-private-secret-%-value"
    variables = {
        "name": "om-private",
        "openmetadata_api_endpoint": "https://openmetadata.internal/api",
        "oidc_client_id": "bot",
        "oidc_token_endpoint": "https://idp.internal/token",
        "oidc_client_secret": secret,
    }
    step("init", tf.init)
    try:
        apply_out = step("apply", lambda: tf.apply(variables))
        assert secret not in apply_out
        outputs = tf.output()
        env = read_back(aws, "om-private")
        vpc = outputs["vpc_id"]
        ec2 = aws.client("ec2")
        assert not ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"]
        assert not ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])[
            "InternetGateways"
        ]
        endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
        services = sorted(e["ServiceName"].removeprefix("com.amazonaws.us-east-1.") for e in endpoints)
        assert services == sorted(outputs["vpc_endpoint_ids"]) and "secretsmanager" in services
        assert {e["VpcEndpointId"] for e in endpoints} == set(outputs["vpc_endpoint_ids"].values())
        # no route leaves the VPC but the S3 gateway endpoint's prefix list
        subnet_ids = env["NetworkConfiguration"]["SubnetIds"]
        for subnet in subnet_ids:
            [table] = ec2.describe_route_tables(
                Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
            )["RouteTables"]
            outside = [r for r in table["Routes"] if r.get("GatewayId") != "local"]
            assert outside and all("DestinationPrefixListId" in r for r in outside), outside
        sm = aws.client("secretsmanager")
        stored = json.loads(sm.get_secret_value(SecretId="openmetadata-lineage/om-private")["SecretString"])
        assert stored == {"secret_key": secret}
        assert env["AirflowConfigurationOptions"]["lineage.secret_key"] == (
            "aws-secretsmanager:openmetadata-lineage/om-private#secret_key"
        )
        step("plan (no drift)", lambda: assert_no_drift(tf, variables))
    finally:
        step("destroy", lambda: tf.destroy(variables))
    assert aws.inventory() == baseline, "destroy left resources behind"


def test_customer_endpoints_apply_pending_then_available(aws: LocalAws, tmp_path: Path) -> None:
    """examples/customer-endpoints: MWAA waits in PENDING until the example's endpoints to its two services
    exist; the apply creates them from the module's outputs and the environment becomes AVAILABLE."""
    step = Step("customer-endpoints")
    ec2 = aws.client("ec2")
    network = routed_network(ec2, "10.72")
    baseline = aws.inventory()
    zip_path = build_plugins_zip(tmp_path / "build")
    tf = staged("customer-endpoints", tmp_path, aws, f'  artifacts = {{ plugins_zip_path = "{zip_path}" }}\n')
    variables = {
        "name": "om-customer",
        "vpc_id": network["vpc_id"],
        "private_subnet_ids": network["subnet_ids"],
        "openmetadata_api_endpoint": "https://om.example.com/api",
        "openmetadata_jwt_token": "eyJ.customer-secret.sig",
    }
    step("init", tf.init)
    try:
        step("apply", lambda: tf.apply(variables))
        outputs = tf.output()
        env = read_back(aws, "om-customer")  # AVAILABLE: the endpoints exist
        assert env["EndpointManagement"] == "CUSTOMER"
        assert outputs["webserver_https_url"] == f"https://{env['WebserverUrl']}"
        endpoints = {
            e["VpcEndpointId"]: e["ServiceName"]
            for e in ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [network["vpc_id"]]}])[
                "VpcEndpoints"
            ]
        }
        assert endpoints == {
            outputs["database_vpc_endpoint_id"]: env["DatabaseVpcEndpointService"],
            outputs["webserver_vpc_endpoint_id"]: env["WebserverVpcEndpointService"],
        }
        step("plan (no drift)", lambda: assert_no_drift(tf, variables))
    finally:
        step("destroy", lambda: tf.destroy(variables))
    assert aws.inventory() == baseline, "destroy left resources behind"
    delete_routed_network(ec2, network)
