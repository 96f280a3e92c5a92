"""The kit's emulators/moto_server.py: a TLS-only bucket policy lets requests over TLS through and denies a
plain-HTTP one (the request context the shim evaluates); other denies still apply. What these do not prove:
anything about named principals (the shim ignores statements for them) or about IAM identity policies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from omlineage_devkit.local_aws import moto_with_request_context
from omlineage_devkit.terraform import MotoServer


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_with_request_context() as server:
        yield server


def _s3(moto: MotoServer) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=moto.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _deny(statement_extra: dict, action: str = "s3:*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": action,
                    "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"],
                    **statement_extra,
                }
            ],
        }
    )


def test_tls_only_policy_lets_sdk_requests_through(moto: MotoServer) -> None:
    s3 = _s3(moto)
    s3.create_bucket(Bucket="tls-only")
    s3.put_bucket_policy(
        Bucket="tls-only", Policy=_deny({"Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    )
    s3.put_object(Bucket="tls-only", Key="k", Body=b"v")
    assert s3.get_object(Bucket="tls-only", Key="k")["Body"].read() == b"v"


def test_tls_only_policy_denies_a_plain_http_client(moto: MotoServer) -> None:
    from omlineage_devkit.emulators.moto_server import SECURE_TRANSPORT_HEADER

    s3 = _s3(moto)
    s3.create_bucket(Bucket="tls-only-http")
    s3.put_object(Bucket="tls-only-http", Key="k", Body=b"v")
    s3.put_bucket_policy(
        Bucket="tls-only-http",
        Policy=_deny({"Condition": {"Bool": {"aws:SecureTransport": "false"}}}).replace(
            ":::tls-only", ":::tls-only-http"
        ),
    )

    def plain_http(request: Any, **_: Any) -> None:
        request.headers[SECURE_TRANSPORT_HEADER] = "false"

    s3.meta.events.register("before-sign.s3.GetObject", plain_http)
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket="tls-only-http", Key="k")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    s3.meta.events.unregister("before-sign.s3.GetObject", plain_http)
    assert s3.get_object(Bucket="tls-only-http", Key="k")["Body"].read() == b"v"


def test_unconditional_deny_still_denies(moto: MotoServer) -> None:
    s3 = _s3(moto)
    s3.create_bucket(Bucket="policy-deny")
    s3.put_object(Bucket="policy-deny", Key="k", Body=b"v")
    s3.put_bucket_policy(
        Bucket="policy-deny", Policy=_deny({}, "s3:GetObject").replace(":::tls-only", ":::policy-deny")
    )
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket="policy-deny", Key="k")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_group_rule_keeps_its_description(moto: MotoServer) -> None:
    import boto3

    ec2 = boto3.client(
        "ec2",
        endpoint_url=moto.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="self-ref", Description="d", VpcId=vpc)["GroupId"]
    pair = {"GroupId": group, "Description": "MWAA components"}
    rules = ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [pair]}]
    )["SecurityGroupRules"]
    described = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rules[0]["SecurityGroupRuleId"]])
    assert described["SecurityGroupRules"][0]["Description"] == "MWAA components"
