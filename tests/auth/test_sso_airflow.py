"""The SSO providers inside real Airflow processes (.venvs/airflow2; one check on airflow3): the self-check
command, a DAG run that reports lineage with an SSO token, and a DAG run whose token endpoint is down (the
task still succeeds)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from omlineage_devkit.airflow_runner import base_env, run_dag
from omlineage_devkit.emulators.identity import PROVIDERS, IdentityServers
from omlineage_devkit.openmetadata import OpenMetadataEmulator, rejected
from omlineage_devkit.paths import venv_python

DAG_FILE = Path(__file__).parent / "dags" / "om_sso_dag.py"
BACKEND = "airflow_openmetadata_lineage.backend.OpenMetadataLineageBackend"


def sso_env(idp: IdentityServers, provider: str, om: OpenMetadataEmulator) -> dict[str, str]:
    return {
        **idp.lineage_env(provider),
        "AIRFLOW__LINEAGE__BACKEND": BACKEND,
        "AIRFLOW__LINEAGE__AIRFLOW_SERVICE_NAME": "sso_it",
        "AIRFLOW__LINEAGE__OPENMETADATA_API_ENDPOINT": om.api_url,
        "AIRFLOW__LINEAGE__TIMEOUT": "2",
        "AIRFLOW__LINEAGE__TIME_BUDGET": "4",
    }


def run_check(env: dict[str, str], home: Path, venv: str = "airflow2") -> subprocess.CompletedProcess[str]:
    full = {**base_env(home, venv), **env}
    python = str(venv_python(venv))
    cmd = [python, "-m", "airflow_openmetadata_lineage", "check"]
    return subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=120, cwd=str(home))


def assert_no_secrets(text: str, idp: IdentityServers, provider: str) -> None:
    for secret in idp.secrets(provider):
        for form in (
            secret,
            secret.replace("%", "%%"),
            *[line for line in secret.splitlines() if len(line) > 20],
        ):
            assert form not in text, f"a {provider} secret leaked into the output"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_self_check_reports_provider_and_token(
    provider: str, idp: IdentityServers, om_sso: OpenMetadataEmulator, tmp_path: Path
) -> None:
    proc = run_check(sso_env(idp, provider, om_sso), tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert f"auth {provider}" in out and "token: obtained" in out and "result: OK" in out
    assert idp.realms[provider].token_requests == 1
    assert_no_secrets(out, idp, provider)


def test_self_check_token_endpoint_down(
    idp: IdentityServers, om_sso: OpenMetadataEmulator, tmp_path: Path
) -> None:
    idp.realms["azure"].down = True
    proc = run_check(sso_env(idp, "azure", om_sso), tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert "token: FAILED: azure:" in out
    assert_no_secrets(out, idp, "azure")


def test_dag_reports_lineage_with_sso_token(idp: IdentityServers, om_sso: OpenMetadataEmulator) -> None:
    om_sso.seed_tables("mysql.shop.public.orders", "mysql.shop.analytics.orders_copy")
    result = run_dag(
        "om_sso", [DAG_FILE], env=sso_env(idp, "okta", om_sso), logical_date="2024-01-02T00:00:00"
    )
    result.assert_ok()
    assert result.states == {"copy_orders": "success"}
    assert ("mysql.shop.public.orders", "mysql.shop.analytics.orders_copy", "sso_it.om_sso") in om_sso.edges()
    assert om_sso.requests() and not rejected(om_sso.requests())  # every call carried an accepted token
    assert idp.realms["okta"].token_requests == 1  # one token for the whole task process
    assert_no_secrets(result.output, idp, "okta")


def test_token_endpoint_down_task_still_succeeds(idp: IdentityServers, om_sso: OpenMetadataEmulator) -> None:
    idp.realms["auth0"].down = True
    result = run_dag(
        "om_sso", [DAG_FILE], env=sso_env(idp, "auth0", om_sso), logical_date="2024-01-03T00:00:00"
    )
    result.assert_ok()
    assert result.states == {"copy_orders": "success"}
    assert idp.realms["auth0"].token_requests >= 1
    # The failure is logged once, naming the provider and what answered.
    assert "auth0: token endpoint https://127.0.0.1:" in result.output and "answered 503" in result.output
    assert_no_secrets(result.output, idp, "auth0")


@pytest.mark.parametrize("provider", ["auth0", "google", "okta"])
def test_self_check_reads_the_seed_form_from_airflow_cfg(
    provider: str, idp: IdentityServers, om_sso: OpenMetadataEmulator, tmp_path: Path
) -> None:
    """The same `%%`-doubled / base64: values from airflow.cfg instead of env vars (Airflow interpolates)."""
    env = sso_env(idp, provider, om_sso)
    lines = ["[lineage]"] + [f"{k[len('AIRFLOW__LINEAGE__') :].lower()} = {v}" for k, v in env.items()]
    # auth0's secret and google's key file hold a `%`; okta's key travels as base64:
    assert ("%%" in "".join(lines)) == (provider != "okta")
    (tmp_path / "airflow.cfg").write_text("\n".join(lines) + "\n")
    proc = run_check({}, tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert f"auth {provider}" in out and "token: obtained" in out
    assert_no_secrets(out, idp, provider)


def test_self_check_on_airflow3(idp: IdentityServers, om_sso: OpenMetadataEmulator, tmp_path: Path) -> None:
    """MWAA 3.x workers run the same providers: msal from the wheel's extra in .venvs/airflow3."""
    proc = run_check(sso_env(idp, "azure", om_sso), tmp_path, venv="airflow3")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "auth azure" in out and "token: obtained" in out
    assert_no_secrets(out, idp, "azure")
