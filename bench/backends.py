"""The two lineage backends under comparison: where they live and the `[lineage]` options each one reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / ".venvs"
SERVICE_NAME = "bench_airflow"
# Ours must never hold a task longer than this (issue 8 target); the official backend has no such option.
TIME_BUDGET_SECONDS = 5.0


@dataclass(frozen=True)
class Backend:
    name: str
    venv: Path
    class_path: str

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
        return common


OURS = Backend("ours", VENVS / "airflow2", "airflow_openmetadata_lineage.backend.OpenMetadataLineageBackend")
OFFICIAL = Backend(
    "official", VENVS / "official", "airflow_provider_openmetadata.lineage.backend.OpenMetadataLineageBackend"
)
BACKENDS = (OURS, OFFICIAL)
