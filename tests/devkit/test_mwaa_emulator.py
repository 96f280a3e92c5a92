"""The MWAA control-plane emulator answers botocore's MWAA client the way the service does (against moto)."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from omlineage_devkit.emulators.mwaa import SECURITY_GROUP_MESSAGE, MwaaEmulator
from omlineage_devkit.local_aws import routed_network

REGION = "us-east-1"
DELAY = 0.3


def _client(service: str, endpoint: str, **config: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, **config),
    )


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def emulator(moto_url: str) -> Iterator[MwaaEmulator]:
    with MwaaEmulator(moto_url, create_delay=DELAY, update_delay=DELAY, delete_delay=DELAY) as emu:
        yield emu


@pytest.fixture(scope="module")
def mwaa(emulator: MwaaEmulator) -> Any:
    # No client-side validation: the emulator must reject bad input itself, as the Go SDK checks little.
    return _client("mwaa", emulator.url, inject_host_prefix=False, parameter_validation=False)


@pytest.fixture(scope="module")
def aws(moto_url: str) -> dict[str, Any]:
    """Resources an environment refers to, created in moto: bucket + objects, role, network."""
    s3, iam, ec2 = (_client(s, moto_url) for s in ("s3", "iam", "ec2"))
    s3.create_bucket(Bucket="mwaa-src")
    s3.put_bucket_versioning(Bucket="mwaa-src", VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket="mwaa-src",
        PublicAccessBlockConfiguration={
            k: True
            for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        },
    )
    s3.create_bucket(Bucket="unversioned")
    v1 = s3.put_object(Bucket="mwaa-src", Key="plugins.zip", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="mwaa-src", Key="plugins.zip", Body=b"two")["VersionId"]
    req = s3.put_object(Bucket="mwaa-src", Key="requirements.txt", Body=b"x\n")["VersionId"]
    role = iam.create_role(RoleName="mwaa-exec", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    # the private subnets leave the VPC through a NAT gateway (the emulator refuses subnets without a route)
    network = routed_network(ec2, "10.0", azs="aba")
    vpc, (a, b, a2) = network["vpc_id"], network["subnet_ids"]
    sg = ec2.create_security_group(GroupName="mwaa", Description="mwaa", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": sg}]}]
    )
    # no self-referencing rule: only the default egress (and, once revoked, nothing at all)
    lonely = ec2.create_security_group(GroupName="lonely", Description="lonely", VpcId=vpc)["GroupId"]
    # a second VPC whose subnets only have the local route
    bare_network = routed_network(ec2, "10.1", route_out=False)
    bare_vpc, bare = bare_network["vpc_id"], bare_network["subnet_ids"]
    bare_sg = ec2.create_security_group(GroupName="bare", Description="bare", VpcId=bare_vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=bare_sg, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": bare_sg}]}]
    )
    return {
        "role": role,
        "subnets": [a, b],
        "same_az": [a, a2],
        "sg": sg,
        "lonely_sg": lonely,
        "bare": {"vpc": bare_vpc, "subnets": bare, "sg": bare_sg},
        "v1": v1,
        "v2": v2,
        "req": req,
    }


def _request(aws: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ExecutionRoleArn": aws["role"],
        "SourceBucketArn": "arn:aws:s3:::mwaa-src",
        "DagS3Path": "dags/",
        "NetworkConfiguration": {"SubnetIds": aws["subnets"], "SecurityGroupIds": [aws["sg"]]},
        "PluginsS3Path": "plugins.zip",
        "PluginsS3ObjectVersion": aws["v1"],
        "RequirementsS3Path": "requirements.txt",
        "AirflowVersion": "2.10.3",
        "AirflowConfigurationOptions": {
            "lineage.airflow_service_name": "mwaa",
            "lineage.jwt_token": "s3cr3t-%%",
        },
        "Tags": {"team": "data"},
    }
    request.update(overrides)
    return request


def _wait(mwaa: Any, name: str, want: str | None, timeout: float = 10.0) -> list[str]:
    """Polls like Terraform's waiters; returns the statuses seen (want=None: until it is gone)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = mwaa.get_environment(Name=name)["Environment"]["Status"]
        except ClientError as err:
            if want is None and err.response["Error"]["Code"] == "ResourceNotFoundException":
                return seen
            raise
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == want:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"{name} never reached {want}: saw {seen}")


def _error(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_create_waits_then_reports_everything(mwaa: Any, aws: dict[str, Any]) -> None:
    arn = mwaa.create_environment(Name="env-create", **_request(aws))["Arn"]
    assert arn == "arn:aws:airflow:us-east-1:123456789012:environment/env-create"
    assert _wait(mwaa, "env-create", "AVAILABLE") == ["CREATING", "AVAILABLE"]
    env = mwaa.get_environment(Name="env-create")["Environment"]
    assert env["AirflowConfigurationOptions"]["lineage.jwt_token"] == "s3cr3t-%%"
    assert env["PluginsS3ObjectVersion"] == aws["v1"]
    assert env["RequirementsS3ObjectVersion"] == aws["req"], "latest version resolved when none is named"
    assert env["NetworkConfiguration"]["SubnetIds"] == aws["subnets"]
    assert env["LastUpdate"]["Status"] == "SUCCESS" and env["LastUpdate"]["WorkerReplacementStrategy"]
    assert (env["EnvironmentClass"], env["MinWorkers"], env["MaxWorkers"], env["Schedulers"]) == (
        "mw1.small",
        1,
        10,
        2,
    )
    assert env["Tags"] == {"team": "data"}
    assert set(env["LoggingConfiguration"]) == {
        "DagProcessingLogs",
        "SchedulerLogs",
        "TaskLogs",
        "WebserverLogs",
        "WorkerLogs",
    }
    assert env["CreatedAt"].year >= 2024
    assert "env-create" in mwaa.list_environments()["Environments"]
    assert _error(mwaa.create_environment, Name="env-create", **_request(aws))[:2] == (
        "ValidationException",
        400,
    )
    mwaa.delete_environment(Name="env-create")
    _wait(mwaa, "env-create", None)


BAD_INPUTS = {
    "upper-case option key": (
        {"AirflowConfigurationOptions": {"Lineage.backend": "x"}},
        "AirflowConfigurationOptions",
    ),
    "option key over 64": ({"AirflowConfigurationOptions": {"lineage." + "k" * 60: "x"}}, "length"),
    "newline in option value": ({"AirflowConfigurationOptions": {"lineage.private_key": "a\nb"}}, "pattern"),
    "empty option value": ({"AirflowConfigurationOptions": {"lineage.email": ""}}, "length"),
    "airflow version": ({"AirflowVersion": "2.6.3"}, "2.7.2"),
    "environment class": ({"EnvironmentClass": "mw1.huge"}, "EnvironmentClass"),
    "workers": ({"MinWorkers": 5, "MaxWorkers": 2}, "MinWorkers"),
    "micro workers": ({"EnvironmentClass": "mw1.micro", "MaxWorkers": 2}, "mw1.micro"),
    "one subnet": (
        {"NetworkConfiguration": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}},
        "SubnetIds",
    ),
    "missing bucket": ({"SourceBucketArn": "arn:aws:s3:::nope"}, "nope"),
    "unversioned bucket": ({"SourceBucketArn": "arn:aws:s3:::unversioned"}, "versioning"),
    "missing role": ({"ExecutionRoleArn": "arn:aws:iam::123456789012:role/nope"}, "execution role"),
    "missing plugins version": ({"PluginsS3ObjectVersion": "nope"}, "plugins"),
    "missing requirements": ({"RequirementsS3Path": "missing.txt"}, "missing.txt"),
    "bad name": ({"Name": "9env"}, "Name"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_create_rejects_bad_input_like_the_service(mwaa: Any, aws: dict[str, Any], case: str) -> None:
    overrides, named = dict(BAD_INPUTS[case][0]), BAD_INPUTS[case][1]
    name = overrides.pop("Name", "env-bad")
    code, status, message = _error(mwaa.create_environment, Name=name, **_request(aws, **overrides))
    assert (code, status) == ("ValidationException", 400)
    assert named in message
    assert "s3cr3t" not in message
    assert name not in mwaa.list_environments()["Environments"]


def test_network_checks(mwaa: Any, aws: dict[str, Any], moto_url: str) -> None:
    same_az = {"SubnetIds": aws["same_az"], "SecurityGroupIds": [aws["sg"]]}
    assert (
        "different Availability Zones"
        in _error(mwaa.create_environment, Name="n", **_request(aws, NetworkConfiguration=same_az))[2]
    )
    no_sg = {"SubnetIds": aws["subnets"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}
    assert (
        "Security groups"
        in _error(mwaa.create_environment, Name="n", **_request(aws, NetworkConfiguration=no_sg))[2]
    )


def test_security_groups_must_let_components_talk(mwaa: Any, aws: dict[str, Any], moto_url: str) -> None:
    """The service refuses groups without a self-referencing inbound rule, with its own message."""
    lonely = {"SubnetIds": aws["subnets"], "SecurityGroupIds": [aws["lonely_sg"]]}
    code, status, message = _error(
        mwaa.create_environment, Name="env-lonely", **_request(aws, NetworkConfiguration=lonely)
    )
    assert (code, status, message) == ("ValidationException", 400, SECURITY_GROUP_MESSAGE)
    # a self-referencing rule but no egress at all (what the provider leaves of a new group before its rules)
    ec2 = _client("ec2", moto_url)
    silent = ec2.create_security_group(GroupName="silent", Description="silent", VpcId=_vpc_of(aws, ec2))
    ec2.authorize_security_group_ingress(
        GroupId=silent["GroupId"],
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": silent["GroupId"]}]}],
    )
    ec2.revoke_security_group_egress(
        GroupId=silent["GroupId"], IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    network = {"SubnetIds": aws["subnets"], "SecurityGroupIds": [silent["GroupId"]]}
    assert _error(mwaa.create_environment, Name="env-silent", **_request(aws, NetworkConfiguration=network))[
        2
    ] == (SECURITY_GROUP_MESSAGE)
    # the group of another environment component counts: [lonely, sg] passes (sg refers to itself)
    both = {"SubnetIds": aws["subnets"], "SecurityGroupIds": [aws["lonely_sg"], aws["sg"]]}
    mwaa.create_environment(Name="env-two-groups", **_request(aws, NetworkConfiguration=both))
    _wait(mwaa, "env-two-groups", "AVAILABLE")
    # updates are checked too
    code, _, message = _error(
        mwaa.update_environment,
        Name="env-two-groups",
        NetworkConfiguration={"SecurityGroupIds": [aws["lonely_sg"]]},
    )
    assert (code, message) == ("ValidationException", SECURITY_GROUP_MESSAGE)
    mwaa.delete_environment(Name="env-two-groups")
    _wait(mwaa, "env-two-groups", None)
    assert "env-lonely" not in mwaa.list_environments()["Environments"]


def test_subnets_need_a_route_or_endpoints(mwaa: Any, aws: dict[str, Any], moto_url: str) -> None:
    bare = aws["bare"]
    network = {"SubnetIds": bare["subnets"], "SecurityGroupIds": [bare["sg"]]}
    code, status, message = _error(
        mwaa.create_environment, Name="env-bare", **_request(aws, NetworkConfiguration=network)
    )
    assert (code, status) == ("ValidationException", 400)
    assert f"Subnet {bare['subnets'][0]} has no route out of the VPC" in message
    # private routing: an S3 gateway endpoint (a prefix-list route) is enough
    ec2 = _client("ec2", moto_url)
    table = ec2.create_route_table(VpcId=bare["vpc"])["RouteTable"]["RouteTableId"]
    for subnet in bare["subnets"]:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    endpoint = ec2.create_vpc_endpoint(
        VpcId=bare["vpc"],
        ServiceName=f"com.amazonaws.{REGION}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=[table],
    )["VpcEndpoint"]["VpcEndpointId"]
    mwaa.create_environment(Name="env-private", **_request(aws, NetworkConfiguration=network))
    _wait(mwaa, "env-private", "AVAILABLE")
    mwaa.delete_environment(Name="env-private")
    _wait(mwaa, "env-private", None)
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint])


def test_customer_endpoints_pending_until_created(mwaa: Any, aws: dict[str, Any], moto_url: str) -> None:
    mwaa.create_environment(Name="env-customer", **_request(aws, EndpointManagement="CUSTOMER"))
    seen = _wait(mwaa, "env-customer", "PENDING")
    assert seen[-1] == "PENDING"
    time.sleep(DELAY * 2)
    env = mwaa.get_environment(Name="env-customer")["Environment"]
    assert env["Status"] == "PENDING", "must wait for the customer's endpoints"
    ec2 = _client("ec2", moto_url)
    vpc = _vpc_of(aws, ec2)
    ids = []
    for service in (env["DatabaseVpcEndpointService"], env["WebserverVpcEndpointService"]):
        assert mwaa.get_environment(Name="env-customer")["Environment"]["Status"] == "PENDING"
        ids.append(
            ec2.create_vpc_endpoint(
                VpcId=vpc,
                ServiceName=service,
                VpcEndpointType="Interface",
                SubnetIds=aws["subnets"],
                SecurityGroupIds=[aws["sg"]],
            )["VpcEndpoint"]["VpcEndpointId"]
        )
    assert mwaa.get_environment(Name="env-customer")["Environment"]["Status"] == "AVAILABLE"
    mwaa.delete_environment(Name="env-customer")
    _wait(mwaa, "env-customer", None)
    ec2.delete_vpc_endpoints(VpcEndpointIds=ids)


def _vpc_of(aws: dict[str, Any], ec2: Any) -> str:
    return ec2.describe_security_groups(GroupIds=[aws["sg"]])["SecurityGroups"][0]["VpcId"]


def test_option_values_never_echoed(mwaa: Any, aws: dict[str, Any]) -> None:
    options = {"lineage.jwt_token": "top-secret\u00e9"}
    message = _error(
        mwaa.create_environment, Name="env-secret", **_request(aws, AirflowConfigurationOptions=options)
    )[2]
    assert "lineage.jwt_token" in message and "top-secret" not in message


def test_update_rolls_out_new_versions_and_options(mwaa: Any, aws: dict[str, Any]) -> None:
    mwaa.create_environment(Name="env-update", **_request(aws))
    assert _error(mwaa.update_environment, Name="env-update", MaxWorkers=3)[2].startswith(
        "Environment env-update is CREATING"
    )
    _wait(mwaa, "env-update", "AVAILABLE")
    mwaa.update_environment(
        Name="env-update",
        PluginsS3ObjectVersion=aws["v2"],
        AirflowConfigurationOptions={"lineage.airflow_service_name": "renamed"},
        WorkerReplacementStrategy="GRACEFUL",
    )
    env = mwaa.get_environment(Name="env-update")["Environment"]
    assert env["Status"] == "UPDATING" and env["LastUpdate"]["Status"] == "PENDING"
    assert _wait(mwaa, "env-update", "AVAILABLE") == ["UPDATING", "AVAILABLE"]
    env = mwaa.get_environment(Name="env-update")["Environment"]
    assert env["PluginsS3ObjectVersion"] == aws["v2"]
    assert env["AirflowConfigurationOptions"] == {"lineage.airflow_service_name": "renamed"}
    assert env["LastUpdate"] == {
        **env["LastUpdate"],
        "Status": "SUCCESS",
        "WorkerReplacementStrategy": "GRACEFUL",
    }
    downgrade = _error(mwaa.update_environment, Name="env-update", AirflowVersion="2.9.2")
    assert downgrade[:2] == ("ValidationException", 400) and "minor upgrades" in downgrade[2]
    assert (
        _error(mwaa.update_environment, Name="env-update", AirflowVersion="3.0.6")[0] == "ValidationException"
    )
    mwaa.update_environment(Name="env-update", AirflowVersion="2.11.0")
    _wait(mwaa, "env-update", "AVAILABLE")
    assert mwaa.get_environment(Name="env-update")["Environment"]["AirflowVersion"] == "2.11.0"
    mwaa.delete_environment(Name="env-update")
    assert _wait(mwaa, "env-update", None) == ["DELETING"]


def test_tags(mwaa: Any, aws: dict[str, Any]) -> None:
    arn = mwaa.create_environment(Name="env-tags", **_request(aws))["Arn"]
    mwaa.tag_resource(ResourceArn=arn, Tags={"owner": "me", "cost": "1"})
    mwaa.untag_resource(ResourceArn=arn, tagKeys=["cost", "team"])
    assert mwaa.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"owner": "me"}
    assert mwaa.get_environment(Name="env-tags")["Environment"]["Tags"] == {"owner": "me"}
    missing = arn.replace("env-tags", "env-none")
    assert _error(mwaa.list_tags_for_resource, ResourceArn=missing)[:2] == ("ResourceNotFoundException", 404)
    _wait(mwaa, "env-tags", "AVAILABLE")
    mwaa.delete_environment(Name="env-tags")
    _wait(mwaa, "env-tags", None)


def test_not_found_and_list_pages(mwaa: Any, aws: dict[str, Any]) -> None:
    assert _error(mwaa.get_environment, Name="ghost")[:2] == ("ResourceNotFoundException", 404)
    assert _error(mwaa.delete_environment, Name="ghost")[:2] == ("ResourceNotFoundException", 404)
    assert _error(mwaa.update_environment, Name="ghost", MaxWorkers=2)[:2] == (
        "ResourceNotFoundException",
        404,
    )
    for i in range(3):
        mwaa.create_environment(Name=f"env-page{i}", **_request(aws))
    pages = list(mwaa.get_paginator("list_environments").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["Environments"]) for p in pages] == [2, 1]
    for i in range(3):
        _wait(mwaa, f"env-page{i}", "AVAILABLE")
        mwaa.delete_environment(Name=f"env-page{i}")
    for i in range(3):
        _wait(mwaa, f"env-page{i}", None)
    assert mwaa.list_environments()["Environments"] == []


def test_tokens(mwaa: Any, aws: dict[str, Any]) -> None:
    mwaa.create_environment(Name="env-token", **_request(aws))
    cli = mwaa.create_cli_token(Name="env-token")
    web = mwaa.create_web_login_token(Name="env-token")
    assert cli["CliToken"] and cli["WebServerHostname"].endswith(".airflow.amazonaws.com")
    assert web["WebToken"] != cli["CliToken"] and web["IamIdentity"] == aws["role"]
    _wait(mwaa, "env-token", "AVAILABLE")
    mwaa.delete_environment(Name="env-token")
    _wait(mwaa, "env-token", None)


def test_answers_as_an_http_proxy(emulator: MwaaEmulator) -> None:
    """The Go SDK sends `GET http://api.127.0.0.1:<port>/...` to the proxy: the emulator must route it."""
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    conn.request("GET", "http://api.127.0.0.1:9/environments/ghost", headers={"Host": "api.127.0.0.1:9"})
    response = conn.getresponse()
    assert response.status == 404
    assert response.getheader("x-amzn-ErrorType") == "ResourceNotFoundException"
    conn.close()
    via_proxy = requests.get("http://api.127.0.0.1:9/environments", proxies={"http": emulator.url}, timeout=5)
    assert via_proxy.status_code == 200 and "Environments" in via_proxy.json()


def test_unknown_operation_is_a_clear_404(emulator: MwaaEmulator) -> None:
    response = requests.get(f"{emulator.url}/nothing-here", timeout=5)
    assert response.status_code == 404 and "No MWAA operation" in response.json()["message"]
