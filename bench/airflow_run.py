"""Runs `airflow dags test` for a benchmark DAG in a venv, with the timing shim as `[lineage] backend`."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIM_DIR = ROOT / "bench" / "shim"
SHIM_CLASS = "bench_timing_backend.TimingBackend"
PLUGINS_DIR = ROOT / "bench" / "plugins"  # bench_hook_timing: times the task-instance listener hooks


@dataclass
class RunResult:
    returncode: int | None  # None: stopped at the time cap
    seconds: float
    log: Path


def airflow_env(home: Path, dags: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "PYTHONWARNINGS": "ignore",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    env.update(extra)
    return env


def prepare_home(venv: Path, home: Path, dags: Path) -> None:
    """A fresh AIRFLOW_HOME with a migrated SQLite DB (once per venv and scenario)."""
    home.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(venv / "bin" / "airflow"), "db", "migrate"],
        env=airflow_env(home, dags, {}),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=300,
    )


def dags_test(
    venv: Path,
    home: Path,
    dags: Path,
    dag_id: str,
    logical_date: str,
    lineage: dict[str, str],
    shim: dict[str, str],
    log: Path,
    time_cap: float,
    use_shim: bool = True,
    env: dict[str, str] | None = None,
) -> RunResult:
    """One DAG run in one process (all tasks; send_lineage and the listener hooks run in that process around
    each task). `use_shim=False`: no `[lineage] backend` at all (the listener-only and no-lineage runs)."""
    extra = {f"AIRFLOW__LINEAGE__{key.upper()}": value for key, value in lineage.items()}
    if use_shim:
        extra["AIRFLOW__LINEAGE__BACKEND"] = SHIM_CLASS
    # this checkout's wheel source wins over wherever the venv's editable install points
    extra["PYTHONPATH"] = os.pathsep.join([str(SHIM_DIR), str(ROOT / "python" / "src")])
    extra["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(PLUGINS_DIR)
    extra.update(shim)
    extra.update(env or {})
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(venv / "bin" / "airflow"), "dags", "test", dag_id, logical_date],
            env=airflow_env(home, dags, extra),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code: int | None = proc.wait(timeout=time_cap)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)  # our own process group only
            proc.wait()
            code = None
    return RunResult(code, time.perf_counter() - started, log)
