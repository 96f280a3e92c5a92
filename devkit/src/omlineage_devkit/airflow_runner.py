"""Run a real DAG with `airflow dags test` in a fresh AIRFLOW_HOME (SQLite) of `.venvs/<venv>`, by subprocess.

The metadata DB is migrated once per venv (cached in the temp dir, keyed by the venv's airflow binary,
guarded by a file lock so parallel pytest sessions share it) and copied into each run's AIRFLOW_HOME.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .paths import REPO, venv_python

DAGS_DIR = REPO / "tests" / "dags"
CACHE_ROOT = Path(tempfile.gettempdir()) / "airflow-om-lineage-tests"
# 2.x: "Marking task as SUCCESS. dag_id=d, task_id=t, ...".
_MARKING = re.compile(r"Marking task as (\w+)\. dag_id=([^,]+), task_id=([^,]+),")
# 3.x: "Task instance state updated new_state=success ... ti_id=<uuid>"; the uuid -> task id map comes from
# the RuntimeTaskInstance(id=UUID('<uuid>'), task_id='<task>', ...) reprs in the same output.
_AF3_STATE = re.compile(r"Task instance state updated\s+new_state=(\w+).*?ti_id=([0-9a-f-]{36})")
_AF3_TI = re.compile(r"RuntimeTaskInstance\(id=UUID\('([0-9a-f-]{36})'\), task_id='([^']+)'")
_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})")
# The last line an operator's execute() logs: PythonOperator, BashOperator.
_RETURNED = ("Done. Returned value was", "Command exited with return code")


@dataclass
class DagRunResult:
    rc: int
    output: str
    wall_s: float
    home: Path
    dag_id: str
    states: dict[str, str] = field(default_factory=dict)

    def assert_ok(self) -> None:
        assert self.rc == 0, f"`airflow dags test {self.dag_id}` rc={self.rc}\n{self.output[-6000:]}"


def _clean_env() -> dict[str, str]:
    """The caller's environment minus anything Airflow would pick up from it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    no_proxy = ",".join(filter(None, [env.get("NO_PROXY", ""), "127.0.0.1,localhost"]))
    env.update({"NO_PROXY": no_proxy, "no_proxy": no_proxy, "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def base_env(home: Path, venv: str) -> dict[str, str]:
    env = _clean_env()
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # Worker-wide caches of the wheel live per AIRFLOW_HOME, so tests never share them by accident.
            "AIRFLOW__LINEAGE__SPOOL_DIR": str(home / "spool"),
            # executors spawn `airflow tasks run` from PATH: make it this venv's
            "PATH": f"{venv_python(venv).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


def _airflow(venv: str) -> Path:
    return venv_python(venv).parent / "airflow"


def template_db(venv: str) -> Path:
    """A migrated, empty airflow.db for this venv (built once, shared through a file lock)."""
    airflow = _airflow(venv)
    key = f"{venv}-{int(airflow.stat().st_mtime)}"
    target = CACHE_ROOT / key
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(CACHE_ROOT / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        db = target / "airflow.db"
        if (target / "ok").exists():
            return db
        shutil.rmtree(target, ignore_errors=True)
        (target / "dags").mkdir(parents=True)
        proc = subprocess.run(
            [str(airflow), "db", "migrate"],
            env=base_env(target, venv),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"`airflow db migrate` in .venvs/{venv} failed:\n{proc.stdout}\n{proc.stderr}")
        (target / "ok").write_text("ok")
        return db


def new_home(venv: str, dag_files: Iterable[str | Path], root: Path | None = None) -> Path:
    """A fresh AIRFLOW_HOME with a copy of the template DB and these DAG files (names under tests/dags/)."""
    home = Path(tempfile.mkdtemp(prefix=f"afhome-{venv}-", dir=root))
    (home / "dags").mkdir()
    shutil.copy2(template_db(venv), home / "airflow.db")
    for dag_file in dag_files:
        src = Path(dag_file)
        src = src if src.is_absolute() else DAGS_DIR / src
        shutil.copy2(src, home / "dags" / src.name)
    return home


def run_dag(
    dag_id: str,
    dag_files: Iterable[str | Path] = (),
    *,
    venv: str = "airflow2",
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    logical_date: str | None = None,
    reserialize: bool = False,
    timeout: float = 300,
) -> DagRunResult:
    """`airflow dags test <dag_id> <logical_date>` in `home` (a fresh one from `dag_files` when None).

    `env` is laid over the defaults (typically `AIRFLOW__LINEAGE__*`). Reuse `home` for a second run to keep
    the wheel's worker-wide cache (steady state); give each run its own `logical_date`. Airflow 3 needs
    `reserialize=True` when the DAG uses Assets.
    """
    if home is None:
        home = new_home(venv, dag_files)
    full_env = base_env(home, venv)
    full_env.update(env or {})
    airflow = str(_airflow(venv))
    date = logical_date or datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    started = time.monotonic()
    output = ""
    if reserialize:
        pre = subprocess.run(
            [airflow, "dags", "reserialize"], env=full_env, capture_output=True, text=True, timeout=timeout
        )
        output += pre.stdout + pre.stderr
    try:
        proc = subprocess.run(
            [airflow, "dags", "test", dag_id, date],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=str(home),
        )
        rc, output = proc.returncode, output + proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        rc, output = -9, f"{output}{out}\n[airflow_runner] timed out after {timeout}s"
    wall = time.monotonic() - started
    return DagRunResult(rc, output, wall, home, dag_id, db_task_states(home, dag_id))


def run_backfill(
    dag_id: str,
    dag_files: Iterable[str | Path] = (),
    *,
    date: str,
    venv: str = "airflow2",
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    timeout: float = 600,
) -> DagRunResult:
    """`airflow dags backfill -s date -e date` with the SequentialExecutor: every task runs in its own
    `airflow tasks run` -> `--raw` process, as on a real worker (unlike `dags test`, which runs all tasks in
    one process). The DAG needs a schedule. `output` is the CLI output followed by every task log file."""
    if home is None:
        home = new_home(venv, dag_files)
    full_env = base_env(home, venv)
    full_env["AIRFLOW__CORE__EXECUTOR"] = "SequentialExecutor"
    full_env.update(env or {})
    cmd = [str(_airflow(venv)), "dags", "backfill", "-s", date, "-e", date, dag_id]
    started = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, env=full_env, capture_output=True, text=True, timeout=timeout, cwd=str(home)
        )
        rc, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired:
        rc, output = -9, f"[airflow_runner] backfill timed out after {timeout}s"
    wall = time.monotonic() - started
    for log_file in sorted((home / "logs").rglob("*.log")):
        output += f"\n===== {log_file.relative_to(home)}\n{log_file.read_text(errors='replace')}"
    return DagRunResult(rc, output, wall, home, dag_id, db_task_states(home, dag_id))


def db_task_states(home: Path, dag_id: str) -> dict[str, str]:
    """Task id -> state of the latest run of `dag_id`, read from the run's SQLite DB."""
    try:
        with sqlite3.connect(home / "airflow.db") as conn:
            rows = conn.execute(
                "SELECT task_id, state, run_id FROM task_instance WHERE dag_id = ? ORDER BY run_id",
                (dag_id,),
            ).fetchall()
    except sqlite3.Error:
        return {}
    if not rows:
        return {}
    last_run = max(r[2] for r in rows)
    return {task: state or "none" for task, state, run in rows if run == last_run}


def parse_task_states(output: str) -> dict[str, str]:
    """Task id -> final state from `dags test` output (Airflow 2 and 3 log formats)."""
    states = {m.group(3): m.group(1).lower() for m in _MARKING.finditer(output)}
    ti_ids = {m.group(1): m.group(2) for m in _AF3_TI.finditer(output)}
    for m in _AF3_STATE.finditer(output):
        states[ti_ids.get(m.group(2), m.group(2))] = m.group(1).lower()
    return states


def _stamp(line: str) -> float | None:
    match = _STAMP.match(line)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()


def task_overheads(output: str) -> dict[str, float]:
    """Seconds between the end of a Python/Bash operator's execute() and its "Marking task as" line.

    Airflow 2: that gap is where `post_execute` -> `send_lineage` runs, i.e. the time the lineage backend
    added to the task.
    """
    overheads: dict[str, float] = {}
    last_done: float | None = None
    for line in output.splitlines():
        if any(marker in line for marker in _RETURNED):
            last_done = _stamp(line)
            continue
        match = _MARKING.search(line)
        if match and last_done is not None:
            end = _stamp(line)
            if end is not None:
                overheads[match.group(3)] = end - last_done
            last_done = None
    return overheads
