"""Issue 2 point 7: the self-check says plainly what works and what is wrong (CLI and from a DAG)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from omlineage_devkit.airflow_runner import base_env, run_dag
from omlineage_devkit.lineage_settings import LOGICAL_DATE, lineage_env
from omlineage_devkit.openmetadata import OpenMetadataEmulator
from omlineage_devkit.paths import venv_python
from omlineage_devkit.ports import closed_url


def cli_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    home = Path(tempfile.mkdtemp(prefix="selfcheck-"))
    full = {**base_env(home, "airflow2"), **env}
    cmd = [str(venv_python("airflow2")), "-m", "airflow_openmetadata_lineage", "check"]
    return subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case", ["ok-jwt", "expired-jwt", "server-down"])
def test_cli_self_check(om: OpenMetadataEmulator, case: str) -> None:
    om.set_auth(enabled=True)
    token = om.token(ttl=-60 if case == "expired-jwt" else 3600)
    endpoint = closed_url() if case == "server-down" else om.api_url
    env = lineage_env(endpoint, auth_provider_type="openmetadata", jwt_token=token)

    proc = cli_check(env)

    text = proc.stdout + proc.stderr
    assert token not in text, "the self-check printed the JWT"
    if case == "ok-jwt":
        assert proc.returncode == 0, text
        assert "1.12.14" in proc.stdout and "result: OK" in proc.stdout
        # /v1/system/version is read without authentication on the server (no subject)
        assert {r["subject"] for r in om.requests() if not r["path"].endswith("/system/version")} == {
            "ingestion-bot"
        }
    else:
        assert proc.returncode == 1, text
        assert "result: FAILED" in proc.stdout
        failed = [line for line in proc.stdout.splitlines() if "FAILED:" in line]
        assert failed, proc.stdout
        hint = "401" if case == "expired-jwt" else "connect"
        assert any(hint in line.lower() or hint in line for line in failed), failed


def test_self_check_from_a_dag(om: OpenMetadataEmulator, om_env: dict[str, str]) -> None:
    result = run_dag("om_selfcheck", ["om_selfcheck.py"], env=om_env, logical_date=LOGICAL_DATE)

    result.assert_ok()
    assert "server: reachable, OpenMetadata version 1.12.14" in result.output
    assert "result: OK" in result.output
    assert "Returned value was: True" in result.output
