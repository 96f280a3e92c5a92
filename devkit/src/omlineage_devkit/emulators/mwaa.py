"""A loopback emulator of the Amazon MWAA control plane (REST API 2020-07-01), backed by moto.

moto has no MWAA backend, so Terraform applies and the end-to-end test talk to this server for MWAA and to
moto for S3, IAM, EC2, KMS and the rest. It answers the restJson1 calls of botocore's MWAA model
(CreateEnvironment, GetEnvironment, UpdateEnvironment, DeleteEnvironment, ListEnvironments, TagResource,
UntagResource, ListTagsForResource, CreateCliToken, CreateWebLoginToken) at the model's paths. The SDKs prefix
the host with `api.` / `env.`, so clients reach it as an HTTP proxy (absolute-URI requests) or with botocore's
`Config(inject_host_prefix=False)`.

What it checks, as the real API does:
- request shapes against botocore's own model (required members, lengths, patterns, enums), so option keys
  must match `[a-z]+([a-z0-9._]*[a-z0-9_]+)?` (<= 64) and values are printable ASCII (<= 65,536);
- the Airflow versions offered (2.7.2 ... 3.0.6), minor upgrades only, environment classes and their worker,
  scheduler and web server limits;
- against moto (through boto3): the source bucket exists with versioning enabled and public access blocked,
  the execution role exists, exactly two subnets in two AZs of one VPC, the security groups exist in that VPC,
  the groups let MWAA's components talk to each other (a self-referencing inbound rule in at least one group,
  and some outbound rule: the provider strips a new group's default egress), answered as the service does with
  ValidationException "At least one of the security group needs to allow MWAA resources to talk to each other,
  otherwise MWAA cannot be provisioned" (MWAA user guide, "Security in your VPC on Amazon MWAA",
  https://docs.aws.amazon.com/mwaa/latest/userguide/vpc-security.html: "a self-referencing inbound rule"),
  each subnet has a route out of the VPC (a non-local route: NAT, internet/transit gateway, peering, an S3
  gateway endpoint) unless the VPC has VPC endpoints (private routing, MWAA user guide "About networking on
  Amazon MWAA", https://docs.aws.amazon.com/mwaa/latest/userguide/networking-about.html), the KMS key exists,
  and the plugins / requirements / startup-script objects exist at the named versions (the latest version is
  resolved and reported when none is named). With EndpointManagement = CUSTOMER the environment stops in
  PENDING after CREATING and becomes AVAILABLE once interface endpoints to its DatabaseVpcEndpointService
  (and, for PRIVATE_ONLY access, its WebserverVpcEndpointService) exist in its VPC (MWAA user guide, "Managing
  your own Amazon VPC endpoints on Amazon MWAA"; the PENDING state as users report it in
  hashicorp/terraform-provider-aws#39388, whose fix makes the provider treat PENDING as a finished create).
  Statuses move CREATING -> AVAILABLE, UPDATING -> AVAILABLE and DELETING -> gone after configurable delays,
  so Terraform's waiters poll for real. GetEnvironment always carries a LastUpdate object.

What it does not emulate: running Airflow (omlineage_devkit/mwaa_local.py does that from the environment's
options and artifacts), SigV4 signature checks or IAM authorisation (the region is read from the Authorization
header, nothing is verified), the execution role's policies and trust, whether a subnet is private, whether
the route or endpoints really lead to each service MWAA needs (the real service fails such an environment
during creation, CREATE_FAILED; here a subnet without any route or endpoint is refused at once with a message
of the emulator's own wording), network ACLs, MWAA-blocked configuration keys, creation of the CloudWatch log
groups (ARNs are reported, nothing is created in moto), failures during creation or update (CREATE_FAILED /
UPDATE_FAILED), Teams, IdentityCenter, InvokeRestApi and PublishMetrics. Option values are sensitive: they are
never logged.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

AIRFLOW_VERSIONS = ("2.7.2", "2.8.1", "2.9.2", "2.10.1", "2.10.3", "2.11.0", "3.0.6")
DEFAULT_AIRFLOW_VERSION = "2.10.3"
SERVICE_ROLE = "aws-service-role/airflow.amazonaws.com/AWSServiceRoleForAmazonMWAA"
# class -> (max workers limit, (min, max) schedulers, max web servers)
ENVIRONMENT_CLASSES: dict[str, tuple[int, tuple[int, int], int]] = {
    "mw1.micro": (1, (1, 1), 1),
    "mw1.small": (25, (2, 5), 5),
    "mw1.medium": (25, (2, 5), 5),
    "mw1.large": (25, (2, 5), 5),
    "mw1.xlarge": (25, (2, 5), 5),
    "mw1.2xlarge": (25, (2, 5), 5),
}
LOG_MODULES = {
    "DagProcessingLogs": "DAGProcessing",
    "SchedulerLogs": "Scheduler",
    "TaskLogs": "Task",
    "WebserverLogs": "WebServer",
    "WorkerLogs": "Worker",
}
_OPERATIONS = {
    ("PUT", "environment"): "CreateEnvironment",
    ("GET", "environment"): "GetEnvironment",
    ("PATCH", "environment"): "UpdateEnvironment",
    ("DELETE", "environment"): "DeleteEnvironment",
    ("GET", "environments"): "ListEnvironments",
    ("POST", "tags"): "TagResource",
    ("DELETE", "tags"): "UntagResource",
    ("GET", "tags"): "ListTagsForResource",
    ("POST", "clitoken"): "CreateCliToken",
    ("POST", "webtoken"): "CreateWebLoginToken",
}
_ERROR_STATUS = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}
# The service's answer to a network whose groups cannot talk to each other (a ValidationException from
# CreateEnvironment / UpdateEnvironment), as users quote it.
SECURITY_GROUP_MESSAGE = (
    "At least one of the security group needs to allow MWAA resources to talk to each other, "
    "otherwise MWAA cannot be provisioned."
)
log = logging.getLogger(__name__)


class MwaaError(Exception):
    """An MWAA API error: rendered with the model's HTTP status and `x-amzn-ErrorType`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> MwaaError:
    return MwaaError("ValidationException", message)


class ShapeValidator:
    """Checks request members against botocore's MWAA model, as the service's own input validation does."""

    def __init__(self) -> None:
        model = botocore.session.get_session().get_service_model("mwaa")
        self._model = model

    def validate(self, operation: str, params: dict[str, Any]) -> None:
        shape = self._model.operation_model(operation).input_shape
        self._check(shape, params, shape.name)

    def _check(self, shape: Any, value: Any, where: str) -> None:
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, dict):
                raise _invalid(f"{where} must be an object")
            for name in shape.required_members:
                if value.get(name) is None:
                    raise _invalid(
                        f"1 validation error detected: Value null at '{where}.{name}' failed to satisfy "
                        "constraint: "
                        "Member must not be null"
                    )
            for name, item in value.items():
                if name not in shape.members:
                    raise _invalid(f"Unknown member '{name}' in {where}")
                if item is not None:
                    self._check(shape.members[name], item, f"{where}.{name}")
        elif kind == "map":
            if not isinstance(value, dict):
                raise _invalid(f"{where} must be a map")
            self._length(shape, len(value), where)
            sensitive = bool(shape.value.metadata.get("sensitive"))
            for key, item in value.items():
                self._check(shape.key, key, f"{where} key '{key}'")
                # Sensitive values (configuration options) are named by their key only.
                self._check(shape.value, item, f"{where}['{key}']" + (" (value hidden)" if sensitive else ""))
        elif kind == "list":
            if not isinstance(value, list):
                raise _invalid(f"{where} must be a list")
            self._length(shape, len(value), where)
            for index, item in enumerate(value):
                self._check(shape.member, item, f"{where}[{index}]")
        elif kind == "string":
            if not isinstance(value, str):
                raise _invalid(f"{where} must be a string")
            self._length(shape, len(value), where)
            enum = shape.enum
            if enum and value not in enum:
                raise _invalid(
                    f"Value at '{where}' failed to satisfy constraint: Member must satisfy enum value set: "
                    f"{enum}"
                )
            pattern = shape.metadata.get("pattern")
            if pattern and not _full_match(pattern, value):
                shown = "" if shape.metadata.get("sensitive") else f" '{value}'"
                raise _invalid(
                    f"Value{shown} at '{where}' failed to satisfy constraint: "
                    f"Member must satisfy regular expression pattern: {pattern}"
                )
        elif kind in ("integer", "long"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise _invalid(f"{where} must be an integer")
            self._range(shape, value, where)
        elif kind == "boolean" and not isinstance(value, bool):
            raise _invalid(f"{where} must be a boolean")

    @staticmethod
    def _length(shape: Any, size: int, where: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and size < low:
            raise _invalid(
                f"Value at '{where}' failed to satisfy constraint: Member must have length >= {low}"
            )
        if high is not None and size > high:
            raise _invalid(
                f"Value at '{where}' failed to satisfy constraint: Member must have length <= {high}"
            )

    @staticmethod
    def _range(shape: Any, value: int, where: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            raise _invalid(
                f"Value at '{where}' failed to satisfy constraint: Member must have value >= {low}"
            )
        if high is not None and value > high:
            raise _invalid(
                f"Value at '{where}' failed to satisfy constraint: Member must have value <= {high}"
            )


def _full_match(pattern: str, value: str) -> bool:
    # The model's patterns are Java regexes; Python's re lacks \p{..}: map the classes tag patterns use.
    translated = pattern.replace(r"\p{L}", r"\w").replace(r"\p{Z}", r"\s").replace(r"\p{N}", r"\d")
    return re.fullmatch(translated, value) is not None


@dataclass
class Environment:
    """One environment's stored description plus its pending status transition."""

    data: dict[str, Any]
    status: str
    until: float = 0.0
    next_status: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    vpc_id: str | None = None  # of the subnets (not part of the API's description)


class MwaaState:
    """The environments of one emulated account, with status transitions driven by the clock on each read."""

    def __init__(
        self,
        aws_endpoint: str,
        region: str = "us-east-1",
        create_delay: float = 2.0,
        update_delay: float = 2.0,
        delete_delay: float = 2.0,
        check_resources: bool = True,
    ) -> None:
        self.aws_endpoint = aws_endpoint
        self.region = region
        self.delays = {"CREATING": create_delay, "UPDATING": update_delay, "DELETING": delete_delay}
        self.check_resources = check_resources
        self.environments: dict[str, Environment] = {}
        self.lock = threading.RLock()
        self.validator = ShapeValidator()
        self._account: str | None = None

    # -- moto lookups ----------------------------------------------------------------------------------------
    def client(self, service: str, region: str | None = None) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name=region or self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10),
        )

    def account(self) -> str:
        if self._account is None:
            self._account = self.client("sts").get_caller_identity()["Account"]
        return self._account

    # -- transitions -----------------------------------------------------------------------------------------
    def _settle(self, name: str) -> Environment | None:
        env = self.environments.get(name)
        if env is not None and env.status == "PENDING" and self._customer_endpoints_exist(env):
            env.status = "AVAILABLE"
            env.data["LastUpdate"]["Status"] = "SUCCESS"
        if env is None or env.next_status is None or time.monotonic() < env.until:
            return env
        if (
            env.next_status == "AVAILABLE"
            and env.status == "CREATING"
            and self._awaits_customer_endpoints(env)
        ):
            # Customer-managed endpoints: the service waits in PENDING until they exist (see the docstring).
            env.status, env.next_status = "PENDING", None
            return env
        if env.next_status == "DELETED":
            del self.environments[name]
            return None
        env.status, env.next_status = env.next_status, None
        env.data["LastUpdate"]["Status"] = "SUCCESS"
        return env

    def _awaits_customer_endpoints(self, env: Environment) -> bool:
        return self.check_resources and env.data.get("EndpointManagement") == "CUSTOMER"

    def _customer_endpoints_exist(self, env: Environment) -> bool:
        """Interface endpoints to the environment's database (and, for PRIVATE_ONLY, web server) services."""
        wanted = {env.data["DatabaseVpcEndpointService"]}
        if env.data.get("WebserverAccessMode") == "PRIVATE_ONLY":
            wanted.add(env.data["WebserverVpcEndpointService"])
        region = env.data["Arn"].split(":")[3]
        endpoints = self.client("ec2", region).describe_vpc_endpoints(
            Filters=[{"Name": "service-name", "Values": sorted(wanted)}]
        )["VpcEndpoints"]
        vpc = env.vpc_id
        found = {e["ServiceName"] for e in endpoints if e.get("VpcId") == vpc and e.get("State") != "deleted"}
        return wanted <= found

    def _begin(self, env: Environment, status: str, final: str) -> None:
        env.status, env.next_status = status, final
        env.until = time.monotonic() + self.delays[status]

    def get(self, name: str) -> Environment:
        env = self._settle(name)
        if env is None:
            raise MwaaError("ResourceNotFoundException", f"Environment {name} not found.")
        return env

    def names(self) -> list[str]:
        return sorted(n for n in list(self.environments) if self._settle(n) is not None)

    def by_arn(self, arn: str) -> Environment:
        for name in self.names():
            env = self.environments[name]
            if env.data["Arn"] == arn:
                return env
        raise MwaaError("ResourceNotFoundException", f"Resource {arn} not found.")

    def describe(self, env: Environment) -> dict[str, Any]:
        out = json.loads(json.dumps(env.data))
        out["Status"] = env.status
        out["Tags"] = dict(env.tags)
        return out

    def reset(self) -> None:
        with self.lock:
            self.environments.clear()


class Checks:
    """What the service verifies about the resources an environment refers to (through boto3 against moto)."""

    def __init__(self, state: MwaaState, region: str) -> None:
        self.state = state
        self.region = region

    def bucket(self, bucket_arn: str) -> str:
        bucket = bucket_arn.split(":::", 1)[1]
        s3 = self.state.client("s3", self.region)
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError as err:
            raise _invalid(
                f"Unable to access bucket {bucket}: it does not exist or the source bucket ARN is wrong."
            ) from err
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            raise _invalid(f"Bucket {bucket} must have versioning enabled.")
        try:
            block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except ClientError:
            block = {}
        if not block or not all(block.values()):
            raise _invalid(f"Bucket {bucket} must block all public access.")
        return bucket

    def role(self, role_arn: str) -> None:
        name = role_arn.rsplit("/", 1)[-1]
        try:
            self.state.client("iam").get_role(RoleName=name)
        except ClientError as err:
            raise _invalid(f"Unable to access the execution role {role_arn}: it does not exist.") from err

    def network(self, subnet_ids: list[str] | None, group_ids: list[str]) -> str | None:
        ec2 = self.state.client("ec2", self.region)
        vpc: str | None = None
        if subnet_ids is not None:
            if len(set(subnet_ids)) != 2:
                raise _invalid("NetworkConfiguration.SubnetIds must name exactly 2 different subnets.")
            try:
                subnets = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
            except ClientError as err:
                raise _invalid(f"Subnets {subnet_ids} not found: {_err_code(err)}") from err
            if len({s["AvailabilityZone"] for s in subnets}) != 2:
                raise _invalid("The two subnets must be in different Availability Zones.")
            vpcs = {s["VpcId"] for s in subnets}
            if len(vpcs) != 1:
                raise _invalid("The two subnets must be in the same VPC.")
            vpc = vpcs.pop()
        try:
            groups = ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"]
        except ClientError as err:
            raise _invalid(f"Security groups {group_ids} not found: {_err_code(err)}") from err
        if vpc and any(g["VpcId"] != vpc for g in groups):
            raise _invalid("The security groups must belong to the VPC of the subnets.")
        if not _groups_talk_to_each_other(groups):
            raise _invalid(SECURITY_GROUP_MESSAGE)
        if vpc is not None and subnet_ids is not None:
            self._routes(ec2, vpc, subnet_ids)
        return vpc

    @staticmethod
    def _routes(ec2: Any, vpc: str, subnet_ids: list[str]) -> None:
        # A subnet whose route table holds only the VPC's local route, in a VPC without endpoints, reaches
        # neither the AWS APIs MWAA needs (S3, Logs, SQS, ECR) nor anything else.
        if ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]:
            return
        main = ec2.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
        )["RouteTables"]
        for subnet in subnet_ids:
            tables = (
                ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])[
                    "RouteTables"
                ]
                or main
            )
            routes = [r for t in tables for r in t.get("Routes", [])]
            if not any(
                r.get("GatewayId") != "local" and r.get("State", "active") == "active" for r in routes
            ):
                raise _invalid(
                    f"Subnet {subnet} has no route out of the VPC (only the local route) and the VPC has no "
                    "VPC endpoints: MWAA cannot reach Amazon S3, CloudWatch, Amazon SQS or Amazon ECR. Add a "
                    "route to a NAT gateway, or the VPC endpoints for private routing."
                )

    def kms_key(self, key: str) -> None:
        try:
            self.state.client("kms", self.region).describe_key(KeyId=key)
        except ClientError as err:
            raise _invalid(f"KMS key {key} not found.") from err

    def object_version(self, bucket: str, what: str, key: str, version: str | None) -> str:
        s3 = self.state.client("s3", self.region)
        try:
            head = s3.head_object(Bucket=bucket, Key=key, **({"VersionId": version} if version else {}))
        except ClientError as err:
            shown = f"version {version} of " if version else ""
            raise _invalid(f"Unable to read {shown}{what} file s3://{bucket}/{key}.") from err
        return version or head.get("VersionId") or "null"


def _groups_talk_to_each_other(groups: list[dict[str, Any]]) -> bool:
    """At least one group admits traffic from one of the environment's groups (a self-referencing inbound
    rule) and the groups let traffic out (the provider strips a new group's default egress rule)."""
    ids = {g["GroupId"] for g in groups}
    inbound = any(
        pair.get("GroupId") in ids
        for g in groups
        for perm in g.get("IpPermissions", [])
        for pair in perm.get("UserIdGroupPairs", [])
    )
    outbound = any(g.get("IpPermissionsEgress") for g in groups)
    return inbound and outbound


def _err_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", "error"))


class MwaaApi:
    """The operations: request dicts in, response dicts out, MwaaError on failure."""

    def __init__(self, state: MwaaState) -> None:
        self.state = state

    # -- create / update helpers -----------------------------------------------------------------------------
    def _artifacts(self, checks: Checks, bucket: str, body: dict[str, Any], data: dict[str, Any]) -> None:
        # A path without a version means the object's latest version, which is resolved and reported back.
        for prefix, what in (
            ("Plugins", "plugins"),
            ("Requirements", "requirements"),
            ("StartupScript", "startup script"),
        ):
            path_key, version_key = f"{prefix}S3Path", f"{prefix}S3ObjectVersion"
            if path_key not in body and version_key not in body:
                continue
            path = body.get(path_key, data.get(path_key))
            version = body.get(version_key) or None
            if not path:
                data.pop(path_key, None)
                data.pop(version_key, None)
                continue
            data[path_key] = path
            if self.state.check_resources:
                data[version_key] = checks.object_version(bucket, what, path, version)
            else:
                data[version_key] = version or "null"

    @staticmethod
    def _logging(requested: dict[str, Any] | None, current: dict[str, Any], prefix: str) -> dict[str, Any]:
        out = dict(current)
        for module, suffix in LOG_MODULES.items():
            item = (requested or {}).get(module)
            if item is None:
                out.setdefault(module, {"Enabled": False, "LogLevel": "INFO"})
                continue
            entry: dict[str, Any] = {"Enabled": bool(item["Enabled"]), "LogLevel": item["LogLevel"]}
            if entry["Enabled"]:
                entry["CloudWatchLogGroupArn"] = f"{prefix}:log-group:airflow-{{name}}-{suffix}"
            out[module] = entry
        return out

    @staticmethod
    def _capacity(data: dict[str, Any]) -> None:
        klass = data["EnvironmentClass"]
        if klass not in ENVIRONMENT_CLASSES:
            raise _invalid(f"Invalid EnvironmentClass {klass}: use one of {sorted(ENVIRONMENT_CLASSES)}.")
        max_limit, (sched_low, sched_high), web_limit = ENVIRONMENT_CLASSES[klass]
        if not 1 <= data["MinWorkers"] <= data["MaxWorkers"] <= max_limit:
            raise _invalid(
                f"MinWorkers ({data['MinWorkers']}) and MaxWorkers ({data['MaxWorkers']}) must satisfy "
                f"1 <= MinWorkers <= MaxWorkers <= {max_limit} for {klass}."
            )
        if not sched_low <= data["Schedulers"] <= sched_high:
            raise _invalid(
                f"Schedulers must be between {sched_low} and {sched_high} for {klass}, "
                f"got {data['Schedulers']}."
            )
        if not 1 <= data["MinWebservers"] <= data["MaxWebservers"] <= web_limit:
            raise _invalid(
                f"MinWebservers and MaxWebservers must satisfy "
                f"1 <= MinWebservers <= MaxWebservers <= {web_limit} for {klass}."
            )

    @staticmethod
    def _version(requested: str, current: str | None) -> None:
        if requested not in AIRFLOW_VERSIONS:
            raise _invalid(
                f"Invalid AirflowVersion {requested}: supported versions are {', '.join(AIRFLOW_VERSIONS)}."
            )
        if current is not None and requested != current:
            new, old = [tuple(int(p) for p in v.split(".")) for v in (requested, current)]
            if new < old or new[0] != old[0]:
                raise _invalid(
                    f"Cannot change AirflowVersion from {current} to {requested}: "
                    "only minor upgrades are supported."
                )

    # -- operations ------------------------------------------------------------------------------------------
    def create(self, name: str, body: dict[str, Any], region: str) -> dict[str, Any]:
        state = self.state
        state.validator.validate("CreateEnvironment", {"Name": name, **body})
        checks = Checks(state, region)
        with state.lock:
            if state._settle(name) is not None:
                raise _invalid(f"Environment {name} already exists.")
        version = body.get("AirflowVersion", DEFAULT_AIRFLOW_VERSION)
        self._version(version, None)
        klass = body.get("EnvironmentClass", "mw1.small")
        micro = klass == "mw1.micro"
        network = body["NetworkConfiguration"]
        if "SubnetIds" not in network or "SecurityGroupIds" not in network:
            raise _invalid("NetworkConfiguration needs SubnetIds and SecurityGroupIds.")
        account = state.account()
        prefix = f"arn:aws:logs:{region}:{account}"
        data: dict[str, Any] = {
            "Name": name,
            "Arn": f"arn:aws:airflow:{region}:{account}:environment/{name}",
            "CreatedAt": time.time(),
            "AirflowVersion": version,
            "EnvironmentClass": klass,
            "ExecutionRoleArn": body["ExecutionRoleArn"],
            "ServiceRoleArn": f"arn:aws:iam::{account}:role/{SERVICE_ROLE}",
            "SourceBucketArn": body["SourceBucketArn"],
            "DagS3Path": body["DagS3Path"],
            "NetworkConfiguration": {
                "SubnetIds": list(network["SubnetIds"]),
                "SecurityGroupIds": list(network["SecurityGroupIds"]),
            },
            "AirflowConfigurationOptions": dict(body.get("AirflowConfigurationOptions", {})),
            "MaxWorkers": body.get("MaxWorkers", 1 if micro else 10),
            "MinWorkers": body.get("MinWorkers", 1),
            "Schedulers": body.get("Schedulers", 1 if micro else 2),
            "MaxWebservers": body.get("MaxWebservers", 1 if micro else 2),
            "MinWebservers": body.get("MinWebservers", 1 if micro else 2),
            "WebserverAccessMode": body.get("WebserverAccessMode", "PRIVATE_ONLY"),
            "EndpointManagement": body.get("EndpointManagement", "SERVICE"),
            "WeeklyMaintenanceWindowStart": body.get("WeeklyMaintenanceWindowStart", "SUN:03:30"),
            "WebserverUrl": f"{uuid.uuid4()}-vpce.c10.{region}.airflow.amazonaws.com",
            "WebserverVpcEndpointService": _vpce(region),
            "DatabaseVpcEndpointService": _vpce(region),
            "CeleryExecutorQueue": f"arn:aws:sqs:{region}:{account}:airflow-celery-{uuid.uuid4()}",
            "LastUpdate": {
                "Status": "PENDING",
                "CreatedAt": time.time(),
                "Source": "API",
                "WorkerReplacementStrategy": "FORCED",
            },
        }
        if "KmsKey" in body:
            data["KmsKey"] = body["KmsKey"]
        self._capacity(data)
        data["LoggingConfiguration"] = self._logging(body.get("LoggingConfiguration"), {}, prefix)
        if state.check_resources:
            bucket = checks.bucket(body["SourceBucketArn"])
            checks.role(body["ExecutionRoleArn"])
            vpc = checks.network(network["SubnetIds"], network["SecurityGroupIds"])
            if "KmsKey" in body:
                checks.kms_key(body["KmsKey"])
        else:
            vpc = None
            bucket = body["SourceBucketArn"].split(":::", 1)[1]
        self._artifacts(checks, bucket, body, data)
        _name_log_groups(data, name)
        with state.lock:
            if state._settle(name) is not None:
                raise _invalid(f"Environment {name} already exists.")
            env = Environment(data=data, status="CREATING", tags=dict(body.get("Tags", {})), vpc_id=vpc)
            state._begin(env, "CREATING", "AVAILABLE")
            state.environments[name] = env
        return {"Arn": data["Arn"]}

    def update(self, name: str, body: dict[str, Any], region: str) -> dict[str, Any]:
        state = self.state
        state.validator.validate("UpdateEnvironment", {"Name": name, **body})
        with state.lock:
            env = state.get(name)
            if env.status not in ("AVAILABLE", "UPDATE_FAILED"):
                raise _invalid(
                    f"Environment {name} is {env.status}: updates are only allowed when it is AVAILABLE."
                )
            data = json.loads(json.dumps(env.data))
        checks = Checks(state, region)
        if "AirflowVersion" in body:
            self._version(body["AirflowVersion"], data["AirflowVersion"])
        plain = (
            "AirflowVersion",
            "DagS3Path",
            "EnvironmentClass",
            "ExecutionRoleArn",
            "MaxWorkers",
            "MinWorkers",
            "MaxWebservers",
            "MinWebservers",
            "Schedulers",
            "SourceBucketArn",
            "WebserverAccessMode",
            "WeeklyMaintenanceWindowStart",
        )
        for key in plain:
            if key in body:
                data[key] = body[key]
        if "AirflowConfigurationOptions" in body:
            data["AirflowConfigurationOptions"] = dict(body["AirflowConfigurationOptions"])
        self._capacity(data)
        bucket = data["SourceBucketArn"].split(":::", 1)[1]
        if state.check_resources:
            if "SourceBucketArn" in body:
                checks.bucket(body["SourceBucketArn"])
            if "ExecutionRoleArn" in body:
                checks.role(body["ExecutionRoleArn"])
            if "NetworkConfiguration" in body:
                checks.network(None, body["NetworkConfiguration"]["SecurityGroupIds"])
        if "NetworkConfiguration" in body:
            data["NetworkConfiguration"]["SecurityGroupIds"] = list(
                body["NetworkConfiguration"]["SecurityGroupIds"]
            )
        self._artifacts(checks, bucket, body, data)
        if "LoggingConfiguration" in body:
            prefix = f"arn:aws:logs:{region}:{state.account()}"
            data["LoggingConfiguration"] = self._logging(
                body["LoggingConfiguration"], data["LoggingConfiguration"], prefix
            )
            _name_log_groups(data, name)
        data["LastUpdate"] = {
            "Status": "PENDING",
            "CreatedAt": time.time(),
            "Source": "API",
            "WorkerReplacementStrategy": body.get("WorkerReplacementStrategy", "FORCED"),
        }
        with state.lock:
            env = state.get(name)
            if env.status not in ("AVAILABLE", "UPDATE_FAILED"):
                raise _invalid(
                    f"Environment {name} is {env.status}: updates are only allowed when it is AVAILABLE."
                )
            env.data = data
            state._begin(env, "UPDATING", "AVAILABLE")
        return {"Arn": data["Arn"]}

    def get(self, name: str) -> dict[str, Any]:
        self.state.validator.validate("GetEnvironment", {"Name": name})
        with self.state.lock:
            return {"Environment": self.state.describe(self.state.get(name))}

    def delete(self, name: str) -> dict[str, Any]:
        self.state.validator.validate("DeleteEnvironment", {"Name": name})
        with self.state.lock:
            env = self.state.get(name)
            if env.status in ("CREATING", "UPDATING", "DELETING"):
                raise _invalid(f"Environment {name} is {env.status} and cannot be deleted now.")
            self.state._begin(env, "DELETING", "DELETED")
        return {}

    def list(self, max_results: int, token: str | None) -> dict[str, Any]:
        if not 1 <= max_results <= 25:
            raise _invalid("MaxResults must be between 1 and 25.")
        with self.state.lock:
            names = self.state.names()
        start = 0
        if token:
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode())
            except ValueError as err:
                raise _invalid("Invalid NextToken.") from err
        page = names[start : start + max_results]
        out: dict[str, Any] = {"Environments": page}
        if start + max_results < len(names):
            out["NextToken"] = base64.urlsafe_b64encode(str(start + max_results).encode()).decode()
        return out

    def tag(self, arn: str, tags: dict[str, str]) -> dict[str, Any]:
        self.state.validator.validate("TagResource", {"ResourceArn": arn, "Tags": tags})
        with self.state.lock:
            env = self.state.by_arn(arn)
            if len({**env.tags, **tags}) > 50:
                raise _invalid("An environment can carry at most 50 tags.")
            env.tags.update(tags)
        return {}

    def untag(self, arn: str, keys: list[str]) -> dict[str, Any]:
        self.state.validator.validate("UntagResource", {"ResourceArn": arn, "tagKeys": keys})
        with self.state.lock:
            env = self.state.by_arn(arn)
            for key in keys:
                env.tags.pop(key, None)
        return {}

    def list_tags(self, arn: str) -> dict[str, Any]:
        with self.state.lock:
            return {"Tags": dict(self.state.by_arn(arn).tags)}

    def token(self, name: str, kind: str) -> dict[str, Any]:
        with self.state.lock:
            env = self.state.get(name)
            host = env.data["WebserverUrl"]
            arn = env.data["ExecutionRoleArn"]
        token = secrets.token_urlsafe(32)
        if kind == "cli":
            return {"CliToken": token, "WebServerHostname": host}
        return {"WebToken": token, "WebServerHostname": host, "IamIdentity": arn, "AirflowIdentity": "admin"}


def _vpce(region: str) -> str:
    return f"com.amazonaws.vpce.{region}.vpce-svc-{secrets.token_hex(9)[:17]}"


def _name_log_groups(data: dict[str, Any], name: str) -> None:
    for entry in data["LoggingConfiguration"].values():
        if "CloudWatchLogGroupArn" in entry:
            entry["CloudWatchLogGroupArn"] = entry["CloudWatchLogGroupArn"].replace("{name}", name)


class _QuietHandler(WSGIRequestHandler):
    """No per-request access log: test output stays readable (errors still reach the `log` logger)."""

    def log_request(self, *_args: Any, **_kwargs: Any) -> None:
        return


_REGION_IN_AUTH = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/airflow/")


class MwaaEmulator:
    """The WSGI app and its server thread. Use as a context manager or call start()/stop()."""

    def __init__(
        self, aws_endpoint: str, host: str = "127.0.0.1", port: int = 0, **state_options: Any
    ) -> None:
        self.state = MwaaState(aws_endpoint, **state_options)
        self.api = MwaaApi(self.state)
        self.host, self.port = host, port
        self.requests: list[
            tuple[str, str]
        ] = []  # (operation, environment name or ARN): no bodies, no values
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = Map(
            [
                Rule("/environments", endpoint="environments"),
                Rule("/environments/<name>", endpoint="environment"),
                Rule("/tags/<path:arn>", endpoint="tags"),
                Rule("/clitoken/<name>", endpoint="clitoken"),
                Rule("/webtoken/<name>", endpoint="webtoken"),
                Rule("/mwaa-emulator/reset", endpoint="reset", methods=["POST"]),
            ],
            strict_slashes=False,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MwaaEmulator:
        self._server = make_server(
            self.host, self.port, self.wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="mwaa-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> MwaaEmulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except MwaaError as err:
            response = _json({"message": err.message}, _ERROR_STATUS[err.code], err.code)
        except NotFound:
            response = _json(
                {"message": f"No MWAA operation at {request.method} {request.path}"},
                404,
                "UnknownOperationException",
            )
        except HTTPException as err:
            response = _json({"message": err.description or str(err)}, err.code or 400, "ValidationException")
        except Exception:  # an emulator bug must surface as a 500, never as a hang
            log.exception("MWAA emulator failed on %s %s", request.method, request.path)
            response = _json(
                {"message": "internal error in the MWAA emulator"}, 500, "InternalServerException"
            )
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        adapter = self._routes.bind_to_environ(request.environ)
        endpoint, args = adapter.match()
        if endpoint == "reset":
            self.state.reset()
            return _json({}, 200)
        operation = _OPERATIONS.get((request.method, endpoint))
        if operation is None:
            raise MwaaError("ValidationException", f"{request.method} is not allowed on {request.path}")
        self.requests.append((operation, args.get("name") or args.get("arn", "")))
        match = _REGION_IN_AUTH.search(request.headers.get("Authorization", ""))
        region = match.group(1) if match else self.state.region
        body = self._body(request) if request.method in ("PUT", "PATCH", "POST") else {}
        api = self.api
        if operation == "CreateEnvironment":
            return _json(api.create(args["name"], body, region))
        if operation == "UpdateEnvironment":
            return _json(api.update(args["name"], body, region))
        if operation == "GetEnvironment":
            return _json(api.get(args["name"]))
        if operation == "DeleteEnvironment":
            return _json(api.delete(args["name"]))
        if operation == "ListEnvironments":
            try:
                max_results = int(request.args.get("MaxResults", "25"))
            except ValueError as err:
                raise _invalid("MaxResults must be an integer.") from err
            return _json(api.list(max_results, request.args.get("NextToken")))
        if operation == "TagResource":
            return _json(api.tag(args["arn"], body.get("Tags", {})))
        if operation == "UntagResource":
            return _json(api.untag(args["arn"], request.args.getlist("tagKeys")))
        if operation == "ListTagsForResource":
            return _json(api.list_tags(args["arn"]))
        return _json(api.token(args["name"], "cli" if operation == "CreateCliToken" else "web"))

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        raw = request.get_data(as_text=True)
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as err:
            raise _invalid(f"Request body is not valid JSON: {err.msg}") from err
        if not isinstance(body, dict):
            raise _invalid("Request body must be a JSON object.")
        return body


def _json(payload: dict[str, Any], status: int = 200, error: str | None = None) -> Response:
    response = Response(json.dumps(payload, default=_default), status=status, mimetype="application/json")
    response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    if error:
        response.headers["x-amzn-ErrorType"] = error
    return response


def _default(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    raise TypeError(f"cannot encode {type(value).__name__}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the MWAA control-plane emulator on loopback.")
    parser.add_argument("--aws-endpoint", required=True, help="moto server URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--port", type=int, default=0, help="port to bind on 127.0.0.1 (0 = a free port)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument(
        "--delay", type=float, default=2.0, help="seconds spent in CREATING / UPDATING / DELETING"
    )
    args = parser.parse_args()
    emulator = MwaaEmulator(
        args.aws_endpoint,
        port=args.port,
        region=args.region,
        create_delay=args.delay,
        update_delay=args.delay,
        delete_delay=args.delay,
    )
    emulator.start()
    print(emulator.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
