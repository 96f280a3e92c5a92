"""Okta: token endpoint from org_url, the private-key JWT client assertion, the one-line PEM forms."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from airflow_openmetadata_lineage.auth.base import AuthError
from airflow_openmetadata_lineage.auth.okta import OktaProvider, token_endpoint
from auth_testserver import TokenServer, make_config

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()


@pytest.fixture
def server() -> Iterator[TokenServer]:
    s = TokenServer()
    yield s
    s.stop()


@pytest.mark.parametrize(
    ("org_url", "endpoint"),
    [
        ("https://acme.okta.com", "https://acme.okta.com/oauth2/default/v1/token"),
        ("https://acme.okta.com/", "https://acme.okta.com/oauth2/default/v1/token"),
        ("https://acme.okta.com/oauth2/aus1a2b3", "https://acme.okta.com/oauth2/aus1a2b3/v1/token"),
        ("https://acme.okta.com/oauth2/v1", "https://acme.okta.com/oauth2/v1/token"),
        ("https://acme.okta.com/oauth2/default/v1/token", "https://acme.okta.com/oauth2/default/v1/token"),
    ],
)
def test_token_endpoint(org_url: str, endpoint: str) -> None:
    assert token_endpoint(org_url) == endpoint


def okta(server: TokenServer, private_key: str) -> OktaProvider:
    return OktaProvider(
        make_config(
            "okta",
            client_id="0oa123",
            org_url=server.url,
            private_key=private_key,
            email="bot@example.com",
            scopes="[openmetadata, lineage]",
        )
    )


@pytest.mark.parametrize(
    "form",
    [
        PEM,
        PEM.replace("\n", "\\n"),  # one line with literal \n, as MWAA needs
        "base64:" + base64.b64encode(PEM.encode()).decode(),
    ],
    ids=["pem", "escaped-newlines", "base64"],
)
def test_client_assertion(server: TokenServer, form: str) -> None:
    provider = okta(server, form)
    assert provider.token() == "tok-1"
    provider.invalidate()
    provider.token()
    first, second = (r["form"] for r in server.requests)
    assert server.requests[0]["path"] == "/oauth2/default/v1/token"
    assert first["grant_type"] == "client_credentials"
    assert first["scope"] == "openmetadata lineage"
    assert first["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    claims = jwt.decode(
        first["client_assertion"],
        KEY.public_key(),
        algorithms=["RS256"],
        audience=server.url + "/oauth2/default/v1/token",
    )
    assert claims["iss"] == claims["sub"] == "0oa123"
    assert claims["email"] == "bot@example.com"
    assert 0 < claims["exp"] - time.time() <= 300
    assert jwt.decode(second["client_assertion"], options={"verify_signature": False})["jti"] != claims["jti"]


def test_unreadable_key_is_named_and_not_quoted(server: TokenServer) -> None:
    bogus = "-----BEGIN PRIVATE KEY-----\\nTm90QUtleUF0QWxsLnNlY3JldA==\\n-----END PRIVATE KEY-----"
    with pytest.raises(AuthError, match=r"okta: \[lineage\] private_key is not an unencrypted PEM") as info:
        okta(server, bogus).token()
    assert "Tm90QUtleUF0QWxsLnNlY3JldA" not in str(info.value)
    assert server.requests == []


def test_private_jwk_sends_its_kid(server: TokenServer) -> None:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY))
    jwk.update(kid="okta-key-2", alg="RS256", use="sig")
    okta(server, json.dumps(jwk)).token()
    assertion = server.requests[0]["form"]["client_assertion"]
    assert jwt.get_unverified_header(assertion)["kid"] == "okta-key-2"
    jwt.decode(
        assertion, KEY.public_key(), algorithms=["RS256"], audience=server.url + "/oauth2/default/v1/token"
    )


def test_ec_pem_signs_es256(server: TokenServer) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    okta(server, pem).token()
    assertion = server.requests[0]["form"]["client_assertion"]
    assert jwt.get_unverified_header(assertion)["alg"] == "ES256"
    jwt.decode(
        assertion, ec_key.public_key(), algorithms=["ES256"], audience=server.url + "/oauth2/default/v1/token"
    )


def test_public_jwk_is_refused(server: TokenServer) -> None:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    with pytest.raises(AuthError, match=r"okta: \[lineage\] private_key is a public JWK"):
        okta(server, json.dumps(public)).token()
    assert server.requests == []
