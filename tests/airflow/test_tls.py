"""verify_ssl / ca_bundle against https: a trusted CA delivers, an untrusted one fails closed (task ok)."""

from __future__ import annotations

import pytest

from omlineage_devkit.airflow_runner import run_dag
from omlineage_devkit.lineage_settings import LOGICAL_DATE, SERVICE, lineage_env
from omlineage_devkit.openmetadata import OpenMetadataEmulator


@pytest.mark.parametrize("trusted", [True, False], ids=["ca-bundle", "untrusted"])
def test_https_endpoint(om: OpenMetadataEmulator, trusted: bool) -> None:
    """The session emulator also listens on https (self-signed certificate `om.ca_cert`)."""
    assert om.https_api_url and om.ca_cert
    om.seed_tables("mysql.shop.public.orders", "mysql.shop.staging.orders_copy")
    options = {"ca_bundle": str(om.ca_cert)} if trusted else {}

    env = lineage_env(om.https_api_url, **om.bot_env(), **options)

    result = run_dag("om_unknown", ["om_unknown.py"], env=env, logical_date=LOGICAL_DATE)

    result.assert_ok()
    assert result.states == {"copy": "success"}
    if trusted:
        assert om.edges() == {
            ("mysql.shop.public.orders", "mysql.shop.staging.orders_copy", f"{SERVICE}.om_unknown")
        }
    else:
        assert om.state()["services"] == []
        assert "verify_ssl" in result.output or "ca_bundle" in result.output, "no hint at the TLS settings"
