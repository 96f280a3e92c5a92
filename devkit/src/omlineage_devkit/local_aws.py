"""A loopback AWS for applies: moto server (omlineage_devkit/terraform.py) + the MWAA emulator in front of it.

`LocalAws` starts both, writes the provider override that routes Terraform's AWS provider to them, hands out
boto3 clients (MWAA's without the `api.` host prefix), and snapshots what exists so a test can prove that
destroy left nothing behind.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from omlineage_devkit.emulators.mwaa import MwaaEmulator
from omlineage_devkit.terraform import FAKE_REGION, MotoServer, write_provider_override

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
MOTO_LAUNCHER = "omlineage_devkit.emulators.moto_server"  # run as `python -m` (this venv has the kit)


def moto_with_request_context() -> MotoServer:
    """terraform.MotoServer running emulators/moto_server.py (bucket policies see TLS requests)."""
    wrapper = Path(tempfile.mkdtemp(prefix="moto-launcher-")) / "moto_server"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {MOTO_LAUNCHER} "$@"\n')
    wrapper.chmod(0o755)
    return MotoServer(binary=wrapper)


class LocalAws:
    """moto + MWAA emulator on 127.0.0.1 free ports. Use as a context manager, or start()/stop()."""

    def __init__(self, region: str = FAKE_REGION, delay: float = 1.0, moto: MotoServer | None = None) -> None:
        self.region = region
        self._own_moto = moto is None  # a shared (session) moto server is left running on stop()
        self.moto = moto or moto_with_request_context()
        self.delay = delay
        self.mwaa_emulator: MwaaEmulator | None = None

    def start(self) -> LocalAws:
        if self._own_moto:
            self.moto.start()
        self.mwaa_emulator = MwaaEmulator(
            self.moto.endpoint,
            region=self.region,
            create_delay=self.delay,
            update_delay=self.delay,
            delete_delay=self.delay,
        ).start()
        return self

    def stop(self) -> None:
        if self.mwaa_emulator is not None:
            self.mwaa_emulator.stop()
            self.mwaa_emulator = None
        if self._own_moto:
            self.moto.stop()

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        return self.moto.endpoint

    @property
    def mwaa_url(self) -> str:
        assert self.mwaa_emulator is not None, "LocalAws not started"
        return self.mwaa_emulator.url

    def client(self, service: str) -> Any:
        if service == "mwaa":
            # The SDK would call api.127.0.0.1, which does not resolve: talk to the emulator directly.
            config = Config(inject_host_prefix=False, retries={"max_attempts": 1})
            return boto3.client(
                "mwaa", endpoint_url=self.mwaa_url, region_name=self.region, config=config, **CREDENTIALS
            )
        config = Config(retries={"max_attempts": 1})
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=self.region, config=config, **CREDENTIALS
        )

    def write_override(self, directory: Path) -> Path:
        """The AWS provider against moto; MWAA's `api.` host goes through the emulator as HTTP proxy."""
        return write_provider_override(directory, self.endpoint, region=self.region, mwaa_proxy=self.mwaa_url)

    def reset(self) -> None:
        self.moto.reset()
        if self.mwaa_emulator is not None:
            self.mwaa_emulator.state.reset()

    def inventory(self) -> dict[str, list[str]]:
        """Everything a module apply could leave behind, by kind (compare before apply / after destroy)."""
        s3, iam, ec2 = self.client("s3"), self.client("iam"), self.client("ec2")
        kms, sm, logs = self.client("kms"), self.client("secretsmanager"), self.client("logs")
        live_keys = [
            k["KeyId"]
            for k in kms.list_keys()["Keys"]
            if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"]
            not in ("PendingDeletion", "Disabled")
        ]
        return {
            "mwaa": sorted(self.client("mwaa").list_environments()["Environments"]),
            "buckets": sorted(b["Name"] for b in s3.list_buckets().get("Buckets", [])),
            "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
            "policies": sorted(p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]),
            "vpcs": sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]),
            "subnets": sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]),
            "security_groups": sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]),
            "nat_gateways": sorted(
                n["NatGatewayId"]
                for n in ec2.describe_nat_gateways()["NatGateways"]
                if n["State"] != "deleted"
            ),
            "eips": sorted(a.get("AllocationId", "") for a in ec2.describe_addresses()["Addresses"]),
            "vpc_endpoints": sorted(
                e["VpcEndpointId"]
                for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
                if e.get("State") not in ("deleted", "deleting")
            ),
            "kms_keys": sorted(live_keys),
            "secrets": sorted(s["Name"] for s in sm.list_secrets()["SecretList"]),
            "log_groups": sorted(g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]),
        }


def routed_network(
    ec2: Any, cidr_prefix: str = "10.60", azs: str = "ab", route_out: bool = True
) -> dict[str, Any]:
    """A VPC as a caller brings it to the module: private subnets `<prefix>.<1..n>.0/24`, one per letter of
    `azs` (us-east-1<letter>), routed through a NAT gateway (in a public subnet behind an internet gateway).
    The MWAA emulator refuses subnets without any route out: `route_out=False` gives exactly that (the VPC
    and its subnets, only the local route). Returns vpc_id, subnet_ids and every id for
    `delete_routed_network`."""
    vpc = ec2.create_vpc(CidrBlock=f"{cidr_prefix}.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr_prefix}.{i}.0/24", AvailabilityZone=f"us-east-1{az}")[
            "Subnet"
        ]["SubnetId"]
        for i, az in enumerate(azs, start=1)
    ]
    if not route_out:
        return {"vpc_id": vpc, "subnet_ids": subnets}
    public = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr_prefix}.100.0/24", AvailabilityZone="us-east-1a")[
        "Subnet"
    ]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    associations = [
        ec2.associate_route_table(RouteTableId=table, SubnetId=s)["AssociationId"] for s in subnets
    ]
    return {
        "vpc_id": vpc,
        "subnet_ids": subnets,
        "public_subnet_id": public,
        "igw": igw,
        "eip": eip,
        "nat": nat,
        "route_table": table,
        "associations": associations,
    }


def delete_routed_network(ec2: Any, network: dict[str, Any]) -> None:
    for association in network["associations"]:
        ec2.disassociate_route_table(AssociationId=association)
    ec2.delete_route_table(RouteTableId=network["route_table"])
    ec2.delete_nat_gateway(NatGatewayId=network["nat"])
    ec2.release_address(AllocationId=network["eip"])
    ec2.detach_internet_gateway(InternetGatewayId=network["igw"], VpcId=network["vpc_id"])
    ec2.delete_internet_gateway(InternetGatewayId=network["igw"])
    for subnet in [*network["subnet_ids"], network["public_subnet_id"]]:
        ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=network["vpc_id"])
