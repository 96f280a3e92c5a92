"""verify_ssl / ca_bundle against https: a trusted CA delivers, an untrusted one fails closed (task ok)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.airflow.conftest import LOGICAL_DATE, SERVICE, lineage_env
from tests.helpers.airflow_runner import run_dag
from tests.helpers.openmetadata import EmulatorProcess, OpenMetadataEmulator
from tests.helpers.tls import self_signed_cert


@pytest.fixture(scope="module")
def om_https() -> Iterator[tuple[OpenMetadataEmulator, Path]]:
    cert, key = self_signed_cert(Path(tempfile.mkdtemp(prefix="om-tls-")))
    process = EmulatorProcess(extra_args=["--certfile", str(cert), "--keyfile", str(key)])
    try:
        client = process.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield client, cert
    process.stop()


@pytest.mark.parametrize("trusted", [True, False], ids=["ca-bundle", "untrusted"])
def test_https_endpoint(om_https: tuple[OpenMetadataEmulator, Path], trusted: bool) -> None:
    om, cert = om_https
    om.reset()
    om.seed_tables("mysql.shop.public.orders", "mysql.shop.staging.orders_copy")
    options = {"ca_bundle": str(cert)} if trusted else {}

    result = run_dag(
        "om_unknown", ["om_unknown.py"], env=lineage_env(om.api_url, **options), logical_date=LOGICAL_DATE
    )

    result.assert_ok()
    assert result.states == {"copy": "success"}
    if trusted:
        assert om.edges() == {
            ("mysql.shop.public.orders", "mysql.shop.staging.orders_copy", f"{SERVICE}.om_unknown")
        }
    else:
        assert om.state()["services"] == []
        assert "verify_ssl" in result.output or "ca_bundle" in result.output, "no hint at the TLS settings"
