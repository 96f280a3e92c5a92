"""Google: service-account JSON (inline, path, `%%`, base64), the JWT-bearer assertion, ID token expiry."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from airflow_openmetadata_lineage.auth.base import AuthError
from airflow_openmetadata_lineage.auth.google import GoogleProvider, default_audience, service_account_info
from auth_testserver import TokenServer, make_config

SA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SA_PEM = SA_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
ID_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def server() -> Iterator[TokenServer]:
    s = TokenServer()
    s.answer = {
        "id_token": jwt.encode({"exp": int(time.time()) + 1800, "aud": "x"}, ID_KEY, algorithm="RS256")
    }
    yield s
    s.stop()


def sa_json(token_uri: str) -> dict[str, str]:
    return {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "kid1",
        "private_key": SA_PEM,
        "client_email": "lineage@p.iam.gserviceaccount.com",
        "client_id": "123",
        "token_uri": token_uri,
    }


def check_request(server: TokenServer, audience: str) -> None:
    (req,) = server.requests
    assert req["path"] == "/token"
    assert req["form"]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        req["form"]["assertion"], SA_KEY.public_key(), algorithms=["RS256"], options={"verify_aud": False}
    )
    assert claims["iss"] == "lineage@p.iam.gserviceaccount.com"
    assert claims["target_audience"] == audience


def test_inline_json_with_percent_escaping(server: TokenServer) -> None:
    info = sa_json(server.url + "/token")
    info["project_id"] = "100%-lineage"
    raw = json.dumps(info).replace("%", "%%")  # as written per the seed: `%` doubled
    provider = GoogleProvider(make_config("google", secret_key=raw, audience="https://om.example"))
    token = provider.token()
    assert token == server.answer["id_token"]
    assert provider._token is not None and abs(provider._token.expires_at - time.time() - 1800) < 5
    check_request(server, "https://om.example")


def test_path_and_default_audience(server: TokenServer, tmp_path: Path) -> None:
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(sa_json(server.url + "/token")))
    GoogleProvider(make_config("google", secret_key=str(path))).token()
    check_request(server, "http://openmetadata.example:8585")  # origin of openmetadata_api_endpoint


def test_base64_form(server: TokenServer) -> None:
    raw = "base64:" + base64.b64encode(json.dumps(sa_json(server.url + "/token"), indent=2).encode()).decode()
    assert GoogleProvider(make_config("google", secret_key=raw, audience="aud")).token()
    check_request(server, "aud")


def test_json_with_real_newlines_in_key_is_accepted() -> None:
    text = json.dumps(sa_json("http://127.0.0.1:1/token")).replace("\\n", "\n")
    assert service_account_info(text)["private_key"] == SA_PEM


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/no/such/file.json", "neither service-account JSON nor a path"),
        ('{"type": "service_account", "private_key": "SECRETPEM"', "not valid JSON"),
        ('{"private_key": "SECRETPEM"}', "lacks client_email, token_uri"),
    ],
)
def test_bad_secret_key_is_named_not_quoted(value: str, message: str) -> None:
    with pytest.raises(AuthError, match=message) as info:
        service_account_info(value)
    assert str(info.value).startswith("google: [lineage] secret_key")
    assert "SECRETPEM" not in str(info.value)


def test_refused_assertion_does_not_leak_the_key(server: TokenServer) -> None:
    server.status = 400
    server.answer = {"error": "invalid_grant", "error_description": f"bad key {SA_PEM.splitlines()[1]}"}
    with pytest.raises(AuthError, match=r"google: ID token request to .* failed") as info:
        GoogleProvider(make_config("google", secret_key=json.dumps(sa_json(server.url + "/token")))).token()
    assert SA_PEM.splitlines()[1] not in str(info.value)


@pytest.mark.parametrize(
    ("status", "answer"), [(503, {"error": "x"}), (400, {"error": "temporarily_unavailable"})]
)
def test_no_retry_on_server_errors(server: TokenServer, status: int, answer: dict[str, str]) -> None:
    server.status, server.answer = status, answer
    start = time.monotonic()
    with pytest.raises(AuthError, match=f"google: token endpoint .* answered {status}"):
        GoogleProvider(make_config("google", secret_key=json.dumps(sa_json(server.url + "/token")))).token()
    assert len(server.requests) == 1 and time.monotonic() - start < 1  # google-auth alone would back off


def test_default_audience() -> None:
    assert default_audience("https://om.acme.com:8585/api") == "https://om.acme.com:8585"
    assert default_audience(None) is None
