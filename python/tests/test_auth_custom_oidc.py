"""Custom OIDC: client_secret_basic with RFC 6749 form-encoding, scopes, endpoint check."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import unquote

import pytest

from airflow_openmetadata_lineage.auth.base import AuthError
from airflow_openmetadata_lineage.auth.custom_oidc import CustomOIDCProvider
from auth_testserver import TokenServer, make_config


@pytest.fixture
def server() -> Iterator[TokenServer]:
    s = TokenServer()
    yield s
    s.stop()


def test_basic_auth_form_encoded(server: TokenServer) -> None:
    secret = "a:b%%c d+e"  # `:` `%` space `+` must survive Basic auth
    cfg = make_config(
        "custom-oidc",
        client_id="my client",
        secret_key=secret,
        token_endpoint=server.url + "/realms/x/token",
        scopes='["openmetadata", "profile"]',
    )
    assert CustomOIDCProvider(cfg).token() == "tok-1"
    (req,) = server.requests
    assert req["path"] == "/realms/x/token"
    assert req["form"] == {"grant_type": "client_credentials", "scope": "openmetadata profile"}
    scheme, _, b64 = req["headers"]["Authorization"].partition(" ")
    user, _, password = base64.b64decode(b64).decode().partition(":")
    assert scheme == "Basic"
    assert (unquote(user), unquote(password)) == ("my client", "a:b%c d+e")


def test_token_endpoint_must_be_a_url() -> None:
    cfg = make_config(
        "custom-oidc", client_id="c", secret_key="s3cret-value", token_endpoint="idp.example/token"
    )
    with pytest.raises(
        AuthError, match=r"custom-oidc: \[lineage\] token_endpoint must be an https:// URL"
    ) as info:
        CustomOIDCProvider(cfg).token()
    assert "s3cret-value" not in str(info.value)


def _oidc(server: TokenServer, client_id: str, **extra: str):  # type: ignore[no-untyped-def]
    return make_config(
        "custom-oidc",
        client_id=client_id,
        secret_key="s3cret-value",
        token_endpoint=server.url + "/t",
        **extra,
    )


def test_post_when_configured(server: TokenServer) -> None:
    server.only_method = "client_secret_post"
    cfg = _oidc(server, "post-client", token_endpoint_auth_method="client_secret_post")
    assert CustomOIDCProvider(cfg).token() == "tok-1"
    (req,) = server.requests
    assert "Authorization" not in req["headers"]
    assert req["form"]["client_id"] == "post-client" and req["form"]["client_secret"] == "s3cret-value"


def test_default_falls_back_to_post_once_and_remembers(server: TokenServer) -> None:
    server.only_method = "client_secret_post"  # e.g. an Auth0 application set to "Post"
    assert CustomOIDCProvider(_oidc(server, "learns-post")).token() == "tok-1"
    assert ["Authorization" in r["headers"] for r in server.requests] == [True, False]  # basic, then post
    server.requests.clear()
    assert CustomOIDCProvider(_oidc(server, "learns-post")).token() == "tok-1"  # a new provider, same process
    assert ["Authorization" in r["headers"] for r in server.requests] == [False]


def test_configured_method_never_falls_back(server: TokenServer) -> None:
    server.only_method = "client_secret_post"
    cfg = _oidc(server, "strict-basic", token_endpoint_auth_method="client_secret_basic")
    with pytest.raises(AuthError, match="invalid_client") as info:
        CustomOIDCProvider(cfg).token()
    assert len(server.requests) == 1 and "s3cret-value" not in str(info.value)
