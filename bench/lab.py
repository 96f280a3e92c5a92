"""One benchmark cell = one `airflow dags test` against the emulator: run it, collect the numbers.

A context is a fresh world for one backend and one DAG size: emulator state reset and seeded with the DAG's
tables, a new Airflow DB (copied from a migrated template), a new spool dir. Runs inside one context share all
three, so run 1 is the "first run" and later runs are the "steady state".
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import airflow_run
import dags
from backends import Backend

from omlineage_devkit.openmetadata import OpenMetadataEmulator


@dataclass
class TaskSample:
    task_id: str
    seconds: float
    requests: int
    rss: int
    error: str | None = None


@dataclass
class RunOutcome:
    returncode: int | None  # None: stopped at the time cap
    wall_seconds: float
    tasks: list[TaskSample]
    skipped: int
    requests: int
    statuses: Counter[str] = field(default_factory=Counter)
    import_seconds: float | None = None
    import_modules: int | None = None
    rss_added: int | None = None  # RSS after the last report minus RSS before the backend import
    edges: int = 0  # lineage edges OpenMetadata holds after the run (the DAG really has 4 per task)
    log: str = ""

    @property
    def reported(self) -> int:
        return len(self.tasks)

    def non_2xx(self) -> str:
        bad = {code: n for code, n in self.statuses.items() if not code.startswith("2")}
        return ", ".join(f"{n}x{code}" for code, n in sorted(bad.items())) or "none"


@dataclass
class Context:
    backend: Backend
    tasks: int
    home: Path
    dags: Path
    spool: Path
    token: str
    runs: int = 0


class Lab:
    def __init__(self, om: OpenMetadataEmulator, workdir: Path) -> None:
        self.om = om
        self.workdir = workdir
        self._templates: dict[str, Path] = {}
        self._serial = 0

    def _template_db(self, backend: Backend) -> Path:
        if backend.name not in self._templates:
            home = self.workdir / f"template-{backend.name}"
            airflow_run.prepare_home(backend.venv, home, self.workdir / "dags")
            self._templates[backend.name] = home / "airflow.db"
        return self._templates[backend.name]

    def fresh(self, backend: Backend, tasks: int) -> Context:
        self._serial += 1
        base = self.workdir / f"c{self._serial:03d}-{backend.name}-{tasks}"
        home, dag_dir = base / "home", base / "dags"
        home.mkdir(parents=True)
        shutil.copy(self._template_db(backend), home / "airflow.db")
        dags.write_dag(dag_dir, tasks)
        self.om.reset()
        self.om.seed_tables(*dags.table_fqns(tasks))
        self.om.set_auth(True)
        token = self.om.token()
        return Context(backend, tasks, home, dag_dir, base / "spool", token)

    def run(
        self,
        ctx: Context,
        *,
        time_cap: float,
        only_first: int = 0,
        faults: list[dict[str, Any]] | None = None,
        api_url: str | None = None,
    ) -> RunOutcome:
        ctx.runs += 1
        logical = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(days=ctx.runs)
        record = ctx.home.parent / f"run{ctx.runs}.jsonl"
        options = ctx.backend.options(api_url or self.om.api_url, ctx.token, ctx.spool)
        shim = {"BENCH_INNER_BACKEND": ctx.backend.class_path, "BENCH_RECORD": str(record)}
        if only_first:
            shim["BENCH_ONLY_FIRST"] = str(only_first)
        self.om.clear_requests()
        self.om.set_faults(*(faults or []))
        try:
            result = airflow_run.dags_test(
                ctx.backend.venv,
                ctx.home,
                ctx.dags,
                dags.dag_id(ctx.tasks),
                logical.isoformat(),
                options,
                shim,
                ctx.home.parent / f"run{ctx.runs}.log",
                time_cap,
            )
        finally:
            self.om.clear_faults()
        logged = self.om.requests()
        outcome = _outcome(result, record, logged)
        outcome.edges = len(self.om.state()["edges"])
        return outcome


def _outcome(result: airflow_run.RunResult, record: Path, logged: list[dict[str, Any]]) -> RunOutcome:
    events = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    imports = [e for e in events if e["kind"] == "import"]
    task_events = [e for e in events if e["kind"] == "task"]
    times = [float(r["time"]) for r in logged]
    tasks = [
        TaskSample(
            task_id=e["task_id"],
            seconds=e["seconds"],
            # The emulator stamps a request when it answers, which is inside the client's call window.
            requests=sum(1 for t in times if e["wall_start"] <= t <= e["wall_end"]),
            rss=e["rss"],
            error=e.get("error"),
        )
        for e in task_events
    ]
    outcome = RunOutcome(
        returncode=result.returncode,
        wall_seconds=result.seconds,
        tasks=tasks,
        skipped=sum(1 for e in events if e["kind"] == "skipped"),
        requests=len(logged),
        statuses=Counter(str(r["status"]) for r in logged),
        log=str(result.log),
    )
    if imports:
        outcome.import_seconds = imports[0]["seconds"]
        outcome.import_modules = imports[0]["modules"]
        if task_events:
            outcome.rss_added = task_events[-1]["rss"] - imports[0]["rss_before"]
    return outcome
