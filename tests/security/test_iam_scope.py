"""The module's IAM, read from its HCL (omlineage_devkit/probes/iam_statements.py under .venvs/checkov):

- the lineage secret is readable through exactly one statement, of the execution role's policy, scoped to
  that one secret's ARN, read-only; the module writes no secret resource policy and no other grant;
- nothing is wildcarded that can be scoped: a `"*"` resource only for the actions AWS documents as
  unscopable for MWAA (logs:DescribeLogGroups, s3:GetAccountPublicAccessBlock, cloudwatch:PutMetricData);
- every KMS grant is held to AWS services by a kms:ViaService condition.

A plan cannot show this: the execution policy names the secret's ARN, so Terraform only knows it at apply.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from omlineage_devkit.paths import PROBES, REPO, venv_python

UNSCOPABLE = {"logs:DescribeLogGroups", "s3:GetAccountPublicAccessBlock", "cloudwatch:PutMetricData"}


@pytest.fixture(scope="module")
def iam() -> dict[str, Any]:
    proc = subprocess.run(
        [str(venv_python("checkov")), str(PROBES / "iam_statements.py"), str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_lineage_secret_readable_by_the_execution_role_only(iam: dict[str, Any]) -> None:
    grants = [s for s in iam["statements"] if any(a.startswith("secretsmanager:") for a in s["actions"])]
    assert len(grants) == 1, grants
    [grant] = grants
    assert grant["document"] == "execution" and grant["effect"] in (None, "Allow")
    assert set(grant["actions"]) <= {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    assert grant["resources"] == ["${local.lineage_secret_arn}"]
    assert iam["locals"]["lineage_secret_arn"] == "${one(aws_secretsmanager_secret.this[*].arn)}"
    types = set(iam["resource_types"])
    assert "aws_secretsmanager_secret_policy" not in types, "a resource policy would grant other principals"
    assert not types & {"aws_iam_user_policy", "aws_iam_group_policy", "aws_iam_policy"}


def test_no_wildcard_that_could_be_scoped(iam: dict[str, Any]) -> None:
    for statement in iam["statements"]:
        if statement["document"] == "assume":
            continue
        if "*" in statement["resources"]:
            assert set(statement["actions"]) <= UNSCOPABLE, statement
        if "*" in statement["not_resources"]:
            pytest.fail(f"NotResource '*' grants everything: {statement}")
        assert not any(a in ("*", "s3:*", "kms:*", "secretsmanager:*") for a in statement["actions"]) or (
            statement["effect"] == "Deny"
        ), statement


def test_kms_grants_are_held_to_aws_services(iam: dict[str, Any]) -> None:
    kms = [s for s in iam["statements"] if any(a.startswith("kms:") for a in s["actions"])]
    assert kms, "no KMS statement found: the parser missed the dynamic blocks"
    for statement in kms:
        via = [c for c in statement["conditions"] if c["variable"] == "kms:ViaService"]
        assert via, f"a KMS grant without kms:ViaService: {statement}"
        for condition in via:
            assert condition["test"] in ("StringEquals", "StringLike"), condition
            # each value one AWS service endpoint of this region, never a wildcard for any service
            assert condition["values"], condition
            for value in condition["values"]:
                service, _, rest = value.partition(".")
                assert rest == "${local.region}.amazonaws.com" and service.isalnum(), condition
