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

import dags  # siblings in bench/: this file runs as a script, its folder comes first on the path
import report
import sizes
from backends import BACKENDS, TIME_BUDGET_SECONDS
from lab import Lab, RunOutcome
from plan import FULL, SHORT, Plan

from omlineage_devkit.openmetadata import EmulatorProcess
from omlineage_devkit.ports import closed_url

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "build" / "bench"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bootstrap() -> None:
    subprocess.run(
        [str(ROOT / "scripts" / "bootstrap.sh"), "driver", "airflow2", "official", "oracle"], check=True
    )


def compile_bytecode() -> None:
    """MWAA's pip writes .pyc at install; uv does not and PYTHONDONTWRITEBYTECODE may be set, so compile once
    (otherwise every import would include compiling, which is not what a worker pays)."""
    for backend in BACKENDS:
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


def measure_latency(plan: Plan, lab: Lab) -> dict[str, dict[str, list[float]]]:
    """Steady-state time added per task with the emulator delaying every API answer."""
    results: dict[str, dict[str, list[float]]] = {}
    tasks = plan.sizes[0]
    for backend in BACKENDS:
        for rep in range(plan.repeats):
            log(f"latency, {backend.name}, repeat {rep + 1}/{plan.repeats}")
            ctx = lab.fresh(backend, tasks)
            lab.run(ctx, time_cap=plan.time_cap, only_first=plan.latency_tasks)  # first run: warms caches
            for delay in plan.latencies:
                faults = [{"path_regex": "^/api/", "mode": "delay", "delay_ms": delay}] if delay else []
                out = lab.run(ctx, time_cap=plan.time_cap, only_first=plan.latency_tasks, faults=faults)
                bucket = results.setdefault(str(delay), {}).setdefault(backend.name, [])
                bucket.extend(t.seconds for t in out.tasks)
    return results


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
    args = parser.parse_args(argv)
    plan = SHORT if args.short else FULL
    started = time.monotonic()
    if not args.no_bootstrap:
        bootstrap()
    compile_bytecode()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
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
    emulator = EmulatorProcess()
    om = emulator.start()
    try:
        lab = Lab(om, workdir)
        results["dag_sizes"] = measure_dag_sizes(plan, lab)
        results["latency"] = measure_latency(plan, lab)
        results["held"] = measure_held(plan, lab)
    finally:
        emulator.stop()
    if not args.no_footprint:
        log("footprint")
        wheel = sizes.build_wheel(workdir / "dist")
        results["wheel"] = {"name": wheel.name, "bytes": wheel.stat().st_size}
        results["footprint"] = {k: vars(v) for k, v in sizes.measure(wheel).items()}
    results["load_after"] = os.getloadavg()[0]
    results["minutes"] = round((time.monotonic() - started) / 60, 1)
    results["targets"] = report.targets(results)
    table = report.render(results, plan)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"results{'-short' if args.short else ''}.json"
    out.write_text(json.dumps(results, indent=1))
    (RESULTS / f"table{'-short' if args.short else ''}.md").write_text(table)
    print(table)
    log(f"results: {out} ({results['minutes']} min)")
    if not args.short and not args.no_doc:
        report.update_doc(ROOT / "docs" / "benchmarks.md", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
