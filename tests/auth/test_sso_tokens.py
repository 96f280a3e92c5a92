"""Each SSO provider gets a token from its local identity server and OpenMetadata (the emulator, checking
the signature against the realm's JWKS) accepts it; expired, foreign and wrong-audience tokens are refused;
tokens are refreshed before expiry; a 401 gets one refresh and one retry; a down or slow token endpoint fails
fast."""

from __future__ import annotations

import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from omlineage_devkit.emulators.identity import PROVIDERS, IdentityServers
from omlineage_devkit.openmetadata import OpenMetadataEmulator
from omlineage_devkit.sso import lineage_options, make_client


def api_status(om: OpenMetadataEmulator, token: str) -> tuple[int, str]:
    resp = om.http.get(
        f"{om.api_url}/v1/users/loggedInUser", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return resp.status_code, resp.text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_token_accepted_by_openmetadata(
    provider: str, idp: IdentityServers, om_sso: OpenMetadataEmulator
) -> None:
    config, _, client = make_client(lineage_options(idp, provider, om_sso))
    assert config.auth_provider_type == provider
    answer = client.get("/v1/users/loggedInUser", time.monotonic() + 10)
    assert answer["name"]
    assert idp.realms[provider].token_requests == 1
    client.get("/v1/users/loggedInUser", time.monotonic() + 10)
    assert idp.realms[provider].token_requests == 1  # cached
    # The emulator really checks: the same call without a token is refused.
    assert api_status(om_sso, "")[0] == 401


@pytest.mark.parametrize("provider", PROVIDERS)
def test_expired_foreign_and_untrusted_tokens_refused(
    provider: str, idp: IdentityServers, om_sso: OpenMetadataEmulator
) -> None:
    realm = idp.realms[provider]
    # "svc" is no user in OpenMetadata yet: the server answers 404 on every call (an auth setup error)
    assert api_status(om_sso, realm.mint("svc")) == (
        404,
        '{"code": 404, "message": "user instance for svc not found"}',
    )
    om_sso.set_auth(**idp.om_auth(), users=["svc"])  # an administrator creates the user
    assert api_status(om_sso, realm.mint("svc"))[0] == 200
    status, text = api_status(om_sso, realm.mint("svc", ttl=-120))
    assert (status, "Expired" in text) == (401, True)
    intruder = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # same kid, other key
    status, text = api_status(om_sso, realm.mint("svc", key=intruder))
    assert (status, "signature" in text) == (401, True)
    assert api_status(om_sso, realm.mint("svc", audience="someone-else"))[0] == 401
    # A realm OpenMetadata does not trust (its JWKS not in publicKeyUrls) is refused too.
    others = [r.jwks_url for name, r in idp.realms.items() if name != provider]
    om_sso.set_auth(jwks_urls=others, ca_bundle=idp.ca_cert, audience="openmetadata")
    assert api_status(om_sso, realm.mint("svc"))[0] == 401


@pytest.mark.parametrize("provider", ["auth0", "azure"])
def test_refreshed_before_expiry(provider: str, idp: IdentityServers, om_sso: OpenMetadataEmulator) -> None:
    realm = idp.realms[provider]
    realm.ttl = 3
    _, auth, client = make_client(lineage_options(idp, provider, om_sso))
    auth.refresh_margin = 1.0  # refresh 1 s before expiry (60 s in production)
    first = auth.token(time.monotonic() + 5)
    assert auth.token(time.monotonic() + 5) == first and realm.token_requests == 1
    time.sleep(3.2)
    status, text = api_status(om_sso, first)
    assert (status, "Expired" in text) == (401, True)  # the old token has expired on the server too
    client.get("/v1/users/loggedInUser", time.monotonic() + 10)  # fetches a fresh one, accepted
    assert realm.token_requests == 2
    assert auth.token(time.monotonic() + 5) != first


def test_401_gets_one_refresh_and_one_retry(idp: IdentityServers, om_sso: OpenMetadataEmulator) -> None:
    from airflow_openmetadata_lineage.auth.base import Token
    from airflow_openmetadata_lineage.client import RejectedError

    realm = idp.realms["custom-oidc"]
    _, auth, client = make_client(lineage_options(idp, "custom-oidc", om_sso))
    # A token the wheel believes valid for an hour but the server refuses (revoked / expired early).
    auth._token = Token(realm.mint("oidc-client", ttl=-60), time.time() + 3600)
    om_sso.clear_requests()
    assert client.get("/v1/users/loggedInUser", time.monotonic() + 10)["name"]
    assert realm.token_requests == 1
    assert [r["status"] for r in om_sso.requests()] == [401, 200]

    # Tokens the server will never accept: exactly one refresh and one retry, then the error; no loop.
    om_sso.set_auth(jwks_urls=idp.jwks_urls, ca_bundle=idp.ca_cert, audience="another-audience")
    om_sso.clear_requests()
    with pytest.raises(RejectedError, match="401"):
        client.get("/v1/users/loggedInUser", time.monotonic() + 10)
    assert realm.token_requests == 2
    assert [r["status"] for r in om_sso.requests()] == [401, 401]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_token_endpoint_down_fails_fast_without_secrets(
    provider: str, idp: IdentityServers, om_sso: OpenMetadataEmulator
) -> None:
    from airflow_openmetadata_lineage.client import TransientError

    idp.realms[provider].down = True
    _, _, client = make_client(lineage_options(idp, provider, om_sso))
    start = time.monotonic()
    with pytest.raises(TransientError) as info:
        client.get("/v1/users/loggedInUser", time.monotonic() + 5)
    assert time.monotonic() - start < 3
    assert idp.realms[provider].token_requests == 1  # no retry, no backoff sleep
    message = str(info.value)
    assert provider in message
    for secret in idp.secrets(provider):
        assert secret not in message and secret.replace("%", "%%") not in message
    assert om_sso.requests() == []  # nothing sent without a token


def test_slow_token_endpoint_bounded_by_time_budget(
    idp: IdentityServers, om_sso: OpenMetadataEmulator
) -> None:
    from airflow_openmetadata_lineage.client import TransientError

    idp.realms["okta"].delay = 5
    _, _, client = make_client(lineage_options(idp, "okta", om_sso))
    start = time.monotonic()
    with pytest.raises(TransientError, match="okta"):
        client.get("/v1/users/loggedInUser", time.monotonic() + 0.5)
    assert time.monotonic() - start < 1.5


def test_okta_escaped_pem_and_raw_percent_forms(idp: IdentityServers, om_sso: OpenMetadataEmulator) -> None:
    raw = lineage_options(idp, "okta", om_sso)
    raw["private_key"] = idp.options("okta")["private_key"].replace("\n", "\\n")  # one line, literal \n
    _, _, client = make_client(raw)
    assert client.get("/v1/users/loggedInUser", time.monotonic() + 10)["name"]
    # Secrets with `%` written per the seed (doubled) reach the identity server un-doubled:
    secret = idp.options("auth0")["secret_key"]
    assert "%" in secret and "%%" in lineage_options(idp, "auth0", om_sso)["secret_key"]
    _, _, client = make_client(lineage_options(idp, "auth0", om_sso))
    assert client.get("/v1/users/loggedInUser", time.monotonic() + 10)["name"]


def test_identity_admin_api(idp: IdentityServers) -> None:
    realm = idp.realms["auth0"]
    http = requests.Session()
    http.trust_env = False
    state = http.post(
        realm.url + "/__admin", json={"down": True, "ttl": 5}, verify=idp.ca_cert, timeout=5
    ).json()
    assert state == {"token_requests": 0, "ttl": 5, "down": True, "delay": 0.0, "refusals": []}
    assert realm.down and realm.ttl == 5
    resp = http.post(
        realm.token_url, data={"grant_type": "client_credentials"}, verify=idp.ca_cert, timeout=5
    )
    assert resp.status_code == 503 and realm.token_requests == 1


@pytest.mark.filterwarnings(
    "ignore::urllib3.exceptions.InsecureRequestWarning"
)  # verify_ssl=false, on purpose
@pytest.mark.parametrize("provider", PROVIDERS)
def test_tls_verification_follows_the_wheel_setting(
    provider: str, idp: IdentityServers, om_sso: OpenMetadataEmulator
) -> None:
    from airflow_openmetadata_lineage.auth.base import AuthError

    raw = lineage_options(idp, provider, om_sso)
    del raw["ca_bundle"]  # the IdP's self-signed certificate is not trusted: the fetch must fail
    _, auth, _ = make_client(raw)
    with pytest.raises(AuthError, match=provider):
        auth.token(time.monotonic() + 5)
    assert idp.realms[provider].token_requests == 0
    _, auth, client = make_client({**raw, "verify_ssl": "false"})  # explicitly off: accepted
    assert client.get("/v1/users/loggedInUser", time.monotonic() + 10)["name"]


def test_okta_private_jwk_form(idp: IdentityServers, om_sso: OpenMetadataEmulator) -> None:
    """The JWK Okta's key generator shows, pasted as private_key (one line of JSON): its kid is sent."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = idp.options("okta")["private_key"]
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(load_pem_private_key(pem.encode(), None)))
    raw = lineage_options(idp, "okta", om_sso, private_key=json.dumps({**jwk, "kid": "k2", "alg": "RS256"}))
    _, _, client = make_client(raw)
    assert client.get("/v1/users/loggedInUser", time.monotonic() + 10)["name"]
    assert idp.realms["okta"].token_requests == 1
