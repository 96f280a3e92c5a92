"""Azure: authority checks and when instance discovery stays on (the token flow itself: tests/auth)."""

from __future__ import annotations

import pytest

from airflow_openmetadata_lineage.auth.azure import AzureProvider, is_microsoft_host
from airflow_openmetadata_lineage.auth.base import AuthError
from auth_testserver import make_config


@pytest.mark.parametrize(
    ("authority", "microsoft"),
    [
        ("https://login.microsoftonline.com/tenant-id", True),
        ("https://LOGIN.MICROSOFTONLINE.COM/tenant-id", True),
        ("https://login.microsoftonline.us/tenant-id", True),
        ("https://adfs.acme.com/adfs", False),
        ("https://127.0.0.1:8443/tenant", False),
        ("https://login.microsoftonline.com.evil.example/tenant", False),
    ],
)
def test_instance_discovery_only_for_microsoft_hosts(authority: str, microsoft: bool) -> None:
    assert is_microsoft_host(authority) is microsoft


def test_http_authority_is_refused_before_any_call() -> None:
    cfg = make_config(
        "azure",
        client_id="c",
        client_secret="azure-secret-value",
        authority="http://127.0.0.1:1/t",
        scopes="[s/.default]",
    )
    with pytest.raises(AuthError, match=r"azure: \[lineage\] authority must be an https:// URL") as info:
        AzureProvider(cfg).token()
    assert "azure-secret-value" not in str(info.value)


def test_unreachable_authority_is_an_auth_error_without_secret() -> None:
    cfg = make_config(
        "azure",
        client_id="c",
        client_secret="azure-secret-value",
        authority="https://127.0.0.1:9/tenant",
        scopes="api://om/.default",
    )
    with pytest.raises(
        AuthError, match=r"azure: token request to https://127\.0\.0\.1:9/tenant failed"
    ) as info:
        AzureProvider(cfg).token()
    assert "azure-secret-value" not in str(info.value)
