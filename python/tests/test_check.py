"""check.py / __main__.py: the self-check says plainly what is wrong, exits 0/1, never prints a secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from airflow_openmetadata_lineage.check import run_check
from airflow_openmetadata_lineage.config import mapping_getter
from omstub import OMStub

TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LWJvdC10b2tlbg.c2lnbmF0dXJl"


def options(stub: OMStub, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "airflow_service_name": "MWAA",
        "openmetadata_api_endpoint": stub.url,
        "spool_dir": str(tmp_path / "spool"),
        **extra,
    }


def test_all_good_with_jwt(stub: OMStub, tmp_path: Path) -> None:
    stub.valid_tokens = {TOKEN}
    result = run_check(mapping_getter(options(stub, tmp_path, auth_provider_type="jwt", jwt_token=TOKEN)))
    assert result.ok and result.problems == []
    assert (result.provider, result.token_obtained, result.server_version) == (
        "openmetadata",
        True,
        "1.12.14",
    )
    assert result.service_exists is False
    assert "token: obtained" in result.lines
    assert "server: reachable, OpenMetadata version 1.12.14" in result.lines
    assert result.lines[-1] == "result: OK"
    assert TOKEN not in result.text()
    assert stub.requests[0][3] == f"Bearer {TOKEN}"


def test_refused_token_is_explained(stub: OMStub, tmp_path: Path) -> None:
    stub.valid_tokens = {"another"}
    result = run_check(mapping_getter(options(stub, tmp_path, auth_provider_type="jwt", jwt_token=TOKEN)))
    assert not result.ok and result.token_obtained is True
    assert any("HTTP 401" in line and "token was refused" in line for line in result.lines)
    assert TOKEN not in result.text()


def test_expired_static_jwt_is_named(stub: OMStub, tmp_path: Path) -> None:
    import base64
    import json

    payload = base64.urlsafe_b64encode(json.dumps({"sub": "bot", "exp": 1_600_000_000}).encode()).rstrip(b"=")
    expired = f"eyJhbGciOiJSUzI1NiJ9.{payload.decode()}.c2ln"
    stub.valid_tokens = {expired}  # even a server that took it: the check says it is stale
    result = run_check(mapping_getter(options(stub, tmp_path, auth_provider_type="jwt", jwt_token=expired)))
    assert not result.ok
    assert "token: EXPIRED at 2020-09-13T12:26:40+00:00 (the server will refuse it)" in result.lines
    assert expired not in result.text()


def test_config_error_reported(tmp_path: Path) -> None:
    result = run_check(mapping_getter({"airflow_service_name": "MWAA"}))
    assert not result.ok
    assert result.lines[0].startswith("config: FAILED: [lineage] openmetadata_api_endpoint is missing")
    assert result.lines[-1] == "result: FAILED (1 problem(s))"


def test_server_down_reported(tmp_path: Path) -> None:
    get = mapping_getter(
        {
            "airflow_service_name": "M",
            "openmetadata_api_endpoint": "http://127.0.0.1:9",
            "timeout": "1",
            "spool_dir": str(tmp_path),
        }
    )
    result = run_check(get)
    assert not result.ok and result.server_version is None
    assert "server: FAILED: GET /v1/system/version: cannot connect to 127.0.0.1:9" in result.lines


def test_existing_service_and_no_auth(stub: OMStub, tmp_path: Path) -> None:
    stub.services["MWAA"] = {"id": "x", "name": "MWAA"}
    result = run_check(mapping_getter(options(stub, tmp_path)))
    assert result.ok and result.token_obtained is None and result.service_exists is True
    assert "token: not needed (no-auth)" in result.lines


def _cli(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "airflow_openmetadata_lineage", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_exit_codes(stub: OMStub, tmp_path: Path) -> None:
    stub.valid_tokens = {TOKEN}
    base = {
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__LINEAGE__AIRFLOW_SERVICE_NAME": "MWAA",
        "AIRFLOW__LINEAGE__OPENMETADATA_API_ENDPOINT": stub.url,
        "AIRFLOW__LINEAGE__AUTH_PROVIDER_TYPE": "openmetadata",
        "AIRFLOW__LINEAGE__SPOOL_DIR": str(tmp_path / "spool"),
    }
    good = _cli({**base, "AIRFLOW__LINEAGE__JWT_TOKEN": TOKEN})
    assert good.returncode == 0, good.stdout + good.stderr
    assert "result: OK" in good.stdout and TOKEN not in good.stdout + good.stderr
    bad = _cli({**base, "AIRFLOW__LINEAGE__JWT_TOKEN": TOKEN[::-1]})
    assert bad.returncode == 1
    assert "HTTP 401" in bad.stdout and TOKEN[::-1] not in bad.stdout + bad.stderr
    missing = _cli({**base, "AIRFLOW__LINEAGE__AUTH_PROVIDER_TYPE": "azure"})
    assert missing.returncode == 1
    assert "[lineage] client_id is missing: auth_provider_type=azure requires it" in missing.stdout


def test_pre_1_2_server_is_reported(stub: OMStub, tmp_path: Path) -> None:
    for version in ("0.13.2", "1.1.7"):
        stub.version = version
        result = run_check(mapping_getter(options(stub, tmp_path)))
        assert not result.ok and result.server_version == version
        assert any(
            f"server: FAILED: OpenMetadata {version} is not supported" in line and ">= 1.2" in line
            for line in result.lines
        )


def test_says_who_we_are_and_warns_for_a_person(stub: OMStub, tmp_path: Path) -> None:
    jwt_options = options(stub, tmp_path, auth_provider_type="jwt", jwt_token=TOKEN)
    result = run_check(mapping_getter(jwt_options))
    assert result.ok and "principal: ingestion-bot (a bot)" in result.lines
    stub.principal = {"name": "jane", "isBot": False}
    result = run_check(mapping_getter(jwt_options))
    assert result.ok and result.principal_is_bot is False
    assert any(line.startswith("principal: jane WARNING: not a bot") for line in result.lines)


def test_unknown_sso_principal_is_an_auth_setup_error(stub: OMStub, tmp_path: Path) -> None:
    stub.principal = None
    result = run_check(mapping_getter(options(stub, tmp_path, auth_provider_type="jwt", jwt_token=TOKEN)))
    assert not result.ok
    (line,) = [line for line in result.lines if line.startswith("principal: FAILED")]
    assert "no user or bot named 'stranger'" in line and "create that user" in line


def test_unwritable_spool_dir_is_a_problem_named_with_the_fix(stub: OMStub, tmp_path: Path) -> None:
    """The server is fine but spool_dir cannot be created (a file sits where the directory should be; root
    ignores permission bits, so a read-only mode would not show it here): the check fails and says so."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    result = run_check(mapping_getter({**options(stub, tmp_path), "spool_dir": str(blocker / "spool")}))
    assert not result.ok
    assert result.problems == [f"spool_dir: {blocker / 'spool'} is not writable"]
    assert f"spool_dir: FAILED: {blocker / 'spool'} is not writable: set [lineage] spool_dir" in result.lines
    assert result.lines[-1] == "result: FAILED (1 problem(s))"
