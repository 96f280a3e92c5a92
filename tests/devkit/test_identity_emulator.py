"""omlineage_devkit.emulators.identity as a process (how other suites reuse it): info file, token, JWKS, admin
API."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import jwt
import requests


def test_identity_servers_as_a_process(tmp_path: Path) -> None:
    info_file = tmp_path / "identity.json"
    cmd = [
        sys.executable,
        "-m",
        "omlineage_devkit.emulators.identity",
        "--dir",
        str(tmp_path),
        "--info-file",
        str(info_file),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not info_file.exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "identity servers did not start in 30 s"
            time.sleep(0.1)
        info = json.loads(info_file.read_text())
        http = requests.Session()
        http.trust_env = False
        http.verify = info["ca_cert"]
        opts = info["options"]["custom-oidc"]
        assert info["lineage_env"]["custom-oidc"]["AIRFLOW__LINEAGE__SECRET_KEY"] == opts[
            "secret_key"
        ].replace("%", "%%")
        resp = http.post(
            opts["token_endpoint"],
            data={"grant_type": "client_credentials"},
            auth=(opts["client_id"], opts["secret_key"]),
            timeout=5,
        )
        assert resp.status_code == 200, resp.text
        token = resp.json()["access_token"]
        keys = jwt.PyJWKSet.from_dict(http.get(info["realms"]["custom-oidc"]["jwks_url"], timeout=5).json())
        claims = jwt.decode(token, keys.keys[0].key, algorithms=["RS256"], audience=info["audience"])
        assert claims["sub"] == opts["client_id"]
        wrong = http.post(
            opts["token_endpoint"],
            data={"grant_type": "client_credentials"},
            auth=(opts["client_id"], "nope"),
            timeout=5,
        )
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        admin = http.get(info["realms"]["custom-oidc"]["admin_url"], timeout=5).json()
        assert admin["token_requests"] == 2
    finally:
        proc.terminate()
        proc.wait(10)
