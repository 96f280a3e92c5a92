"""The lineage backends under comparison: where they live and the `[lineage]` options each one reads.

`ours` and `official` are `[lineage] backend`s (timed by the shim); `openlineage` is the OpenLineage
provider's listener with its HTTP transport (timed by the hook-timing plugin, bench/plugins/); `none` is
the same Airflow with no lineage at all (the makespan baseline). A venv can be moved with BENCH_VENV_<NAME>
(e.g. BENCH_VENV_OFFICIAL=/elsewhere/official) for a machine that keeps it outside .venvs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / ".venvs"


def venv(name: str) -> Path:
    return Path(os.environ.get(f"BENCH_VENV_{name.upper().replace('-', '_')}") or VENVS / name)


SERVICE_NAME = "bench_airflow"
# Ours must never hold a task longer than this (issue 8 target); the official backend has no such option.
TIME_BUDGET_SECONDS = 5.0


@dataclass(frozen=True)
class Backend:
    name: str
    venv: Path
    class_path: str  # "" = no `[lineage] backend` (no shim)
    sink: bool = False  # reports to the OpenLineage sink, not to OpenMetadata

    def options(self, api_url: str, token: str, spool_dir: Path) -> dict[str, str]:
        """`[lineage]` options (without `backend`: the timing shim takes that slot and wraps class_path)."""
        common = {
            "airflow_service_name": SERVICE_NAME,
            "openmetadata_api_endpoint": api_url,
            "jwt_token": token,
        }
        if self.name == "ours":
            return {
                **common,
                "auth_provider_type": "openmetadata",
                "time_budget": str(TIME_BUDGET_SECONDS),
                "spool_dir": str(spool_dir),
            }
        # The official loader always uses JWT auth from jwt_token; retry/timeout stay at their defaults
        # (retry 3, retry_wait 30 s, retry_codes [504], timeout (10, 300)) because that is what users get.
        return common if self.class_path else {}

    def env(self, sink_url: str | None) -> dict[str, str]:
        """Environment beyond `[lineage]`: the OpenLineage provider's transport (defaults otherwise: timeout
        5 s, no retries, `[openlineage] execution_timeout` 10 s for the forked emitter the task waits for)."""
        if not self.sink:
            return {}
        return {
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "http", "url": sink_url or ""}),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": SERVICE_NAME,
        }


OURS = Backend("ours", venv("airflow2"), "airflow_openmetadata_lineage.backend.OpenMetadataLineageBackend")
OFFICIAL = Backend(
    "official", venv("official"), "airflow_provider_openmetadata.lineage.backend.OpenMetadataLineageBackend"
)
OPENLINEAGE = Backend("openlineage", venv("airflow2-ol"), "", sink=True)
# The makespan baseline: ours's own venv (Airflow 2.10.5, the same providers) with no `[lineage]` at all, so
# the wheel's listener finds no configuration and returns at once. Another venv (the official one, with 88
# more distributions for Airflow to discover) moves the makespan by more than lineage does.
NONE = Backend("none", venv("airflow2"), "")
BACKENDS = (OURS, OFFICIAL)  # the import / DAG-size / held sections: OpenMetadata backends
PATH_BACKENDS = (NONE, OURS, OFFICIAL, OPENLINEAGE)  # the critical-path section, side by side
