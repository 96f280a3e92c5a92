"""The identity emulator refuses what each IdP refuses for client credentials (the kit's emulators/identity.py
cites the vendor pages), the wheel's providers get a token with the settings the emulator hands out, and the
settings this repository documents (examples, plan matrix) are of a kind those IdPs accept."""

from __future__ import annotations

import re
import time
from typing import Any

import jwt
import pytest

from omlineage_devkit.emulators.identity import (
    AUDIENCE,
    AUTH0_API_SCOPES,
    AZURE_RESOURCE,
    OKTA_CUSTOM_SCOPES,
    Auth0Tenant,
    AzureTenant,
    Client,
    IdentityServers,
    OktaAuthorizationServer,
    Realm,
    Refused,
)
from omlineage_devkit.openmetadata import OpenMetadataEmulator
from omlineage_devkit.paths import REPO
from omlineage_devkit.sso import lineage_options, make_client


def token_or_error(idp: IdentityServers, om: OpenMetadataEmulator, provider: str, **extra: str) -> Any:
    from airflow_openmetadata_lineage.auth.base import AuthError

    _, auth, _ = make_client(lineage_options(idp, provider, om, **extra))
    try:
        return auth.token(time.monotonic() + 10)
    except AuthError as exc:
        return exc


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


# -- Okta: custom scopes of the authorization server only --------------------------------------------------


def test_okta_grants_its_custom_scopes(idp: IdentityServers, om_sso: OpenMetadataEmulator) -> None:
    token = token_or_error(idp, om_sso, "okta")
    assert isinstance(token, str), token
    assert claims(token)["scp"] == list(OKTA_CUSTOM_SCOPES) and claims(token)["aud"] == AUDIENCE


@pytest.mark.parametrize(
    ("scopes", "refusal"),
    [
        ("[openid, profile]", "invalid_scope: Cannot request 'openid' scopes using client credentials."),
        (
            "[openmetadata.lineage, email]",
            "invalid_scope: Cannot request 'email' scopes using client credentials.",
        ),
        ("[openmetadata.admin]", "invalid_scope: One or more scopes are not configured"),
    ],
)
def test_okta_refuses_oidc_and_unknown_scopes(
    idp: IdentityServers, om_sso: OpenMetadataEmulator, scopes: str, refusal: str
) -> None:
    error = token_or_error(idp, om_sso, "okta", scopes=scopes)
    assert isinstance(error, Exception) and "answered 400" in str(error) and "invalid_scope" in str(error)
    assert [r for r in idp.realms["okta"].refusals if r.startswith(refusal)], idp.realms["okta"].refusals


def test_okta_without_scopes_needs_default_scopes(idp: IdentityServers, om_sso: OpenMetadataEmulator) -> None:
    raw = lineage_options(idp, "okta", om_sso)
    del raw["scopes"]
    from airflow_openmetadata_lineage.auth.base import AuthError

    _, auth, _ = make_client(raw)
    with pytest.raises(AuthError):
        auth.token(time.monotonic() + 10)
    assert "'scope' must be provided" in idp.realms["okta"].refusals[-1]
    policy = OktaAuthorizationServer(custom_scopes=OKTA_CUSTOM_SCOPES, default_scopes=("openmetadata.read",))
    assert policy.grant(Realm("o"), Client("c"), [], {})[1] == ["openmetadata.read"]


# -- Auth0: audience required, scopes of the client grant ---------------------------------------------------


def test_auth0_grants_the_api_audience_and_the_client_grant_scopes(
    idp: IdentityServers, om_sso: OpenMetadataEmulator
) -> None:
    token = token_or_error(idp, om_sso, "auth0")
    assert isinstance(token, str), token
    assert claims(token)["aud"] == AUDIENCE and claims(token)["scp"] == list(AUTH0_API_SCOPES)


@pytest.mark.parametrize(
    ("extra", "refusal"),
    [
        ({"audience": ""}, "access_denied: No audience parameter was provided"),
        ({"audience": "https://other-api"}, "access_denied: Service not found: https://other-api"),
        (
            {"scopes": "[delete:everything]"},
            "access_denied: Client has not been granted scopes: delete:everything",
        ),
    ],
)
def test_auth0_refuses_without_audience_or_beyond_the_grant(
    idp: IdentityServers, om_sso: OpenMetadataEmulator, extra: dict[str, str], refusal: str
) -> None:
    raw = lineage_options(idp, "auth0", om_sso, **extra)
    if raw.get("audience") == "":
        del raw["audience"]
    from airflow_openmetadata_lineage.auth.base import AuthError

    _, auth, _ = make_client(raw)
    with pytest.raises(AuthError) as err:
        auth.token(time.monotonic() + 10)
    assert "answered 403" in str(err.value)
    assert idp.realms["auth0"].refusals[-1].startswith(refusal), idp.realms["auth0"].refusals


def test_auth0_client_without_a_grant_is_refused() -> None:
    tenant = Auth0Tenant(apis={AUDIENCE: AUTH0_API_SCOPES}, client_grants={})
    with pytest.raises(Refused) as err:
        tenant.grant(Realm("a"), Client("stranger"), [], {"audience": AUDIENCE})
    assert err.value.status_code == 403 and "client-grant" in str(err.value.description)


# -- Azure: <application ID URI>/.default -------------------------------------------------------------------


def test_azure_grants_dot_default_of_a_registered_resource(
    idp: IdentityServers, om_sso: OpenMetadataEmulator
) -> None:
    token = token_or_error(idp, om_sso, "azure")
    assert isinstance(token, str), token


@pytest.mark.parametrize(
    ("scopes", "refusal"),
    [
        ("[api://openmetadata/lineage.write]", "invalid_scope: AADSTS1002012"),
        ("[openid]", "invalid_scope: AADSTS1002012"),
        (
            f"[{AZURE_RESOURCE}/.default, https://graph.microsoft.com/.default]",
            "invalid_scope: AADSTS1002012",
        ),
        ("[api://someone-else/.default]", "invalid_resource: AADSTS500011"),
    ],
)
def test_azure_refuses_other_scopes(
    idp: IdentityServers, om_sso: OpenMetadataEmulator, scopes: str, refusal: str
) -> None:
    error = token_or_error(idp, om_sso, "azure", scopes=scopes)
    assert isinstance(error, Exception), error
    assert idp.realms["azure"].refusals[-1].startswith(refusal), idp.realms["azure"].refusals


def test_refusals_are_on_the_admin_api_and_reset(idp: IdentityServers, om_sso: OpenMetadataEmulator) -> None:
    token_or_error(idp, om_sso, "okta", scopes="[openid]")
    realm = idp.realms["okta"]
    assert realm.admin({})["refusals"] == realm.refusals and realm.refusals
    realm.admin({"reset": True})
    assert realm.refusals == []


# -- what this repository tells users to write -------------------------------------------------------------


def _hcl_list(text: str, key: str) -> list[list[str]]:
    return [re.findall(r'"([^"]+)"', m) for m in re.findall(rf"\b{key}\s*=\s*\[([^\]]*)\]", text)]


def test_documented_okta_and_azure_scopes_are_ones_the_idps_accept() -> None:
    """The scopes in examples/ and the plan matrix, each fed to the vendor rule of its provider (the
    authorization server configured with exactly those custom scopes / that resource)."""
    from omlineage_devkit.plan_rows import ROWS

    okta = [
        ROWS[r]["om"]["scopes"]
        for r in ROWS
        if ROWS[r]["om"].get("auth_provider_type") == "okta" and ROWS[r]["om"].get("scopes")
    ]
    azure = [ROWS[r]["om"]["scopes"] for r in ROWS if ROWS[r]["om"].get("auth_provider_type") == "azure"]
    complete = (REPO / "examples" / "complete" / "main.tf").read_text()
    assert 'auth_provider_type   = "okta"' in complete
    okta += _hcl_list(complete, "scopes")
    azure += _hcl_list((REPO / "examples" / "auth-providers" / "azure.tfvars.example").read_text(), "scopes")
    assert okta and azure
    for scopes in okta:
        OktaAuthorizationServer(custom_scopes=tuple(scopes)).grant(Realm("okta"), Client("c"), scopes, {})
    for scopes in azure:
        resources = tuple(s.removesuffix("/.default") for s in scopes)
        AzureTenant(tenant="t", resources=resources).grant(Realm("azure"), Client("c"), scopes, {})


def test_documented_auth0_settings_name_an_audience() -> None:
    from omlineage_devkit.plan_rows import ROWS

    rows = [ROWS[r] for r in ROWS if ROWS[r]["om"].get("auth_provider_type") == "auth0"]
    example = (REPO / "examples" / "auth-providers" / "auth0.tfvars.example").read_text()
    assert rows and re.search(r'\baudience\s*=\s*"[^"]+"', example), "auth0.tfvars.example sets no audience"
    for row in rows:
        audience = row["om"].get("audience")
        assert audience, "an auth0 row without audience: Auth0 refuses the token request"
        assert row["options"]["lineage.audience"] == audience
        Auth0Tenant(apis={audience: ()}, client_grants={"c": {audience: ()}}).grant(
            Realm("auth0"), Client("c"), [], {"audience": audience}
        )
