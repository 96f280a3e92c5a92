"""aws-secretsmanager: references, resolved by real boto3 against a moto server on loopback (driver venv)."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from omlineage_devkit.ports import free_port as _free_port

from airflow_openmetadata_lineage import secret_refs
from airflow_openmetadata_lineage.config import ConfigError, load_config, mapping_getter
from conftest import VENVS, need

BASE = {"airflow_service_name": "MWAA", "openmetadata_api_endpoint": "http://om:8585/api"}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = need(VENVS / "driver" / "bin" / "moto_server", "moto_server (driver venv)")
    port = _free_port()
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("moto_server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch):  # -> boto3 secretsmanager client
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    return boto3.client("secretsmanager", endpoint_url=moto_url, region_name="eu-west-1")


def test_parse_reference() -> None:
    assert secret_refs.parse_reference("aws-secretsmanager:om/jwt") == ("om/jwt", None)
    reference = "aws-secretsmanager:om/sso#client_secret"
    assert secret_refs.parse_reference(reference) == ("om/sso", "client_secret")
    with pytest.raises(secret_refs.SecretError, match="must be followed by a secret name"):
        secret_refs.parse_reference("aws-secretsmanager:")
    with pytest.raises(secret_refs.SecretError, match="field name after '#' is empty"):
        secret_refs.parse_reference("aws-secretsmanager:x#")


def test_region_from_arn() -> None:
    arn = "arn:aws:secretsmanager:us-east-2:123456789012:secret:om/jwt-AbCdEf"
    assert secret_refs.region_of(arn) == "us-east-2"
    assert secret_refs.region_of("om/jwt") is None


def test_whole_secret_used_verbatim(aws, caplog: pytest.LogCaptureFixture) -> None:
    token = "eyJ.tok%%en.with%%percent"
    aws.create_secret(Name="om/jwt-verbatim", SecretString=token)
    caplog.set_level(logging.DEBUG)
    config = load_config(
        mapping_getter(
            {**BASE, "auth_provider_type": "jwt", "jwt_token": "aws-secretsmanager:om/jwt-verbatim"}
        )
    )
    assert config.options["jwt_token"] == token  # no %% un-doubling for secret values
    assert token not in caplog.text


def test_json_field_and_arn(aws) -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n"
    arn = aws.create_secret(
        Name="om/sso", SecretString=json.dumps({"client_secret": "cs", "private_key": pem})
    )["ARN"]
    options = {
        **BASE,
        "auth_provider_type": "custom-oidc",
        "client_id": "c",
        "token_endpoint": "https://idp/token",
        "secret_key": f"aws-secretsmanager:{arn}#client_secret",
        "private_key": "aws-secretsmanager:om/sso#private_key",
    }
    config = load_config(mapping_getter(options))
    assert config.options["secret_key"] == "cs"
    assert config.options["private_key"] == pem


@pytest.mark.parametrize(
    "reference, says",
    [
        (
            "aws-secretsmanager:om/does-not-exist",
            "om/does-not-exist could not be read: ResourceNotFoundException",
        ),
        ("aws-secretsmanager:om/plain#field", "om/plain is not JSON"),
        ("aws-secretsmanager:om/json#nope", "om/json has no field 'nope'"),
    ],
)
def test_errors_name_key_and_secret_never_value(aws, reference: str, says: str) -> None:
    aws.create_secret(Name="om/plain", SecretString="plain-secret-value") if "plain" in reference else None
    aws.create_secret(
        Name="om/json", SecretString='{"x": "json-secret-value"}'
    ) if "json" in reference else None
    with pytest.raises(ConfigError) as info:
        load_config(mapping_getter({**BASE, "auth_provider_type": "jwt", "jwt_token": reference}))
    assert info.value.key == "jwt_token"
    assert str(info.value).startswith("[lineage] jwt_token: secret ")
    assert says in str(info.value)
    assert "secret-value" not in str(info.value)
    assert (info.value.__cause__ is None and info.value.__context__ is None) or "secret-value" not in repr(
        info.value.__context__
    )


def test_resolved_once_per_process(aws, moto_url: str) -> None:
    aws.create_secret(Name="om/cached", SecretString="v1")
    assert secret_refs.resolve("aws-secretsmanager:om/cached") == "v1"
    aws.put_secret_value(SecretId="om/cached", SecretString="v2")
    assert secret_refs.resolve("aws-secretsmanager:om/cached") == "v1"  # cached for the process
    secret_refs.clear_cache()
    assert secret_refs.resolve("aws-secretsmanager:om/cached") == "v2"


def test_unreachable_endpoint_is_a_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"\[lineage\] jwt_token: secret om/x could not be read"):
        load_config(
            mapping_getter({**BASE, "auth_provider_type": "jwt", "jwt_token": "aws-secretsmanager:om/x"})
        )
    assert time.monotonic() - started < 10


def test_secret_lookups_stay_within_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """An endpoint that accepts connections and never answers: resolving stops at time_budget, not per-key
    timeouts (two references here, timeout 5 s each)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{silent.getsockname()[1]}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        options = {
            **BASE,
            "time_budget": "0.8",
            "auth_provider_type": "auth0",
            "client_id": "aws-secretsmanager:om/a#id",
            "secret_key": "aws-secretsmanager:om/a#secret",
            "domain": "tenant.auth0.com",
        }
        started = time.monotonic()
        with pytest.raises(ConfigError) as info:
            load_config(mapping_getter(options))
        took = time.monotonic() - started
    assert info.value.key in ("client_id", "secret_key")
    assert took < 0.8 + 0.7, took
