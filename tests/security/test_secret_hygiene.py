"""Secrets never leave the wheel: not in logs (DEBUG, every library logger on), exception and error messages,
the self-check output, or the spool and cache files; for every auth provider, on the happy path and on each
error path (identity provider down, OpenMetadata refusing the token), and for a secret fetched from Secrets
Manager (botocore logs response bodies at DEBUG).

The Terraform side (plan text, planned S3 objects, `lineage_configuration`, applied environment) is
asserted by tests/terraform/test_plan_matrix.py
(test_secrets_absent_from_objects_outputs_policies_and_plan_text,
test_lineage_configuration_output_has_references_not_secrets) and tests/terraform/test_apply.py: not repeated.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from omlineage_devkit.emulators.identity import PROVIDERS, IdentityServers
from omlineage_devkit.openmetadata import OpenMetadataEmulator, sso_users
from omlineage_devkit.paths import PROBES, venv_python

PROBE = PROBES / "hygiene_probe.py"
STEPS = ["ok", "idp_down", "om_401", "check"]


def fragments(secret: str) -> list[str]:
    """The secret and every line of a multi-line one (a PEM line alone is still the key), in the encodings
    a leak could take: raw, %-doubled, JSON-escaped."""
    pieces = {secret, *(line.strip() for line in secret.splitlines())}
    pieces |= {p.replace("%", "%%") for p in pieces} | {json.dumps(p)[1:-1] for p in pieces}
    return sorted(p for p in pieces if len(p) >= 12 and not p.startswith("-----"))


def probe_env(options: dict[str, str], om: OpenMetadataEmulator, spool: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "REQUESTS_CA", "CURL_CA"))}
    values = {
        **options,
        "airflow_service_name": "mwaa_sec",
        "openmetadata_api_endpoint": om.api_url,
        "spool_dir": str(spool),
        "timeout": "3",
        "time_budget": "6",
    }
    for key, value in values.items():
        if "\n" in value:
            import base64

            value = "base64:" + base64.b64encode(value.encode()).decode()
        env[f"AIRFLOW__LINEAGE__{key.upper()}"] = value.replace("%", "%%")
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def run_probe(spec: dict[str, Any], env: dict[str, str], tmp: Path) -> subprocess.Popen[str]:
    path = tmp / "spec.json"
    path.write_text(json.dumps(spec))
    return subprocess.Popen(
        [str(venv_python("airflow2")), str(PROBE), str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def leaks(text: str, secrets: list[str]) -> list[str]:
    return [f"...{s[:4]}...({len(s)} chars)" for secret in secrets for s in fragments(secret) if s in text]


def spool_text(spool: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in spool.rglob("*") if p.is_file())


def test_no_provider_secret_in_logs_errors_check_or_spool(
    om: OpenMetadataEmulator, idp: IdentityServers, tmp_path: Path
) -> None:
    om.seed_tables("mysql.sec.s.src", "mysql.sec.s.dst")
    om.set_auth(**{k: v for k, v in idp.om_auth().items() if k != "enabled"}, users=sso_users(idp))
    jwt = om.token("ingestion-bot")
    cases: dict[str, tuple[dict[str, str], list[str], str | None]] = {
        "openmetadata": ({"auth_provider_type": "openmetadata", "jwt_token": jwt}, [jwt], None),
    }
    for provider in PROVIDERS:
        realm = idp.realms[provider]
        cases[provider] = (idp.options(provider), idp.secrets(provider), realm.url + "/__admin")

    problems = []
    for name, (options, _, admin_url) in cases.items():  # one at a time: they switch the same emulator
        work = tmp_path / name
        work.mkdir()
        spec = {"steps": STEPS, "om_admin": f"{om.url}/__admin", "idp_admin": admin_url, "ca": idp.ca_cert}
        proc = run_probe(spec, probe_env(options, om, work / "spool"), work)
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"{name}: probe failed:\n{err[-3000:]}"
        results = json.loads(out.strip().splitlines()[-1])
        # every path really ran: delivered, kept for later, refused, checked
        assert results["ok"] == {"error": None, "status_sent": True}, (name, results["ok"])
        if name == "openmetadata":  # no identity provider to take down: the step is a second delivery
            assert results["idp_down"] == {"error": None, "status_sent": True}, (name, results["idp_down"])
        else:  # the token endpoint's 503 stopped the report before any status was sent
            assert results["idp_down"]["error"] and not results["idp_down"]["status_sent"], (name, results)
        assert "401" in (results["om_401"]["error"] or ""), (name, results["om_401"])
        assert "result: OK" in results["check"], (name, results["check"])
        assert "DEBUG urllib3" in err, f"{name}: DEBUG logging was not on"
        spooled = list((work / "spool" / "spool").rglob("*.json"))
        assert spooled, f"{name}: nothing was spooled on the error paths"
        secrets = cases[name][1]
        for where, text in (("stdout", out), ("stderr/logs", err), ("spool_dir files", spool_text(work))):
            found = leaks(text, secrets)
            if found:
                problems.append(f"{name}: secret in {where}: {found}")
        # bearer tokens are secrets too: no JWT of any issuer in the output
        if "eyJ" in out + err:
            problems.append(f"{name}: a JWT-looking string in the output")
    assert not problems, "\n".join(problems)


def test_secrets_manager_value_not_logged_at_debug(om: OpenMetadataEmulator, tmp_path: Path) -> None:
    """`jwt_token = aws-secretsmanager:<arn>` against moto with botocore at DEBUG: the value never shows."""
    from omlineage_devkit.terraform import MotoServer

    om.seed_tables("mysql.sec.s.src", "mysql.sec.s.dst")
    om.set_auth(enabled=True)
    jwt = om.token("ingestion-bot")
    with MotoServer() as moto:
        import boto3

        client = boto3.client(
            "secretsmanager",
            region_name="us-east-1",
            endpoint_url=moto.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        arn = client.create_secret(
            Name="openmetadata-lineage/sec", SecretString=json.dumps({"jwt_token": jwt})
        )["ARN"]
        env = probe_env(
            {"auth_provider_type": "openmetadata", "jwt_token": f"aws-secretsmanager:{arn}#jwt_token"},
            om,
            tmp_path / "spool",
        )
        env.update(
            AWS_ENDPOINT_URL=moto.endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
        spec = {"steps": ["ok", "om_401", "check"], "om_admin": f"{om.url}/__admin"}
        proc = run_probe(spec, env, tmp_path)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    results = json.loads(out.strip().splitlines()[-1])
    assert results["ok"] == {"error": None, "status_sent": True}, results
    assert "DEBUG botocore" in err or "DEBUG urllib3" in err
    assert not leaks(out + err + spool_text(tmp_path / "spool"), [jwt])
    assert "eyJ" not in out + err


@pytest.mark.parametrize("provider", ["openmetadata", "custom-oidc"])
def test_canary_credentials_refused_never_echoed(
    om: OpenMetadataEmulator, idp: IdentityServers, tmp_path: Path, provider: str
) -> None:
    """Wrong credentials that are obviously canaries: the refusals (401 from OpenMetadata, invalid_client from
    the identity provider) are reported without quoting them."""
    canary = "CANARY-" + provider + "-0f9e8d7c6b5a-%-secret"
    om.set_auth(**{k: v for k, v in idp.om_auth().items() if k != "enabled"}, users=sso_users(idp))
    if provider == "openmetadata":
        options = {"auth_provider_type": "openmetadata", "jwt_token": canary}
    else:
        options = {**idp.options(provider), "secret_key": canary}
    spec = {"steps": ["ok", "check"], "om_admin": f"{om.url}/__admin"}
    proc = run_probe(spec, probe_env(options, om, tmp_path / "spool"), tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    results = json.loads(out.strip().splitlines()[-1])
    assert results["ok"]["error"], results
    assert "FAILED" in results["check"], results["check"]
    text = out + err + spool_text(tmp_path / "spool")
    assert "CANARY" not in text and "0f9e8d7c6b5a" not in text
