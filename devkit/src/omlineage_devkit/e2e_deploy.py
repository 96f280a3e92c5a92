"""One end-to-end deployment: terraform apply of tests/e2e/root -> MWAA (emulated) -> local Airflow run.

Shared by tests/e2e and scripts/demo.py so the demo shows exactly what the test proves.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omlineage_devkit.airflow_runner import DagRunResult
from omlineage_devkit.local_aws import LocalAws
from omlineage_devkit.mwaa_local import LocalEnvironment, aws_env_for, prepare
from omlineage_devkit.terraform import REPO, Terraform, stage

ROOT = REPO / "tests" / "e2e" / "root"
DAGS = REPO / "tests" / "e2e" / "dags"
DAG_ID = "mwaa_etl"
SERVICE = "mwaa_e2e"
TABLES = (
    "sample.shop.raw.orders",
    "sample.shop.raw.customers",
    "sample.shop.staging.orders",
    "sample.shop.mart.orders",
)
LOGICAL_DATE = "2024-01-02T00:00:00"
# openmetadata keys the module takes through its ephemeral openmetadata_credentials input
CREDENTIAL_KEYS = ("jwt_token", "secret_key", "client_secret", "private_key")


def build_artifacts(out: Path) -> Path:
    """scripts/build_artifacts.py into `out`; returns the plugins.zip path."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_artifacts.py"), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/build_artifacts.py failed:\n{proc.stderr[-3000:]}")
    return out / "plugins.zip"


@dataclass
class Deployment:
    """A staged, initialised copy of the e2e root against `aws`; apply/run/destroy with timings."""

    aws: LocalAws
    workdir: Path
    network: dict[str, Any]
    plugins_zip: Path
    name: str = "lineage-e2e"
    log: Callable[[str], None] = lambda _msg: None
    timings: dict[str, float] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # terraform stdout per command (slow-step hunting)

    def __post_init__(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
        stage(ROOT, self.workdir)
        self.aws.write_override(self.workdir)
        self.tf = Terraform(self.workdir)
        self._timed("init", self.tf.init)

    def _timed(self, what: str, call: Callable[[], Any]) -> Any:
        started = time.monotonic()
        try:
            return call()
        finally:
            self.timings[what] = round(time.monotonic() - started, 1)

    def apply(
        self,
        openmetadata: dict[str, Any],
        options: dict[str, str] | None = None,
        airflow_version: str = "2.10.3",
        no_internet: bool = False,
    ) -> dict[str, Any]:
        # no_internet: the module creates a VPC without NAT or internet gateway (VPC endpoints only)
        network = (
            {"create_vpc": True, "nat_gateway_mode": "none"}
            if no_internet
            else {"vpc_id": self.network["vpc_id"], "private_subnet_ids": self.network["subnet_ids"]}
        )
        self.variables = {
            "name": self.name,
            "airflow_version": airflow_version,
            **network,
            "openmetadata": {
                "airflow_service_name": SERVICE,
                **{k: v for k, v in openmetadata.items() if k not in CREDENTIAL_KEYS},
            },
            "openmetadata_credentials": {k: v for k, v in openmetadata.items() if k in CREDENTIAL_KEYS}
            or None,
            "airflow_configuration_options": options or {},
            "plugins_zip_path": str(self.plugins_zip),
            "dags_dir": str(DAGS),
        }
        self.outputs["apply"] = self._timed("apply", lambda: self.tf.apply(self.variables))
        return self.tf.output()

    def plan_exitcode(self) -> int:
        return self._timed("plan", lambda: self.tf.plan_exitcode(self.variables))

    def local(self, **extra_env: str) -> LocalEnvironment:
        return self._timed(
            "prepare",
            lambda: prepare(
                self.aws.client("mwaa"),
                self.aws.client("s3"),
                self.name,
                aws_env=aws_env_for(self.aws.endpoint, self.aws.region),
                extra_env=extra_env,
                log=self.log,
            ),
        )

    def run(self, local: LocalEnvironment) -> DagRunResult:
        return self._timed("dag", lambda: local.run(DAG_ID, logical_date=LOGICAL_DATE))

    def destroy(self) -> None:
        if self.variables:
            self.outputs["destroy"] = self._timed("destroy", lambda: self.tf.destroy(self.variables))
