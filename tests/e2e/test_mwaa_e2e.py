"""Issue 5: terraform apply -> MWAA options + S3 artifacts -> real Airflow -> lineage in OpenMetadata.

Each test applies tests/e2e/root against moto + the MWAA emulator, rebuilds the environment locally from what
the MWAA API and the bucket hold (omlineage_devkit/mwaa_local.py), runs the DAG with `airflow dags test`, and
checks what reached the OpenMetadata emulator, authenticated with the configured provider. The credentials
live only in moto's Secrets Manager: the wheel resolves them at run time through AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omlineage_devkit.airflow_runner import DagRunResult
from omlineage_devkit.e2e_deploy import DAG_ID, SERVICE, TABLES, Deployment
from omlineage_devkit.emulators.identity import IdentityServers
from omlineage_devkit.local_aws import LocalAws
from omlineage_devkit.openmetadata import OpenMetadataEmulator, rejected, sso_users

PIPELINE = f"{SERVICE}.{DAG_ID}"
EDGES = {
    ("sample.shop.raw.orders", "sample.shop.staging.orders", PIPELINE),
    ("sample.shop.raw.customers", "sample.shop.staging.orders", PIPELINE),
    ("sample.shop.staging.orders", "sample.shop.mart.orders", PIPELINE),
}


def _bucket_texts(aws: LocalAws, bucket: str) -> dict[str, bytes]:
    """Every version of every object in the source bucket."""
    s3 = aws.client("s3")
    out: dict[str, bytes] = {}
    for version in s3.list_object_versions(Bucket=bucket).get("Versions", []):
        body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
        out[f"{version['Key']}@{version['VersionId']}"] = body
    return out


def _secret_field(aws: LocalAws, reference: str) -> str:
    """The value an `aws-secretsmanager:<id>#<field>` reference names, read from moto."""
    assert reference.startswith("aws-secretsmanager:") and "#" in reference, reference
    secret_id, field = reference.removeprefix("aws-secretsmanager:").rsplit("#", 1)
    document = aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    return json.loads(document)[field]


def _assert_no_secret(secrets: list[str], **places: Any) -> None:
    for secret in secrets:
        for where, text in places.items():
            blob = text if isinstance(text, bytes) else json.dumps(text, default=str).encode()
            assert secret.encode() not in blob, f"a credential leaked into {where}"


def _assert_lineage(om: OpenMetadataEmulator, result: DagRunResult, subjects: set[str]) -> None:
    result.assert_ok()
    assert result.states == {"extract": "success", "load": "success"}
    state = om.state()
    assert [(s["name"], s["serviceType"]) for s in state["services"]] == [(SERVICE, "Airflow")]
    pipeline = om.pipeline(PIPELINE)
    assert {t["name"]: t["downstreamTasks"] for t in pipeline["tasks"]} == {"extract": ["load"], "load": []}
    assert pipeline["description"] == "Orders ETL on MWAA: raw -> staging -> mart."
    [status] = state["statuses"][PIPELINE]
    assert status["executionStatus"] == "Successful"
    assert {t["name"]: t["executionStatus"] for t in status["taskStatus"]} == {
        "extract": "Successful",
        "load": "Successful",
    }
    assert om.edges() == EDGES
    log = om.requests()
    assert not rejected(log)
    assert {r["subject"] for r in log if not r["path"].endswith("/system/version")} == subjects


def _assert_environment(aws: LocalAws, deployment: Deployment, outputs: dict[str, Any]) -> dict[str, Any]:
    env = aws.client("mwaa").get_environment(Name=deployment.name)["Environment"]
    assert env["Status"] == "AVAILABLE"
    options = env["AirflowConfigurationOptions"]
    lineage = {k: v for k, v in options.items() if k.startswith("lineage.") and k != "lineage.ca_bundle"}
    assert lineage == outputs["lineage_configuration"], (
        "MWAA holds other lineage options than the module reports"
    )
    if env["AirflowVersion"].startswith("2."):
        assert options["lineage.backend"] == "openmetadata_lineage_shim.OpenMetadataLineageBackend"
    else:  # Airflow 3 has no lineage backend: the wheel's listener plugin loads by entry point
        assert "lineage.backend" not in options
    assert env["PluginsS3ObjectVersion"] == outputs["plugins_s3_object_version"]
    return env


def test_jwt_then_custom_oidc_after_an_in_place_update(
    deployment: Deployment, local_aws: LocalAws, om: OpenMetadataEmulator, identity_servers: IdentityServers
) -> None:
    """A bot JWT from Secrets Manager; then the module switches the same environment to custom-oidc (SSO) in
    place, and the next run authenticates through the identity server. One apply/destroy for both."""
    om.seed_tables(*TABLES)
    om.set_auth(enabled=True)
    token = om.token("ingestion-bot")
    try:
        outputs = deployment.apply(
            {"api_endpoint": om.api_url, "auth_provider_type": "openmetadata", "jwt_token": token}
        )
        env = _assert_environment(local_aws, deployment, outputs)
        reference = env["AirflowConfigurationOptions"]["lineage.jwt_token"]
        assert _secret_field(local_aws, reference) == token, "the option does not name the stored token"
        local = deployment.local()
        assert local.env["AIRFLOW__LINEAGE__JWT_TOKEN"] == reference
        assert local.env["AIRFLOW__LINEAGE__AUTH_PROVIDER_TYPE"] == "openmetadata"
        result = deployment.run(local)
        _assert_lineage(om, result, {"ingestion-bot"})
        _assert_no_secret(
            [token],
            environment=env,
            bucket=b"".join(_bucket_texts(local_aws, outputs["source_bucket_name"]).values()),
            outputs=outputs,
            task_log=result.output,
        )
        timings = {f"jwt {k}": v for k, v in deployment.timings.items()}

        # Switch to custom-oidc: OpenMetadata now trusts only the identity server's tokens.
        om.reset()
        om.seed_tables(*TABLES)
        om.set_auth(**identity_servers.om_auth(), users=sso_users(identity_servers))
        identity_servers.reset()
        options = identity_servers.options("custom-oidc")
        openmetadata = {
            "api_endpoint": om.api_url,
            "auth_provider_type": "custom-oidc",
            "client_id": options["client_id"],
            "secret_key": options["secret_key"],
            "token_endpoint": options["token_endpoint"],
        }
        # The identity server's self-signed CA is not a module input: pass it as a plain Airflow option.
        outputs = deployment.apply(openmetadata, {"lineage.ca_bundle": options["ca_bundle"]})
        assert local_aws.mwaa_emulator is not None
        calls = [op for op, name in local_aws.mwaa_emulator.requests if name == deployment.name]
        assert calls.count("CreateEnvironment") == 1 and calls.count("UpdateEnvironment") == 1
        env = _assert_environment(local_aws, deployment, outputs)
        assert "lineage.jwt_token" not in env["AirflowConfigurationOptions"]
        reference = env["AirflowConfigurationOptions"]["lineage.secret_key"]
        assert _secret_field(local_aws, reference) == options["secret_key"]
        local = deployment.local()
        result = deployment.run(local)
        _assert_lineage(om, result, {options["client_id"]})
        assert identity_servers.realms["custom-oidc"].token_requests >= 1
        _assert_no_secret(
            [token, *identity_servers.secrets("custom-oidc")],
            environment=env,
            bucket=b"".join(_bucket_texts(local_aws, outputs["source_bucket_name"]).values()),
            task_log=result.output,
        )
        timings.update({f"sso {k}": v for k, v in deployment.timings.items() if k != "init"})
    finally:
        deployment.destroy()
        print(f"\n[e2e] timings (s): {deployment.timings}")
    assert local_aws.client("mwaa").list_environments()["Environments"] == []
    print(f"[e2e] per phase (s): {timings}")


def test_airflow3_listener_with_jwt(
    deployment: Deployment, local_aws: LocalAws, om: OpenMetadataEmulator
) -> None:
    """An Airflow 3.0.6 environment: the same module inputs, reported by the wheel's listener plugin."""
    om.seed_tables(*TABLES)
    om.set_auth(enabled=True)
    token = om.token("ingestion-bot")
    try:
        outputs = deployment.apply(
            {"api_endpoint": om.api_url, "auth_provider_type": "openmetadata", "jwt_token": token},
            airflow_version="3.0.6",
        )
        env = _assert_environment(local_aws, deployment, outputs)
        assert env["AirflowVersion"] == "3.0.6"
        local = deployment.local()
        assert local.venv == "mwaa-local-3"
        result = deployment.run(local)
        _assert_lineage(om, result, {"ingestion-bot"})
        _assert_no_secret([token], environment=env, task_log=result.output)
    finally:
        deployment.destroy()
        print(f"\n[e2e airflow 3] timings (s): {deployment.timings}")
    assert local_aws.client("mwaa").list_environments()["Environments"] == []


def test_no_internet_environment_custom_oidc_then_azure(
    deployment: Deployment,
    local_aws: LocalAws,
    om: OpenMetadataEmulator,
    identity_servers: IdentityServers,
    tmp_path: Path,
) -> None:
    """nat_gateway_mode = "none": the module's own VPC without NAT or internet gateway, MWAA and the wheel
    on VPC endpoints (Secrets Manager included). Lineage is delivered with custom-oidc, then (in-place
    update) with azure. Local Airflow does not emulate the network isolation itself: what is proven is the
    module's network (no way out but endpoints, checked in moto) plus the environment's options and artifacts
    running a DAG."""
    om.seed_tables(*TABLES)
    om.set_auth(**identity_servers.om_auth(), users=sso_users(identity_servers))
    identity_servers.reset()
    try:
        for provider in ("custom-oidc", "azure"):
            om.reset()
            om.seed_tables(*TABLES)
            om.set_auth(**identity_servers.om_auth(), users=sso_users(identity_servers))
            options = identity_servers.options(provider)
            keys = {
                "custom-oidc": ("client_id", "secret_key", "token_endpoint"),
                "azure": ("client_id", "client_secret", "authority"),
            }[provider]
            openmetadata: dict[str, Any] = {
                "api_endpoint": om.api_url,
                "auth_provider_type": provider,
                **{k: options[k] for k in keys},
            }
            if provider == "azure":
                openmetadata["scopes"] = ["api://openmetadata/.default"]
            outputs = deployment.apply(
                openmetadata, {"lineage.ca_bundle": options["ca_bundle"]}, no_internet=True
            )
            env = _assert_environment(local_aws, deployment, outputs)
            ec2 = local_aws.client("ec2")
            vpc = outputs["vpc_id"]
            assert not ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"]
            igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])
            assert not igws["InternetGateways"]
            assert {"secretsmanager", "logs", "sqs", "airflow.env", "s3"} <= set(outputs["vpc_endpoint_ids"])
            secret_key = "secret_key" if provider == "custom-oidc" else "client_secret"
            reference = env["AirflowConfigurationOptions"][f"lineage.{secret_key}"]
            assert _secret_field(local_aws, reference) == options[secret_key]
            # A fresh spool_dir: the default (<tmp>/airflow-openmetadata-lineage) caches "service exists" from
            # earlier runs, which the emulator's reset made untrue.
            local = deployment.local(AIRFLOW__LINEAGE__SPOOL_DIR=str(tmp_path / provider))
            result = deployment.run(local)
            _assert_lineage(om, result, {options["client_id"]})
            _assert_no_secret(identity_servers.secrets(provider), environment=env, task_log=result.output)
    finally:
        deployment.destroy()
        print(f"\n[e2e no-internet] timings (s): {deployment.timings}")
    assert local_aws.client("mwaa").list_environments()["Environments"] == []
