"""Install footprint: our wheel's size, and what each backend adds on top of Airflow 2.10.5's own set.

One scratch venv (.venvs/bench-dists) is built step by step: Airflow alone, then + our wheel, then + its [all]
extras; each step is a snapshot of installed distributions. The official side is .venvs/official (Airflow +
openmetadata-ingestion). "Added" = distributions that are new or at a different version than in Airflow's set.
Airflow's set here is what `pip install apache-airflow==2.10.5` resolves (no constraints file: MWAA's is on
GitHub, which these machines cannot reach).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / ".venvs"
UV = VENVS / "uv" / "bin" / "uv"
PROBE = ROOT / "bench" / "probe_dists.py"


@dataclass
class Footprint:
    count: int
    bytes: int
    names: list[str]


def build_wheel(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.whl"):
        old.unlink()
    subprocess.run(
        [str(UV), "build", "--wheel", "--out-dir", str(out_dir), str(ROOT / "python")],
        check=True,
        capture_output=True,
        env=_uv_env(),
    )
    return next(out_dir.glob("*.whl"))


def _uv_env() -> dict[str, str]:
    return {**os.environ, "UV_NATIVE_TLS": "1", "UV_LINK_MODE": "copy"}


def _snapshot(python: Path) -> dict[str, tuple[str, int]]:
    out = subprocess.run([str(python), str(PROBE)], check=True, capture_output=True, text=True).stdout
    return {name: (v[0], int(v[1])) for name, v in json.loads(out).items()}


def _install(venv: Path, *requirements: str) -> None:
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *requirements],
        check=True,
        capture_output=True,
        env=_uv_env(),
    )


def added(base: dict[str, tuple[str, int]], other: dict[str, tuple[str, int]]) -> Footprint:
    names = sorted(n for n, (version, _) in other.items() if base.get(n, ("", 0))[0] != version)
    return Footprint(len(names), sum(other[n][1] for n in names), names)


def measure(wheel: Path) -> dict[str, Footprint]:
    """Footprints keyed 'ours', 'ours[all]', 'official' (what each adds on top of Airflow's set)."""
    venv = VENVS / "bench-dists"
    shutil.rmtree(venv, ignore_errors=True)
    interpreter = VENVS / "driver" / "bin" / "python"  # the same Python 3.11 the other venvs use
    subprocess.run(
        [str(UV), "venv", "-q", "--python", str(interpreter), str(venv)], check=True, env=_uv_env()
    )
    python = venv / "bin" / "python"
    _install(venv, "apache-airflow==2.10.5")
    base = _snapshot(python)
    _install(venv, str(wheel))
    ours = _snapshot(python)
    _install(venv, f"{wheel}[all]")
    ours_all = _snapshot(python)
    official = _snapshot(VENVS / "official" / "bin" / "python")
    return {
        "ours": added(base, ours),
        "ours[all]": added(base, ours_all),
        "official": added(base, official),
    }
