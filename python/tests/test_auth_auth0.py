"""Auth0: client-credentials body, `%%` un-doubling, domain forms."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_openmetadata_lineage.auth.auth0 import Auth0Provider, base_url
from auth_testserver import TokenServer, make_config


@pytest.fixture
def server() -> Iterator[TokenServer]:
    s = TokenServer()
    yield s
    s.stop()


def test_client_credentials_post(server: TokenServer) -> None:
    cfg = make_config(
        "auth0",
        client_id="cid",
        secret_key="p%%ss%%word",
        domain=server.url,
        audience="https://om/api",
        scopes="[a, b]",
    )
    assert Auth0Provider(cfg).token() == "tok-1"
    (req,) = server.requests
    assert req["path"] == "/oauth/token"
    assert req["form"] == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "p%ss%word",  # airflow.cfg escaping: %% is %
        "audience": "https://om/api",
        "scope": "a b",
    }
    assert "Authorization" not in req["headers"]


def test_no_audience_no_scope_sent_when_unset(server: TokenServer) -> None:
    Auth0Provider(make_config("auth0", client_id="cid", secret_key="x", domain=server.url)).token()
    assert set(server.requests[0]["form"]) == {"grant_type", "client_id", "client_secret"}


@pytest.mark.parametrize(
    ("domain", "url"),
    [
        ("acme.eu.auth0.com", "https://acme.eu.auth0.com"),
        ("acme.eu.auth0.com/", "https://acme.eu.auth0.com"),
        ("https://login.acme.com", "https://login.acme.com"),
        ("http://127.0.0.1:8443", "http://127.0.0.1:8443"),
    ],
)
def test_domain_forms(domain: str, url: str) -> None:
    assert base_url(domain) == url
