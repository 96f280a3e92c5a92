"""The benchmark: our wheel against the official OpenMetadata lineage backend, side by side in one run.

    .venvs/driver/bin/python bench/run.py          # full: DAGs of 10, 50, 200 tasks, 3 repeats (many minutes)
    .venvs/driver/bin/python bench/run.py --short  # CI: 10-task DAG, 1 repeat (a few minutes)

Builds the venvs it needs (scripts/bootstrap.sh), starts the OpenMetadata emulator, runs real
`airflow dags test` runs in each backend's venv with a timing shim as `[lineage] backend`, prints a
markdown table and writes build/bench/results[-short].json. A full run also rewrites the table in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dags  # siblings in bench/: this file runs as a script, its folder comes first on the path
import report
import sizes
from backends import BACKENDS, NONE, OURS, PATH_BACKENDS, TIME_BUDGET_SECONDS
from lab import Lab, RunOutcome
from plan import FULL, SHORT, Plan

from omlineage_devkit.openlineage_sink import SinkProcess
from omlineage_devkit.openmetadata import EmulatorProcess
from omlineage_devkit.ports import closed_port, closed_url

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "build" / "bench"


TMPFS = "/dev/shm"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bootstrap() -> None:
    subprocess.run(
        [str(ROOT / "scripts" / "bootstrap.sh"), "driver", "airflow2", "airflow2-ol", "official", "oracle"],
        check=True,
    )


def compile_bytecode() -> None:
    """MWAA's pip writes .pyc at install; uv does not and PYTHONDONTWRITEBYTECODE may be set, so compile once
    (otherwise every import would include compiling, which is not what a worker pays)."""
    for backend in {b.venv: b for b in (*BACKENDS, *PATH_BACKENDS)}.values():
        site = next((backend.venv / "lib").glob("python3*/site-packages"))
        targets = [str(site)] + ([str(ROOT / "python" / "src")] if backend.name == "ours" else [])
        subprocess.run(
            [str(backend.venv / "bin" / "python"), "-m", "compileall", "-q", "-j", "0", *targets],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def measure_imports(plan: Plan, workdir: Path) -> dict[str, list[dict[str, float]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({"AIRFLOW_HOME": str(workdir / "import-home"), "PYTHONWARNINGS": "ignore"})
    samples: dict[str, list[dict[str, float]]] = {b.name: [] for b in BACKENDS}
    for _ in range(plan.import_repeats):
        for backend in BACKENDS:  # interleaved so machine noise hits both alike
            out = subprocess.run(
                [
                    str(backend.venv / "bin" / "python"),
                    str(ROOT / "bench" / "probe_import.py"),
                    backend.class_path,
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            samples[backend.name].append(json.loads(out.strip().splitlines()[-1]))
    return samples


def measure_dag_sizes(plan: Plan, lab: Lab) -> dict[str, dict[str, list[dict]]]:
    """Per DAG size and backend: a first run and a steady-state run per repeat."""
    results: dict[str, dict[str, list[dict]]] = {}
    for tasks in plan.sizes:
        for backend in BACKENDS:
            only_first = plan.official_only_first.get(tasks, 0) if backend.name == "official" else 0
            # One run of a 200-task DAG already gives 200 samples; a partial official run is minutes long.
            reps = plan.repeats if tasks <= 50 and not only_first else 1
            cells = results.setdefault(str(tasks), {}).setdefault(backend.name, [])
            for rep in range(reps):
                log(f"{tasks} tasks, {backend.name}, repeat {rep + 1}/{reps}")
                ctx = lab.fresh(backend, tasks)
                first = lab.run(ctx, time_cap=plan.time_cap, only_first=only_first)
                if first.returncode is None:  # stopped at the cap: a steady state would be stopped too
                    cells.append({"first": as_dict(first), "steady": None, "only_first": only_first})
                    break
                steady = lab.run(ctx, time_cap=plan.time_cap, only_first=only_first)
                cells.append({"first": as_dict(first), "steady": as_dict(steady), "only_first": only_first})
    return results


def measure_critical_path(plan: Plan, lab: Lab) -> dict[str, Any]:
    """Per backend and latency (ms per request, the emulator's and the sink's latency model), on a chain DAG:
    the time the lineage code holds each task, the DAG run's makespan, requests per task, and how many of the
    run's task events the server holds right after it and after the next run (spooled events replay there).

    One world per backend, each with a warm-up run at 0 ms (pipeline exists, caches warm). `none` (no
    lineage: the makespan baseline) and ours run in turns, `baseline_repeats` pairs per latency, the pair's
    order swapped every round: the machine's speed drifts by more than lineage costs (a run's CPU time varies
    by ~30 % here), and runs next to each other see the same machine, so ours's makespan ratio is the median
    of the pairs' ratios (at the makespan target's latency `target_repeats` pairs: the verdict, read with
    its 95 % interval). The other backends get one measured run per latency. When ours left events
    undelivered (spooled), a follow-up run at 0 ms replays them. "down": every API connection is reset.
    """
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    contexts = {}
    for backend in (NONE, OURS):  # none sends nothing: the emulator's reset for ours's world costs it nothing
        contexts[backend.name] = lab.fresh(backend, plan.chain_tasks)
        log(f"critical path, {backend.name}: warm-up")
        lab.run(contexts[backend.name], time_cap=plan.path_cap)
    for delay in [*plan.latencies, "down"]:
        outs = _paired_runs(plan, lab, contexts, delay)
        spans = {name: [o.makespan for o in runs] for name, runs in outs.items()}
        ratios = [
            ours / none for ours, none in zip(spans["ours"], spans["none"]) if ours is not None and none
        ]
        for backend in (NONE, OURS):
            cell = _path_cell(plan, lab, contexts[backend.name], backend, delay, outs[backend.name], 0)
            if backend is OURS:
                cell["paired_ratios"] = ratios
            cells.setdefault(str(delay), {})[backend.name] = cell
    for backend in (b for b in PATH_BACKENDS if b not in (NONE, OURS)):
        only_first = plan.official_path_tasks if backend.name == "official" else 0
        ctx = lab.fresh(backend, plan.chain_tasks)
        log(f"critical path, {backend.name}: warm-up")
        lab.run(ctx, time_cap=plan.path_cap, only_first=only_first)
        for delay in [*plan.latencies, "down"]:
            log(f"critical path, {backend.name}, {delay}{'' if delay == 'down' else ' ms'}")
            out = _path_run(plan, lab, ctx, backend, delay, only_first)
            cells.setdefault(str(delay), {})[backend.name] = _path_cell(
                plan, lab, ctx, backend, delay, [out], only_first
            )
    return {
        "tasks": plan.chain_tasks,
        "latencies": [str(d) for d in plan.latencies] + ["down"],
        "cells": cells,
    }


def _paired_runs(plan: Plan, lab: Lab, contexts: dict, delay: int | str) -> dict[str, list[RunOutcome]]:
    """`baseline_repeats` runs of none and of ours at `delay` (`target_repeats` at the makespan target's
    latency), in turns (none first in even rounds)."""
    outs: dict[str, list[RunOutcome]] = {"none": [], "ours": []}
    at_target = delay == report.MAKESPAN_TARGET_LATENCY_MS and plan.target_repeats
    for round_ in range(plan.target_repeats if at_target else plan.baseline_repeats):
        order = (NONE, OURS) if round_ % 2 == 0 else (OURS, NONE)
        for backend in order:
            log(f"critical path, {backend.name}, {delay}{'' if delay == 'down' else ' ms'}, run {round_ + 1}")
            outs[backend.name].append(_path_run(plan, lab, contexts[backend.name], backend, delay, 0))
    return outs


def _path_run(plan: Plan, lab: Lab, ctx: Any, backend: Any, delay: int | str, only_first: int) -> RunOutcome:
    down = delay == "down"
    # Down, for the OpenMetadata backends: every API connection is reset at the same endpoint, so the next
    # run (server back) can replay what was kept for it; the sink: a closed port (the provider keeps nothing
    # to replay either way).
    api_url = f"http://127.0.0.1:{closed_port()}/api" if down and backend.sink else None
    faults = [{"path_regex": "^/api/", "mode": "reset"}] if down and not backend.sink else None
    model = None if down else {"fixed_ms": delay}
    cap = _path_cap(plan, backend, delay)
    return lab.run(ctx, time_cap=cap, only_first=only_first, latency=model, api_url=api_url, faults=faults)


def _path_cap(plan: Plan, backend: Any, delay: int | str) -> float:
    """Seconds one run of `backend` at `delay` may take (its follow-up too) before it is stopped."""
    cap = plan.official_path_cap if backend.name == "official" else plan.path_cap
    return min(cap, plan.held_cap) if delay == "down" else cap


def _path_cell(
    plan: Plan,
    lab: Lab,
    ctx: Any,
    backend: Any,
    delay: int | str,
    outs: list[RunOutcome],
    only_first: int,
) -> dict[str, Any]:
    spans = sorted(o.makespan for o in outs if o.makespan is not None)
    out = outs[-1]
    cell: dict[str, Any] = {
        "returncode": out.returncode,
        "stopped": out.returncode is None,
        "wall_seconds": out.wall_seconds,
        "makespan": spans[len(spans) // 2] if spans else None,  # median (none and ours: of several)
        "makespans": spans,
        # every run's tasks (each run's first task is its process's first: imports, first DB read)
        "critical": [t.critical for o in outs for t in o.tasks],
        "first_tasks": [o.tasks[0].critical for o in outs if o.tasks],
        "hook_seconds": [t.hook_seconds for o in outs for t in o.tasks],
        "task_requests": [t.requests for o in outs for t in o.tasks],
        "requests": out.requests,  # all of the last run's API requests (a background sender's too)
        "reported": out.reported,
        "only_first": only_first,
        "non_2xx": out.non_2xx(),
        "task_errors": [t.error for t in out.tasks if t.error],
        "log": out.log,
    }
    if backend.name != "none":
        events_per_task = 2 if backend.sink else 1  # START + COMPLETE | one task status
        reporting = only_first or plan.chain_tasks
        cell["expected"] = events_per_task * reporting
        cell["delivered_after_run"] = lab.delivered(ctx, out)
        # Only ours keeps undelivered events (its spool) for the next run; servers lose nothing, so a
        # complete cell needs no follow-up either.
        cell["followed_up"] = backend is OURS and cell["delivered_after_run"] < cell["expected"]
        if cell["followed_up"]:  # follow-up, server up, 0 ms
            lab.run(ctx, time_cap=_path_cap(plan, backend, delay), only_first=only_first)
        cell["delivered_after_next"] = lab.delivered(ctx, out)
    return cell


def measure_held(plan: Plan, lab: Lab) -> dict[str, dict[str, list[dict]]]:
    """How long one task is held by its report when the server is down / answers 503 / answers 504."""
    scenarios = {
        "down": {"api_url": "closed"},
        "503": {"faults": [{"path_regex": "^/api/", "mode": "status", "status": 503}]},
        "504": {"faults": [{"path_regex": "^/api/", "mode": "status", "status": 504}]},
    }
    results: dict[str, dict[str, list[dict]]] = {}
    for backend in BACKENDS:
        ctx = lab.fresh(backend, plan.sizes[0])
        lab.run(ctx, time_cap=plan.time_cap, only_first=1)  # pipeline exists, caches warm
        for name, spec in scenarios.items():
            for rep in range(plan.repeats):
                log(f"held ({name}), {backend.name}, repeat {rep + 1}/{plan.repeats}")
                api_url = closed_url() if spec.get("api_url") else None
                out = lab.run(
                    ctx, time_cap=plan.held_cap, only_first=1, faults=spec.get("faults"), api_url=api_url
                )
                cell = {
                    "seconds": out.tasks[0].seconds if out.tasks else None,
                    "stopped": out.returncode is None,
                    "returncode": out.returncode,
                    "task_error": out.tasks[0].error if out.tasks else None,
                    "requests": out.requests,
                }
                results.setdefault(name, {}).setdefault(backend.name, []).append(cell)
                if cell["stopped"] or (cell["seconds"] or 0) > 60:
                    break  # one sample of a multi-minute hold is enough
    return results


def as_dict(out: RunOutcome) -> dict:
    return {
        "returncode": out.returncode,
        "wall_seconds": out.wall_seconds,
        "reported": out.reported,
        "skipped": out.skipped,
        "requests": out.requests,
        "edges": out.edges,
        "non_2xx": out.non_2xx(),
        "task_requests": [t.requests for t in out.tasks],
        "task_seconds": [t.seconds for t in out.tasks],
        "task_errors": [t.error for t in out.tasks if t.error],
        "import_seconds": out.import_seconds,
        "import_modules": out.import_modules,
        "rss_added": out.rss_added,
        "log": out.log,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI variant: 10-task DAG, 1 repeat")
    parser.add_argument("--no-bootstrap", action="store_true", help="use the venvs as they are")
    parser.add_argument("--no-footprint", action="store_true", help="skip the wheel/distribution sizes")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument(
        "--only-path",
        action="store_true",
        help="only the critical-path section (rewrites only its table in the doc)",
    )
    args = parser.parse_args(argv)
    plan = SHORT if args.short else FULL
    started = time.monotonic()
    if not args.no_bootstrap:
        bootstrap()
    compile_bytecode()
    # Airflow's SQLite DB (and the spool) on tmpfs where there is one: the VM disk's fsync latency moved a
    # 20-task run's makespan by up to 1 s (0.3 s median), lineage or not; MWAA's metadata DB is a server.
    workdir = Path(tempfile.mkdtemp(prefix="bench-", dir=TMPFS if os.path.isdir(TMPFS) else None))
    results: dict = {
        "plan": plan.name,
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_before": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "edges_per_task": dags.edges_per_task(),
        "time_budget": TIME_BUDGET_SECONDS,
        "workdir": str(workdir),
    }
    log("import cost")
    results["imports"] = measure_imports(plan, workdir)
    emulator, sink_process = EmulatorProcess(), SinkProcess()
    om = emulator.start()
    try:
        lab = Lab(om, workdir, sink_process.start())
        if not args.only_path:
            results["dag_sizes"] = measure_dag_sizes(plan, lab)
            results["held"] = measure_held(plan, lab)
        results["critical_path"] = measure_critical_path(plan, lab)
    finally:
        sink_process.stop()
        emulator.stop()
    if not args.no_footprint:
        log("footprint")
        wheel = sizes.build_wheel(workdir / "dist")
        results["wheel"] = {"name": wheel.name, "bytes": wheel.stat().st_size}
        results["footprint"] = {k: vars(v) for k, v in sizes.measure(wheel).items()}
    results["load_after"] = os.getloadavg()[0]
    results["minutes"] = round((time.monotonic() - started) / 60, 1)
    results["targets"] = report.targets(results)
    suffix = "-short" if args.short else ""
    plot = (ROOT / "docs" / "img" / "bench-critical-path.png") if not (args.short or args.no_doc) else None
    results["plot"] = report.plot(results, plot or RESULTS / f"critical-path{suffix}.png")
    results["command"] = " ".join(
        [".venvs/driver/bin/python bench/run.py", *(argv if argv is not None else sys.argv[1:])]
    )
    table = report.render(results, plan)
    path_table = report.render_path(results, plan)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"results{'-short' if args.short else ''}.json"
    out.write_text(json.dumps(results, indent=1))
    (RESULTS / f"table{'-short' if args.short else ''}.md").write_text(table + "\n" + path_table)
    print(table + "\n" + path_table)
    log(f"results: {out} ({results['minutes']} min)")
    if not args.short and not args.no_doc:
        if not args.only_path:
            report.update_doc(ROOT / "docs" / "benchmarks.md", table)
        report.update_doc(ROOT / "docs" / "benchmarks.md", path_table, report.PATH_BEGIN, report.PATH_END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
