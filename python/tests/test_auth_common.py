"""Shared provider behaviour: keys, scopes, token answers, redaction, cache, concurrency, time budget."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from airflow_openmetadata_lineage.auth import oauth2
from airflow_openmetadata_lineage.auth.auth0 import Auth0Provider
from airflow_openmetadata_lineage.auth.base import AuthError
from airflow_openmetadata_lineage.config import LineageConfig
from auth_testserver import TokenServer, make_config


@pytest.fixture
def server() -> Iterator[TokenServer]:
    s = TokenServer()
    yield s
    s.stop()


def auth0(server: TokenServer, secret: str = "sh-secret-value") -> Auth0Provider:
    return Auth0Provider(make_config("auth0", client_id="cid", secret_key=secret, domain=server.url))


def fake_jwt(exp: float) -> str:
    part = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJub25lIn0.{part}.sig"


def test_missing_key_names_provider_and_key() -> None:
    cfg = LineageConfig(service_name="s", endpoint="http://x/api", auth_provider_type="auth0", options={})
    with pytest.raises(AuthError, match=r"auth0: \[lineage\] domain is not set.*AIRFLOW__LINEAGE__DOMAIN"):
        oauth2.setting(cfg, "auth0", "domain")


@pytest.mark.parametrize("raw", ["[a, b]", '["a", "b"]', "a,b", "a b", "[ 'a' , 'b' ]"])
def test_scopes_forms(raw: str) -> None:
    cfg = LineageConfig(
        service_name="s", endpoint="http://x/api", auth_provider_type="okta", options={"scopes": raw}
    )
    assert oauth2.scopes(cfg, "okta") == ["a", "b"]


def test_token_answer_expiry_sources() -> None:
    now = time.time()
    assert (
        abs(oauth2.token_from_answer("p", {"access_token": "t", "expires_in": 100}).expires_at - now - 100)
        < 2
    )
    assert oauth2.token_from_answer("p", {"access_token": fake_jwt(now + 500)}).expires_at == pytest.approx(
        now + 500
    )
    unknown = oauth2.token_from_answer("p", {"access_token": "opaque"}).expires_at
    assert abs(unknown - now - oauth2.DEFAULT_TTL) < 2
    with pytest.raises(AuthError, match="p: the token endpoint's answer has no access_token"):
        oauth2.token_from_answer("p", {"token_type": "Bearer"})


def test_redact_scrubs_whole_and_multiline_secrets() -> None:
    pem = "-----BEGIN KEY-----\nAAAAbbbbCCCC\nDDDDeeee\n-----END KEY-----"
    text = f"failed with {pem} and line DDDDeeee and s3cret!"
    out = oauth2.redact(text, [pem, "s3cret!", None])
    assert "AAAAbbbbCCCC" not in out and "DDDDeeee" not in out and "s3cret!" not in out


def test_error_answer_reports_code_not_description(server: TokenServer) -> None:
    server.status = 401
    server.answer = {"error": "invalid_client", "error_description": "bad secret sh-secret-value"}
    with pytest.raises(AuthError) as info:
        auth0(server).token()
    message = str(info.value)
    assert message.startswith("auth0: token endpoint") and "401 (invalid_client)" in message
    assert "sh-secret-value" not in message


def test_unreachable_endpoint_is_an_auth_error(server: TokenServer) -> None:
    provider = auth0(server)
    server.stop()
    with pytest.raises(AuthError, match=r"auth0: token request to .* failed: ConnectionError"):
        provider.token(time.monotonic() + 2)


def test_cached_until_refresh_margin(server: TokenServer) -> None:
    provider = auth0(server)
    assert [provider.token() for _ in range(5)] == ["tok-1"] * 5
    assert len(server.requests) == 1
    provider.invalidate()  # what the client does after a 401
    server.answer = {"access_token": "tok-2", "expires_in": 30}  # inside the 60 s refresh margin
    assert provider.token() == "tok-2"
    assert provider.token() == "tok-2"
    assert len(server.requests) == 3  # a token about to expire is fetched again


def test_concurrent_callers_share_one_fetch(server: TokenServer) -> None:
    server.delay = 0.3
    provider = auth0(server)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(provider.token())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert results == ["tok-1"] * 8
    assert len(server.requests) == 1


def test_slow_endpoint_bounded_by_deadline(server: TokenServer) -> None:
    server.delay = 3
    provider = auth0(server)
    start = time.monotonic()
    with pytest.raises(AuthError, match=r"auth0: token request .* failed: ReadTimeout"):
        provider.token(time.monotonic() + 0.4)
    assert time.monotonic() - start < 1.5


def test_exhausted_budget_sends_nothing(server: TokenServer) -> None:
    with pytest.raises(AuthError, match="auth0: no time left"):
        auth0(server).token(time.monotonic() - 1)
    assert server.requests == []


def test_provider_modules_import_no_heavy_library() -> None:
    """google-auth, msal, PyJWT, cryptography and requests load only when a provider fetches a token."""
    code = (
        "import sys\n"
        "from airflow_openmetadata_lineage.auth import provider_class\n"
        "for name in ('google', 'auth0', 'okta', 'azure', 'custom-oidc'):\n"
        "    assert provider_class(name).name == name\n"
        "heavy = ('google.auth', 'google.oauth2', 'msal', 'jwt', 'cryptography', 'requests')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
