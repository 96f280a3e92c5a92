"""Start the OpenMetadata emulator (emulators/openmetadata.py) in .venvs/oracle; drive its admin API."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .admin_client import AdminClient
from .paths import REPO, venv_python
from .tls import self_signed_cert

# Run as `python -m` in .venvs/oracle (requirements/oracle.txt installs the kit there).
EMULATOR = "omlineage_devkit.emulators.openmetadata"


class OpenMetadataEmulator(AdminClient):
    """Admin client for a running emulator; `api_url` is what `openmetadata_api_endpoint` should be."""

    def __init__(self, url: str, https_url: str | None = None, ca_cert: Path | None = None) -> None:
        super().__init__(url)
        self.api_url = f"{self.url}/api"
        # The same emulator (same state) over TLS, with the self-signed certificate that verifies it.
        self.https_url = https_url
        self.https_api_url = f"{https_url}/api" if https_url else None
        self.ca_cert = ca_cert

    def reset(self) -> None:
        """Forget every entity, edge, status, logged request and fault rule; auth back on (the default).
        Raw API calls through `http` then go as the user `admin` (a non-bot principal)."""
        self._admin("POST", "reset")
        self.http.headers["Authorization"] = f"Bearer {self.user_token('admin')}"

    def seed_tables(self, *fqns: str, columns: dict[str, list[str]] | None = None) -> dict[str, str]:
        """Create tables (and their service/database/schema), with `columns` per FQN; returns FQN -> id."""
        body = {"fqns": list(fqns), "columns": columns or {}}
        created = self._admin("POST", "tables", json=body)["tables"]
        return {t["fqn"]: t["id"] for t in created}

    def set_server(self, version: str | None = None, edge_api: bool | None = None) -> None:
        """The version the server reports; `edge_api=False`: no getLineageEdge / lineage PATCH routes."""
        body: dict[str, Any] = {}
        if version is not None:
            body["version"] = version
        if edge_api is not None:
            body["edge_api"] = edge_api
        self._admin("POST", "server", json=body)

    def bot_env(self, sub: str = "ingestion-bot") -> dict[str, str]:
        """`[lineage]` auth options for a bot of this emulator (its current token)."""
        return {"auth_provider_type": "openmetadata", "jwt_token": self.token(sub)}

    def state(self) -> dict[str, Any]:
        return self._admin("GET", "state")

    def set_auth(
        self,
        enabled: bool = True,
        jwks_urls: list[str] | None = None,
        ca_bundle: str | None = None,
        audience: str | None = None,
        users: list[str] | None = None,
    ) -> None:
        body = {
            "enabled": enabled,
            "jwks_urls": jwks_urls or [],
            "ca_bundle": ca_bundle,
            "audience": audience,
            "users": users or [],
        }
        self._admin("POST", "auth", json=body)

    def token(self, sub: str = "ingestion-bot", ttl: int | None = 3600) -> str:
        """A new JWT for the bot `sub`, which becomes its current token (the one before stops working);
        negative ttl: already expired; None: never expires."""
        return self._admin("POST", "token", json={"sub": sub, "ttl": ttl})["token"]

    def user_token(self, sub: str, ttl: int | None = 3600) -> str:
        """A JWT of the (non-bot) user `sub`."""
        return self._admin("POST", "token", json={"sub": sub, "ttl": ttl, "bot": False})["token"]

    def set_faults(self, *rules: dict[str, Any]) -> None:
        """Rules: {"path_regex", "method", "mode": status|delay|reset|malformed|retry_after, "status",
        "delay_ms", "retry_after", "count"}; the first matching rule applies."""
        self._admin("POST", "faults", json={"rules": list(rules)})

    def clear_faults(self) -> None:
        self._admin("POST", "faults", json={"rules": []})

    def set_latency(
        self,
        fixed_ms: float = 0,
        *,
        read: float | None = None,
        status_put: float | None = None,
        lineage_put: float | None = None,
        write: float | None = None,
        jitter_ms: float = 0,
        drip_bytes_per_s: float = 0,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """The latency model (emulators/latency.py): every answer waits fixed_ms + the per-kind delay +
        uniform [0, jitter_ms]; drip_bytes_per_s > 0 sends bodies at that rate. `set_latency()` = off."""
        kinds = {"read": read, "status_put": status_put, "lineage_put": lineage_put, "write": write}
        body = {
            "fixed_ms": fixed_ms,
            "per_kind_ms": {k: v for k, v in kinds.items() if v is not None},
            "jitter_ms": jitter_ms,
            "drip_bytes_per_s": drip_bytes_per_s,
            "seed": seed,
        }
        return self._admin("POST", "latency", json=body)["latency"]

    def latency(self) -> dict[str, Any]:
        return self._admin("GET", "latency")

    # -- convenience views over state()
    def pipeline(self, fqn: str) -> dict[str, Any]:
        for pipeline in self.state()["pipelines"]:
            if pipeline["fullyQualifiedName"] == fqn:
                return pipeline
        raise AssertionError(f"emulator holds no pipeline {fqn!r}")

    def edges(self) -> set[tuple[str, str, str | None]]:
        """Lineage edges as (from FQN, to FQN, pipeline FQN)."""
        return {(e["from"], e["to"], e["pipeline"]) for e in self.state()["edges"]}


# Lookups of a get-or-create: a 404 there means "not there yet" (the wheel then creates it), not a rejection.
_LOOKUPS = (
    "/api/v1/services/pipelineServices/name/",
    "/api/v1/pipelines/name/",
    "/api/v1/lineage/getLineageEdge/",
)


def rejected(log: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    """Requests of an emulator log the server refused (or never answered), apart from lookup 404s."""
    return [
        (r["method"], r["path"], r["status"])
        for r in log
        if r["status"] is None
        or (
            r["status"] >= 400
            and not (r["status"] == 404 and r["method"] == "GET" and r["path"].startswith(_LOOKUPS))
        )
    ]


def sso_users(idp: Any) -> list[str]:
    """The OpenMetadata user names of every client of the identity servers: the principal the server
    derives from their tokens (email, else the subject = client id; cut at '@'), so an administrator has
    created each of them as a user."""
    names = set()
    for realm in idp.realms.values():
        for client in realm.clients.values():
            names.add((getattr(client, "email", None) or client.client_id).split("@", 1)[0])
        email = realm.extra.get("email") if isinstance(realm.extra, dict) else None
        if email:
            names.add(str(email).split("@", 1)[0])
    return sorted(names)


class EmulatorProcess:
    """The emulator as a subprocess on a free loopback port."""

    def __init__(self, startup_timeout: float = 90.0, extra_args: list[str] | None = None) -> None:
        self.startup_timeout = startup_timeout
        self.extra_args = extra_args or []
        self.workdir = Path(tempfile.mkdtemp(prefix="om-emulator-"))
        self.log_path = self.workdir / "emulator.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.client: OpenMetadataEmulator | None = None

    def start(self) -> OpenMetadataEmulator:
        python = venv_python("oracle")
        port_file = self.workdir / "port"
        tls_port_file = self.workdir / "tls-port"
        cert, key = self_signed_cert(self.workdir)
        tls_args = ["--tls-cert", str(cert), "--tls-key", str(key), "--tls-port-file", str(tls_port_file)]
        log = open(self.log_path, "wb")  # noqa: SIM115 (lives as long as the process)
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        self.proc = subprocess.Popen(
            [
                str(python),
                "-m",
                EMULATOR,
                "--port",
                "0",
                "--port-file",
                str(port_file),
                *tls_args,
                "--schema-venvs",
                str(REPO / ".venvs"),
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(REPO),
        )
        deadline = time.monotonic() + self.startup_timeout
        while not port_file.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"OpenMetadata emulator exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"OpenMetadata emulator not ready after {self.startup_timeout}s:\n{self.log_tail()}"
                )
            time.sleep(0.2)
        args = self.extra_args
        certfile = args[args.index("--certfile") + 1] if "--certfile" in args else None
        scheme = "https" if certfile else "http"
        self.client = OpenMetadataEmulator(
            f"{scheme}://127.0.0.1:{port_file.read_text().strip()}",
            https_url=f"https://127.0.0.1:{tls_port_file.read_text().strip()}",
            ca_cert=cert,
        )
        self.client.http.verify = certfile or True
        self.client.http.get(f"{self.client.api_url}/v1/system/version", timeout=10).raise_for_status()
        return self.client

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
