"""SSO secrets kept in AWS Secrets Manager (moto server on loopback), referenced as `aws-secretsmanager:…`:
the PEM arrives with its real newlines, a JSON field is picked, OpenMetadata accepts the resulting tokens."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import boto3
import pytest

from omlineage_devkit.emulators.identity import IdentityServers
from omlineage_devkit.openmetadata import OpenMetadataEmulator
from omlineage_devkit.sso import lineage_options, make_client
from omlineage_devkit.terraform import MotoServer


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def aws_env(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> boto3.client:
    for key, value in {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(key, value)
    return boto3.client("secretsmanager", endpoint_url=moto.endpoint, region_name="eu-west-1")


def test_okta_pem_and_azure_field_from_secrets_manager(
    aws_env: boto3.client, idp: IdentityServers, om_sso: OpenMetadataEmulator
) -> None:
    name = f"lineage/okta-pem-{time.monotonic_ns()}"
    arn = aws_env.create_secret(Name=name, SecretString=idp.options("okta")["private_key"])["ARN"]
    raw = lineage_options(idp, "okta", om_sso, private_key=f"aws-secretsmanager:{arn}")
    _, _, client = make_client(raw)
    assert client.get("/v1/users/loggedInUser", time.monotonic() + 10)["name"]
    assert idp.realms["okta"].token_requests == 1

    name = f"lineage/azure-{time.monotonic_ns()}"
    aws_env.create_secret(
        Name=name, SecretString=json.dumps({"client_secret": idp.options("azure")["client_secret"]})
    )
    raw = lineage_options(idp, "azure", om_sso, client_secret=f"aws-secretsmanager:{name}#client_secret")
    _, _, client = make_client(raw)
    assert client.get("/v1/users/loggedInUser", time.monotonic() + 10)["name"]
    assert idp.realms["azure"].token_requests == 1
