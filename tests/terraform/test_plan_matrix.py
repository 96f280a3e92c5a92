"""Plan matrix: each auth provider -> the exact lineage.* options in the planned aws_mwaa_environment.

One root calls the module once per row, so a single real `terraform plan` (AWS provider against moto) and
one `terraform show -json` cover the whole matrix. Also checked per row: the generated requirements.txt (wheel
path and the extras the provider needs), object versions wired into the environment, the Secrets Manager
payload, and that no secret value appears in any planned S3 object, in lineage_configuration, in the IAM
policy or in the plan text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from omlineage_devkit.plan_rows import (
    BACKEND,
    BYO_ROLE,
    CREDENTIAL_KEYS,
    ENDPOINT,
    KMS_KEY,
    ROWS,
    SECRET_MARKERS,
    SECRET_VALUES,
    WHEEL,
)
from omlineage_devkit.terraform import Plan, Terraform, iter_strings, write_modules_root


def module_inputs(row: str, artifacts: Path) -> dict[str, Any]:
    """A row's module inputs; off the inline_secrets path the credentials go through the ephemeral
    openmetadata_credentials input (a root variable marked ephemeral, see harness.write_modules_root)."""
    spec = ROWS[row]
    inputs = spec.get("inputs", {})
    om = dict(spec["om"])
    credentials = {} if inputs.get("inline_secrets") else {k: om.pop(k) for k in CREDENTIAL_KEYS if k in om}
    return {
        "name": f"om-{row}",
        "vpc_id": "vpc-0abc",
        "private_subnet_ids": ["subnet-0a", "subnet-0b"],
        "secret_recovery_window_in_days": 0,
        "artifacts": {"plugins_zip_path": str(artifacts / "plugins.zip")},
        "openmetadata": om,
        **({"openmetadata_credentials": credentials} if credentials else {}),
        **inputs,
    }


@pytest.fixture(scope="module")
def matrix(plan_root: Terraform, built_artifacts: Path) -> Plan:
    modules = {row: module_inputs(row, built_artifacts) for row in ROWS}
    variables = write_modules_root(plan_root.workdir, modules)
    plan_root.get()
    return plan_root.plan(variables, name="matrix")


def env_of(plan: Plan, row: str) -> dict[str, Any]:
    return plan.after(f"module.{row}.aws_mwaa_environment.this")


@pytest.mark.parametrize("row", list(ROWS))
def test_lineage_options_exact(matrix: Plan, row: str) -> None:
    spec = ROWS[row]
    airflow3 = spec.get("inputs", {}).get("airflow_version", "").startswith("3.")
    expected = {
        "lineage.airflow_service_name": f"om-{row}",
        "lineage.openmetadata_api_endpoint": ENDPOINT,
        **({} if airflow3 else {"lineage.backend": BACKEND}),
        **spec["options"],
    }
    assert env_of(matrix, row)["airflow_configuration_options"] == expected


@pytest.mark.parametrize("row", list(ROWS))
def test_lineage_configuration_output_has_references_not_secrets(matrix: Plan, row: str) -> None:
    spec = ROWS[row]
    shown = matrix.output(f"{row}__lineage_configuration")
    options = env_of(matrix, row)["airflow_configuration_options"]
    user_keys = set(spec.get("inputs", {}).get("airflow_configuration_options", {}))
    assert set(shown) == {k for k in options if k.startswith("lineage.")} - user_keys
    for key, value in shown.items():
        if key.removeprefix("lineage.") in spec["secrets"]:
            if spec.get("inputs", {}).get("inline_secrets"):
                assert value == "(sensitive: inline in airflow_configuration_options)"
            else:
                assert value == options[key] and value.startswith("aws-secretsmanager:openmetadata-lineage/")
        else:
            assert value == options[key]
    # the output is not sensitive: Terraform shows it in plan output
    assert matrix.data["output_changes"][f"{row}__lineage_configuration"]["after_sensitive"] is False


@pytest.mark.parametrize("row", list(ROWS))
def test_requirements_and_object_versions(matrix: Plan, row: str) -> None:
    spec = ROWS[row]
    requirements = matrix.after(f"module.{row}.aws_s3_object.requirements")["content"]
    lines = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    extra_lines = spec.get("inputs", {}).get("extra_requirements", [])
    assert lines == ["--find-links /usr/local/airflow/plugins", WHEEL + spec["extras"], *extra_lines]
    if not extra_lines:
        assert not any(line.startswith(("-c", "--constraint")) for line in lines)  # MWAA's constraints kept
    unknown = matrix.after_unknown(f"module.{row}.aws_mwaa_environment.this")
    assert unknown.get("plugins_s3_object_version") is True
    assert unknown.get("requirements_s3_object_version") is True
    env = env_of(matrix, row)
    assert env["plugins_s3_path"] == "plugins.zip" and env["requirements_s3_path"] == "requirements.txt"


@pytest.mark.parametrize("row", list(ROWS))
def test_secrets_manager_payload(matrix: Plan, row: str) -> None:
    spec = ROWS[row]
    address = f"module.{row}.aws_secretsmanager_secret_version.this[0]"
    uses_sm = bool(spec["secrets"]) and not spec.get("inputs", {}).get("inline_secrets")
    assert (address in matrix.changes()) is uses_sm
    if uses_sm:
        # write-only: the plan carries the version, never the value (tests/terraform/test_secret_at_rest.py
        # applies it and reads the value back from Secrets Manager)
        version = matrix.after(address)
        assert version.get("secret_string") in (None, "") and version["secret_string_wo_version"] == 1
        assert version.get("secret_string_wo") is None
        assert matrix.after(f"module.{row}.aws_secretsmanager_secret.this[0]")["name"] == (
            f"openmetadata-lineage/om-{row}"
        )


def test_secrets_absent_from_objects_outputs_policies_and_plan_text(matrix: Plan) -> None:
    objects = [a for a in matrix.addresses("aws_s3_object")]
    assert objects, "no S3 objects planned"
    exposed = {a: matrix.after(a) for a in objects}
    exposed.update({a: matrix.after(a) for a in matrix.addresses("aws_iam_role_policy")})
    exposed["outputs"] = {
        k: matrix.output(k) for k in matrix.data["output_changes"] if "lineage_configuration" in k
    }
    haystack = "\n".join(iter_strings(exposed))
    plan_text = matrix.text
    # off the inline_secrets rows, the saved plan file itself holds no credential at all
    plan_json = matrix.json_text()
    inline_values = {
        v
        for row in ROWS.values()
        if row.get("inputs", {}).get("inline_secrets")
        for v in row["secrets"].values()
    }
    for secret in SECRET_VALUES:
        if secret not in inline_values:
            assert json.dumps(secret)[1:-1] not in plan_json
    assert "om-okta" in plan_text  # the text is the real plan output
    for secret in [*SECRET_VALUES, *SECRET_MARKERS]:
        assert secret not in haystack
        assert secret not in plan_text


def test_airflow_configuration_options_output_is_sensitive(matrix: Plan) -> None:
    change = matrix.data["output_changes"]["okta__airflow_configuration_options"]
    assert change["after_sensitive"] is True


def test_customer_key_wired_everywhere(matrix: Plan) -> None:
    assert env_of(matrix, "kms")["kms_key"] == KMS_KEY
    sse = matrix.after("module.kms.aws_s3_bucket_server_side_encryption_configuration.this[0]")
    rule = sse["rule"][0]["apply_server_side_encryption_by_default"][0]
    assert rule == {"sse_algorithm": "aws:kms", "kms_master_key_id": KMS_KEY}
    for key in ("requirements", "plugins"):
        assert matrix.after(f"module.kms.aws_s3_object.{key}")["kms_key_id"] == KMS_KEY


UNSCOPABLE = {"logs:DescribeLogGroups", "s3:GetAccountPublicAccessBlock", "cloudwatch:PutMetricData"}


def test_execution_policy_least_privilege(matrix: Plan) -> None:
    policy = json.loads(matrix.after("module.kms.aws_iam_role_policy.this[0]")["policy"])
    bucket = matrix.after("module.kms.aws_s3_bucket.this[0]")["bucket"]
    assert bucket.startswith("airflow-om-kms-")
    by_sid = {st["Sid"]: st for st in policy["Statement"]}
    as_list = lambda v: v if isinstance(v, list) else [v]  # noqa: E731
    for st in policy["Statement"]:
        actions = set(as_list(st.get("Action", [])))
        assert not any(a == "*" or a.endswith(":*") for a in actions), st
        if st.get("Resource") == "*" or "*" in as_list(st.get("Resource", [])):
            assert actions <= UNSCOPABLE, f"unscoped {actions}"
    assert sorted(as_list(by_sid["ReadSourceBucket"]["Resource"])) == [
        f"arn:aws:s3:::{bucket}",
        f"arn:aws:s3:::{bucket}/*",
    ]
    assert (
        by_sid["WriteOwnLogs"]["Resource"] == "arn:aws:logs:us-east-1:123456789012:log-group:airflow-om-kms-*"
    )
    assert by_sid["CeleryQueues"]["Resource"] == "arn:aws:sqs:us-east-1:*:airflow-celery-*"
    assert by_sid["PublishMetrics"]["Resource"] == "arn:aws:airflow:us-east-1:123456789012:environment/om-kms"
    assert by_sid["CustomerKey"]["Resource"] == KMS_KEY
    assert "AwsOwnedQueueKey" not in by_sid and "ReadLineageSecret" not in by_sid
    trust = json.loads(matrix.after("module.kms.aws_iam_role.this[0]")["assume_role_policy"])
    condition = trust["Statement"][0]["Condition"]
    assert condition["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert (
        condition["ArnLike"]["aws:SourceArn"] == "arn:aws:airflow:us-east-1:123456789012:environment/om-kms"
    )


def test_bring_your_own_bucket_and_role(matrix: Plan) -> None:
    env = env_of(matrix, "byo")
    assert env["source_bucket_arn"] == "arn:aws:s3:::my-own-mwaa-bucket"
    assert env["execution_role_arn"] == BYO_ROLE
    planned = matrix.addresses()
    assert not [a for a in planned if a.startswith(("module.byo.aws_s3_bucket", "module.byo.aws_iam_role"))]
    for key in ("requirements", "plugins"):
        assert matrix.after(f"module.byo.aws_s3_object.{key}")["bucket"] == "my-own-mwaa-bucket"
    assert matrix.output("byo__lineage_configuration")["lineage.auth_provider_type"] == "no-auth"


def test_default_airflow_version_is_an_mwaa_version_on_the_backend_path(matrix: Plan) -> None:
    """Rows that leave airflow_version unset get the module's default: a version MWAA offers (the list the
    MWAA emulator holds), planned into the environment, and a 2.x one: the lineage backend is configured."""
    from omlineage_devkit.emulators.mwaa import AIRFLOW_VERSIONS, DEFAULT_AIRFLOW_VERSION

    defaulted = [row for row in ROWS if "airflow_version" not in ROWS[row].get("inputs", {})]
    assert defaulted, "no row uses the default"
    for row in defaulted:
        env = env_of(matrix, row)
        assert env["airflow_version"] == DEFAULT_AIRFLOW_VERSION, row
        assert env["airflow_version"] in AIRFLOW_VERSIONS
        assert env["airflow_configuration_options"]["lineage.backend"] == BACKEND, row


@pytest.mark.parametrize("row", ["kms", "noauth"])
def test_execution_role_allows_the_mwaa_calls_and_nothing_outside(matrix: Plan, row: str) -> None:
    """Evaluated, not string-matched (omlineage_devkit/iam_eval.py): the planned execution policy against the
    calls MWAA makes and calls outside the environment. Rows with a lineage secret are proven on the applied
    policy (tests/terraform/test_apply.py): their policy names the secret's ARN, unknown at plan time."""
    from omlineage_devkit.iam_eval import decide
    from omlineage_devkit.mwaa_calls import Environment, allowed_calls, denied_calls

    policy = json.loads(matrix.after(f"module.{row}.aws_iam_role_policy.this[0]")["policy"])
    bucket = matrix.after(f"module.{row}.aws_s3_bucket.this[0]")["bucket"]
    env = Environment(
        "us-east-1", "123456789012", f"om-{row}", bucket, kms_key_arn=KMS_KEY if row == "kms" else None
    )
    refused = [c for c in allowed_calls(env) if decide([policy], c) != "allow"]
    assert not refused, f"calls MWAA needs are not allowed: {refused}"
    granted = [c for c in denied_calls(env) if decide([policy], c) == "allow"]
    assert not granted, f"calls outside the environment are allowed: {granted}"


def test_prebuilt_zip_for_another_airflow_version_is_flagged(matrix: Plan) -> None:
    """inline3 plans Airflow 3.0.6 with the plugins.zip built for the default 2.10.3 (artifacts.json says so):
    a check block warns (the wheelhouse follows one image); the 2.10.3 rows do not."""
    flagged = "was built for another Airflow version than airflow_version = "
    text = " ".join(matrix.text.split())  # terraform wraps warnings
    assert f"{flagged}3.0.6" in text
    assert f"{flagged}2.10.3" not in text
