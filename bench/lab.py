"""One benchmark cell = one `airflow dags test` against the emulator: run it, collect the numbers.

A context is a fresh world for one backend and one DAG size: emulator state reset and seeded with the DAG's
tables, a new Airflow DB (copied from a migrated template), a new spool dir. Runs inside one context share all
three, so run 1 is the "first run" and later runs are the "steady state".
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import airflow_run
import dags
from backends import Backend

from omlineage_devkit.openlineage_sink import OpenLineageSink
from omlineage_devkit.openmetadata import OpenMetadataEmulator


@dataclass
class TaskSample:
    task_id: str
    seconds: float
    requests: int
    rss: int
    error: str | None = None
    hook_seconds: float = 0.0  # time in task-instance listener hooks (bench/plugins/bench_hook_timing.py)

    @property
    def critical(self) -> float:
        """All the time the lineage code holds this task: `[lineage] backend` call + listener hooks."""
        return self.seconds + self.hook_seconds


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
    makespan: float | None = None  # dag_run end - start in the Airflow DB (seconds)
    logical_ms: int = 0
    window: tuple[float, float] = (0.0, 0.0)  # wall clock of the whole `airflow dags test`

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
    def __init__(self, om: OpenMetadataEmulator, workdir: Path, sink: OpenLineageSink | None = None) -> None:
        self.om = om
        self.sink = sink
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
        if self.sink is not None:
            self.sink.reset()
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
        latency: dict[str, Any] | None = None,
    ) -> RunOutcome:
        """`latency`: the emulator's (and sink's) latency model for this run (emulators/latency.py)."""
        ctx.runs += 1
        logical = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(days=ctx.runs)
        record = ctx.home.parent / f"run{ctx.runs}.jsonl"
        options = ctx.backend.options(api_url or self.om.api_url, ctx.token, ctx.spool)
        marks = ctx.home.parent / f"run{ctx.runs}.marks"
        shim = {
            "BENCH_INNER_BACKEND": ctx.backend.class_path,
            "BENCH_RECORD": str(record),
            "BENCH_MARKS": str(marks),
        }
        if only_first:
            shim["BENCH_ONLY_FIRST"] = str(only_first)
        self.om.clear_requests()
        self.om.set_faults(*(faults or []))
        self.om.set_latency(**(latency or {}))
        if self.sink is not None:
            self.sink.clear_requests()
            self.sink.set_latency(**(latency or {}))
        sink_url = api_url or (self.sink.url if self.sink else None)
        wall_start = time.time()
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
                use_shim=bool(ctx.backend.class_path),
                env=ctx.backend.env(sink_url),
            )
        finally:
            self.om.clear_faults()
            self.om.set_latency()
            if self.sink is not None:
                self.sink.set_latency()
        logged = self.sink.requests() if ctx.backend.sink and self.sink else self.om.requests()
        outcome = _outcome(result, record, logged)
        outcome.edges = len(self.om.state()["edges"])
        outcome.makespan = _makespan(ctx.home / "airflow.db", dags.dag_id(ctx.tasks), marks)
        outcome.logical_ms = int(logical.timestamp() * 1000)
        outcome.window = (wall_start, time.time())
        return outcome

    def delivered(self, ctx: Context, out: RunOutcome) -> int:
        """Task events of run `out` the server holds now: task statuses in OpenMetadata's status record of
        that run (ours and official send one record per DAG run, keyed by its logical date), or task-level
        START / COMPLETE / FAIL events in the sink whose eventTime falls inside the run."""
        if ctx.backend.sink:
            if self.sink is None:
                return 0
            prefix = dags.dag_id(ctx.tasks) + "."
            lo, hi = out.window
            held = 0
            for event in self.sink.events():
                if not event["job"]["name"].startswith(prefix):
                    continue
                when = datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00")).timestamp()
                held += lo <= when <= hi  # one clock: the run's own events only
            return held
        names: set[str] = set()
        for records in self.om.state()["statuses"].values():
            for record in records:
                if record.get("timestamp") == out.logical_ms:
                    names.update(t["name"] for t in record.get("taskStatus") or [])
        return len(names)


def _makespan(db: Path, dag_id: str, marks: Path) -> float | None:
    """From the first task's `execute` (the DAG writes a mark) to the DAG run's end_date in the Airflow DB
    (`dags test` stores the logical date as the run's start_date and no task start_date, so neither can
    start the clock). SQLite holds naive UTC strings."""
    try:
        first = min(float(line) for line in marks.read_text().split())
        with sqlite3.connect(db) as conn:
            row = conn.execute(
                "SELECT end_date FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
            ).fetchone()
    except (OSError, ValueError, sqlite3.Error):
        return None
    if not row or not row[0]:
        return None
    end = datetime.fromisoformat(str(row[0])).replace(tzinfo=timezone.utc).timestamp()
    return end - first


def _outcome(result: airflow_run.RunResult, record: Path, logged: list[dict[str, Any]]) -> RunOutcome:
    events = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    imports = [e for e in events if e["kind"] == "import"]
    task_events = [e for e in events if e["kind"] == "task"]
    hooks: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e["kind"] == "hook":
            hooks.setdefault(e["task_id"], []).append(e)
    times = [float(r["time"]) for r in logged]

    def in_windows(windows: list[tuple[float, float]]) -> int:
        # The servers stamp a request when it arrives, which is inside the client's call window.
        return sum(1 for t in times if any(lo <= t <= hi for lo, hi in windows))

    tasks = [
        TaskSample(
            task_id=e["task_id"],
            seconds=e["seconds"],
            requests=in_windows(
                [(e["wall_start"], e["wall_end"])]
                + [(h["wall_start"], h["wall_end"]) for h in hooks.get(e["task_id"], [])]
            ),
            rss=e["rss"],
            error=e.get("error"),
            hook_seconds=sum(h["seconds"] for h in hooks.get(e["task_id"], [])),
        )
        for e in task_events
    ]
    # Listener-only runs (no `[lineage] backend`): one sample per task from its hook calls.
    tasks += [
        TaskSample(
            task_id=task_id,
            seconds=0.0,
            requests=in_windows([(h["wall_start"], h["wall_end"]) for h in calls]),
            rss=0,
            hook_seconds=sum(h["seconds"] for h in calls),
        )
        for task_id, calls in hooks.items()
        if not any(e["task_id"] == task_id for e in task_events)
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
