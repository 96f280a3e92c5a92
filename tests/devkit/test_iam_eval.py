"""omlineage_devkit/iam_eval.py, the evaluator the execution-role proofs rely on: each rule on its own."""

from __future__ import annotations

import pytest

from omlineage_devkit.iam_eval import Request, arn_match, decide

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:openmetadata-lineage/x-AbCdEf"


def policy(*statements: dict) -> list[dict]:
    return [{"Version": "2012-10-17", "Statement": list(statements)}]


def allow(**kw: object) -> dict:
    return {"Effect": "Allow", **kw}


def test_implicit_deny_allow_and_explicit_deny_wins() -> None:
    req = Request("s3:GetObject", "arn:aws:s3:::b/k")
    assert decide(policy(), req) == "implicit-deny"
    assert decide(policy(allow(Action="s3:GetObject", Resource="arn:aws:s3:::b/*")), req) == "allow"
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}
    assert decide(policy(allow(Action="s3:GetObject", Resource="*"), deny), req) == "deny"


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:GetObject*", "s3:GetObjectVersion", True),
        ("S3:getobject", "s3:GetObject", True),  # actions are case-insensitive
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:GetObject", "s3:GetObjectAcl", False),
        ("kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", True),
        ("s3:*", "s3express:CreateSession", False),
    ],
)
def test_action_wildcards(pattern: str, action: str, expected: bool) -> None:
    result = decide(policy(allow(Action=[pattern], Resource="*")), Request(action, "x"))
    assert (result == "allow") is expected


def test_not_action_and_not_resource() -> None:
    stmt = allow(NotAction="iam:*", NotResource="arn:aws:s3:::secret-bucket/*")
    assert decide(policy(stmt), Request("s3:GetObject", "arn:aws:s3:::b/k")) == "allow"
    assert decide(policy(stmt), Request("iam:PassRole", "arn:aws:s3:::b/k")) == "implicit-deny"
    assert decide(policy(stmt), Request("s3:GetObject", "arn:aws:s3:::secret-bucket/k")) == "implicit-deny"


def test_resources_are_case_sensitive_and_star_spans_separators() -> None:
    stmt = allow(Action="sqs:SendMessage", Resource="arn:aws:sqs:us-east-1:*:airflow-celery-*")
    assert (
        decide(policy(stmt), Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:999:airflow-celery-x"))
        == "allow"
    )
    assert (
        decide(policy(stmt), Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:999:AIRFLOW-celery-x"))
        != "allow"
    )
    assert (
        decide(policy(stmt), Request("sqs:SendMessage", "arn:aws:sqs:eu-west-1:999:airflow-celery-x"))
        != "allow"
    )


def test_string_conditions_missing_keys_and_if_exists() -> None:
    stmt = allow(
        Action="kms:Decrypt",
        Resource="*",
        Condition={"StringLike": {"kms:ViaService": ["s3.*.amazonaws.com", "sqs.us-east-1.amazonaws.com"]}},
    )
    assert (
        decide(policy(stmt), Request("kms:Decrypt", "k", {"kms:viaservice": "s3.eu-west-1.amazonaws.com"}))
        == "allow"
    )
    assert (
        decide(policy(stmt), Request("kms:Decrypt", "k", {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}))
        == "allow"
    )
    assert (
        decide(policy(stmt), Request("kms:Decrypt", "k", {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}))
        != "allow"
    )
    assert decide(policy(stmt), Request("kms:Decrypt", "k")) != "allow", "a missing key fails a positive test"
    exists = allow(
        Action="kms:Decrypt", Resource="*", Condition={"StringEqualsIfExists": {"kms:ViaService": "x"}}
    )
    assert decide(policy(exists), Request("kms:Decrypt", "k")) == "allow"
    negated = allow(
        Action="kms:Decrypt", Resource="*", Condition={"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}
    )
    assert decide(policy(negated), Request("kms:Decrypt", "k")) == "allow", (
        "a missing key passes a negated test"
    )
    assert decide(policy(negated), Request("kms:Decrypt", "k", {"aws:SourceVpc": "vpc-1"})) != "allow"


def test_all_operators_and_keys_must_hold() -> None:
    stmt = allow(
        Action="sts:AssumeRole",
        Resource="*",
        Condition={
            "StringEquals": {"aws:SourceAccount": "123456789012"},
            "ArnLike": {"aws:SourceArn": "arn:aws:airflow:us-east-1:123456789012:environment/*"},
        },
    )
    good = {
        "aws:SourceAccount": "123456789012",
        "aws:SourceArn": "arn:aws:airflow:us-east-1:123456789012:environment/e",
    }
    assert decide(policy(stmt), Request("sts:AssumeRole", "r", good)) == "allow"
    assert (
        decide(policy(stmt), Request("sts:AssumeRole", "r", {**good, "aws:SourceAccount": "999"})) != "allow"
    )
    assert (
        decide(policy(stmt), Request("sts:AssumeRole", "r", {"aws:SourceAccount": "123456789012"})) != "allow"
    )


def test_arn_like_matches_part_by_part() -> None:
    assert arn_match(
        "arn:aws:airflow:*:123456789012:environment/*", "arn:aws:airflow:eu-west-1:123456789012:environment/e"
    )
    assert not arn_match(
        "arn:aws:airflow:*:123456789012:*", "arn:aws:airflow:eu-west-1:999:environment/x:123456789012:y"
    )
    assert not arn_match("arn:aws:s3:::b", "not-an-arn")


def test_bool_and_null() -> None:
    tls = allow(Action="s3:GetObject", Resource="*", Condition={"Bool": {"aws:SecureTransport": "true"}})
    assert decide(policy(tls), Request("s3:GetObject", "o", {"aws:SecureTransport": True})) == "allow"
    assert decide(policy(tls), Request("s3:GetObject", "o", {"aws:SecureTransport": False})) != "allow"
    null = allow(Action="s3:GetObject", Resource="*", Condition={"Null": {"aws:TokenIssueTime": "true"}})
    assert decide(policy(null), Request("s3:GetObject", "o")) == "allow"
    assert decide(policy(null), Request("s3:GetObject", "o", {"aws:TokenIssueTime": "t"})) != "allow"


@pytest.mark.parametrize(
    "statement",
    [
        allow(Action="s3:GetObject", Resource="arn:aws:s3:::${aws:username}/*"),
        allow(Action="s3:GetObject", Resource="*", Condition={"NumericLessThan": {"s3:max-keys": "10"}}),
        allow(
            Action="s3:GetObject", Resource="*", Condition={"ForAnyValue:StringLike": {"aws:TagKeys": "a"}}
        ),
        allow(Principal={"AWS": "*"}, Action="s3:GetObject", Resource="*"),
    ],
)
def test_what_it_cannot_evaluate_is_an_error_not_an_allow(statement: dict) -> None:
    with pytest.raises(ValueError):
        decide(
            policy(statement),
            Request("s3:GetObject", "arn:aws:s3:::u/k", {"s3:max-keys": "5", "aws:TagKeys": "a"}),
        )


def test_secret_read_is_scoped_to_one_arn() -> None:
    stmt = allow(Action=["secretsmanager:GetSecretValue"], Resource=ARN)
    assert decide(policy(stmt), Request("secretsmanager:GetSecretValue", ARN)) == "allow"
    assert decide(policy(stmt), Request("secretsmanager:GetSecretValue", ARN[:-1] + "X")) != "allow"
