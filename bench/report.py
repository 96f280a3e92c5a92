"""Turns bench results into the markdown tables (ours | official | ratio; the critical path of every backend
side by side per latency), the PNG plot, and checks the targets (issue 8; the delivery issue's parts 4-5)."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

from plan import Plan
from stats import median_interval, mib, min_med, ratio, seconds

IMPORT_TARGET_MS = 100.0
CRITICAL_P95_TARGET_MS = (
    10.0  # time the lineage code adds to a task's critical path, p95, any latency, up or down
)
MAKESPAN_TARGET = 1.05  # 20-task chain makespan / no-lineage makespan at this latency per request:
MAKESPAN_TARGET_LATENCY_MS = 300
MAKESPAN_CHECK = f"makespan_ratio_{MAKESPAN_TARGET_LATENCY_MS}ms"
PATH_BACKENDS = ("none", "ours", "official", "openlineage")
COLORS = {"ours": "tab:blue", "official": "tab:orange", "openlineage": "tab:green"}
DOC_BEGIN = "<!-- bench:table:begin -->"
DOC_END = "<!-- bench:table:end -->"
PATH_BEGIN = "<!-- bench:path:begin -->"
PATH_END = "<!-- bench:path:end -->"


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _mm_seconds(values: list[float]) -> str:
    pair = min_med(values)
    return "n/a" if pair is None else f"{seconds(pair[0])} / {seconds(pair[1])}"


def _steady(results: dict, tasks: int, name: str) -> list[dict]:
    cells = results.get("dag_sizes", {}).get(str(tasks), {}).get(name, [])
    return [cell["steady"] for cell in cells if cell["steady"] is not None]


def _cells(results: dict, tasks: int, name: str) -> list[dict]:
    return results.get("dag_sizes", {}).get(str(tasks), {}).get(name, [])


def _run_requests(cell: dict, run: str, tasks: int, cap: float) -> str:
    out = cell[run]
    if out is None:
        return "not run (the first run was stopped)"
    if out["returncode"] is None:
        return f">= {out['requests']} (stopped at the {cap:.0f} s cap, {out['reported']} task(s) done)"
    if cell["only_first"] and out["reported"]:
        per_task = out["requests"] / out["reported"]
        return f"{out['requests']} for {out['reported']} task(s); ~{per_task * tasks:.0f} projected"
    return str(out["requests"])


def _flatten(runs: list[dict], key: str) -> list[float]:
    return [value for run in runs for value in run[key]]


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): with 20 samples p95 is the 19th smallest."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def _path_cells(results: dict) -> dict[str, dict[str, dict]]:
    return (results.get("critical_path") or {}).get("cells", {})


def makespan_ratio(results: dict, latency: str, name: str) -> float | None:
    """`name`'s makespan over `none`'s at `latency`: the median of the ratios of runs made in turns with
    `none` (ours), else the ratio of the two medians (one run each)."""
    cells = _path_cells(results).get(latency, {})
    paired = cells.get(name, {}).get("paired_ratios")
    if paired:
        return _median(paired)
    base, cell = cells.get("none", {}).get("makespan"), cells.get(name, {}).get("makespan")
    if not base or cell is None or cells[name].get("only_first"):
        return None
    return cell / base


def makespan_interval(results: dict, latency: str, name: str) -> tuple[float, float] | None:
    """95 % confidence interval of `name`'s median paired ratio at `latency` (None: no pairs, or too few)."""
    paired = _path_cells(results).get(latency, {}).get(name, {}).get("paired_ratios")
    return median_interval(paired) if paired else None


def targets(results: dict) -> dict[str, dict[str, Any]]:
    ours_import = _median([s["seconds"] for s in results["imports"]["ours"]])
    # Ours sends from a background thread, outside the task's call window: count the run's total per task.
    per_task = [
        run["requests"] / max(run["reported"], 1)
        for tasks in results.get("dag_sizes", {})
        for run in _steady(results, int(tasks), "ours")
    ]
    held = [c["seconds"] for c in results.get("held", {}).get("down", {}).get("ours", [])]
    edges = results["edges_per_task"]
    checks: dict[str, tuple[Any, Any]] = {
        "import_ms": (None if ours_import is None else ours_import * 1000, IMPORT_TARGET_MS),
        "steady_requests_per_task": (max(per_task) if per_task else None, edges + 1),
        "held_server_down_s": (None if not held or None in held else max(held), results["time_budget"]),
    }
    cells = _path_cells(results)
    if cells:
        p95s = [percentile(c["ours"]["critical"], 95) for c in cells.values() if "ours" in c]
        worst = None if not p95s or None in p95s else max(p95s) * 1000
        checks["critical_path_p95_ms"] = (worst, CRITICAL_P95_TARGET_MS)
        checks[MAKESPAN_CHECK] = (
            makespan_ratio(results, str(MAKESPAN_TARGET_LATENCY_MS), "ours"),
            MAKESPAN_TARGET,
        )
        missing = [
            c["ours"]["expected"] - c["ours"]["delivered_after_next"] for c in cells.values() if "ours" in c
        ]
        checks["events_lost_after_next_run"] = (max(missing) if missing else None, 0)
    return {
        key: {"value": value, "limit": limit, "ok": value is not None and value <= limit}
        for key, (value, limit) in checks.items()
    }


def _ms(value: float | None) -> str:
    return "n/a" if value is None else seconds(value)


def _path_cell(cell: dict | None, figure: str, cap: float) -> str:
    if cell is None:
        return "n/a"
    stopped = " (run stopped at the cap)" if cell["stopped"] else ""
    scope = f" (first {cell['only_first']} task)" if cell.get("only_first") else ""
    if figure == "critical":
        values = cell["critical"]
        if not values:
            return f"none measured{stopped}"
        return f"{_ms(percentile(values, 50))} / {_ms(percentile(values, 95))}{scope}{stopped}"
    if figure == "first":
        firsts = cell.get("first_tasks") or cell["critical"][:1]
        return f"{_ms(percentile(firsts, 50))}{scope}" if firsts else f"none measured{stopped}"
    if figure == "requests":
        # the run's requests / tasks that reported: a background sender's requests fall outside every task's
        # own call window, so per-window counts would read 0 for it
        if not cell["reported"]:
            return "n/a" + scope
        return f"{cell['requests'] / cell['reported']:.1f}" + scope
    if figure == "delivered":
        if "expected" not in cell:
            return ""
        exp = cell["expected"]
        return f"{cell['delivered_after_run']} / {cell['delivered_after_next']} of {exp}" + scope
    return ""


def render_path(results: dict, plan: Plan) -> str:
    """The critical-path table (every backend side by side per latency) with its run line and targets."""
    path = results.get("critical_path")
    if not path:
        return ""
    cells = path["cells"]
    lines = [
        f"Critical path, side by side: a {path['tasks']}-task chain, each backend against a server that adds "
        "the given time to every request (`down`: every connection reset; the sink: a closed port).",
        "",
        "| per request | figure | " + " | ".join(PATH_BACKENDS) + " |",
        "| --- | --- |" + " --- |" * len(PATH_BACKENDS),
    ]
    for latency in path["latencies"]:
        by = cells.get(latency, {})
        label = "down" if latency == "down" else f"{latency} ms"
        ratios = []
        for name in PATH_BACKENDS:
            cell = by.get(name)
            if cell is None or cell["makespan"] is None:
                ratios.append("n/a")
                continue
            ratio_value = makespan_ratio(results, latency, name)
            text = seconds(cell["makespan"])
            if name != "none" and ratio_value is None:
                text += " (only 1st task reports)"
            elif name != "none":
                pairs = len(cell.get("paired_ratios") or [])
                interval = makespan_interval(results, latency, name)
                ci = f", 95 % CI {interval[0]:.2f}-{interval[1]:.2f}" if interval else ""
                text += f" ({ratio_value:.2f}x{ci}{f' over {pairs} pairs' if pairs else ''})"
            ratios.append(text + (" (stopped)" if cell["stopped"] else ""))
        rows = [
            (
                "time added per task, p50 / p95",
                [_path_cell(by.get(n), "critical", plan.path_cap) for n in PATH_BACKENDS],
            ),
            (
                "the process's first task (imports, first DB read)",
                [_path_cell(by.get(n), "first", plan.path_cap) for n in PATH_BACKENDS],
            ),
            ("DAG makespan (x none)", ratios),
            (
                "requests per task (run total / tasks)",
                [_path_cell(by.get(n), "requests", 0) for n in PATH_BACKENDS],
            ),
            (
                "task events held: after the run / after the next run",
                [_path_cell(by.get(n), "delivered", 0) for n in PATH_BACKENDS],
            ),
        ]
        for figure, values in rows:
            lines.append(f"| {label} | {figure} | " + " | ".join(values) + " |")
    if results.get("plot"):
        lines += ["", f"Plot: `{results['plot']}`."]
    checks = ("critical_path_p95_ms", MAKESPAN_CHECK, "events_lost_after_next_run")
    run = (
        f"Run: `{plan.name}` plan, {results['started']}, {results['cpus']} CPUs, load average "
        f"{results['load_before']:.1f} before / {results['load_after']:.1f} after, {results['minutes']} min; "
        f"`{results.get('command', 'bench/run.py')}`."
    )
    interval = makespan_interval(results, str(MAKESPAN_TARGET_LATENCY_MS), "ours")
    targets_line = "Targets (ours): " + "; ".join(
        f"{key} = {_fmt(t['value'])}"
        + (f" (95 % CI {interval[0]:.2f}-{interval[1]:.2f})" if key == MAKESPAN_CHECK and interval else "")
        + f" (limit {_fmt(t['limit'])}): {'ok' if t['ok'] else 'MISSED'}"
        for key, t in results["targets"].items()
        if key in checks
    )
    return "\n".join([run, "", *lines, "", targets_line]) + "\n"


def plot(results: dict, out: Path) -> str | None:
    """Two panels, x = latency per request: p95 time added per task (log), makespan / no-lineage makespan."""
    path = results.get("critical_path")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    if not path:
        return None
    latencies = [lat for lat in path["latencies"] if lat != "down"]
    xs = [float(lat) for lat in latencies]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in PATH_BACKENDS[1:]:
        p95 = [percentile(path["cells"][lat].get(name, {}).get("critical") or [], 95) for lat in latencies]
        points = [(x, v * 1000) for x, v in zip(xs, p95) if v is not None]
        if points:
            left.plot(
                [p[0] for p in points],
                [max(p[1], 0.01) for p in points],
                marker="o",
                label=name,
                color=COLORS[name],
            )
        ratios = [(x, makespan_ratio(results, lat, name)) for x, lat in zip(xs, latencies)]
        ratios = [(x, r) for x, r in ratios if r is not None]
        if ratios:
            right.plot(
                [r[0] for r in ratios], [r[1] for r in ratios], marker="o", label=name, color=COLORS[name]
            )
    left.axhline(
        CRITICAL_P95_TARGET_MS, color="grey", linestyle="--", label=f"target {CRITICAL_P95_TARGET_MS:.0f} ms"
    )
    left.set_yscale("log")
    left.set_xlabel("server latency per request (ms)")
    left.set_ylabel("time added per task, p95 (ms)")
    left.set_title("critical path per task")
    right.axhline(MAKESPAN_TARGET, color="grey", linestyle="--", label=f"target {MAKESPAN_TARGET}x")
    right.set_xlabel("server latency per request (ms)")
    right.set_ylabel("makespan / no-lineage makespan")
    right.set_title(f"{path['tasks']}-task chain makespan")
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    fig.suptitle(f"{results['plan']} plan, {results['started']}, {results['cpus']} CPUs", fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return str(out.relative_to(out.parents[2]) if "docs" in out.parts else out)


def render(results: dict, plan: Plan) -> str:
    rows: list[tuple[str, str, str, str]] = []
    imports = results["imports"]

    def imp(name: str, key: str) -> list[float]:
        return [s[key] for s in imports[name]]

    rows.append(
        (
            f"backend import time, min / median of {plan.import_repeats}",
            _mm_seconds(imp("ours", "seconds")),
            _mm_seconds(imp("official", "seconds")),
            ratio(_median(imp("official", "seconds")), _median(imp("ours", "seconds"))),
        )
    )
    rows.append(
        (
            "modules the import adds",
            f"{_median(imp('ours', 'modules')):.0f}",
            f"{_median(imp('official', 'modules')):.0f}",
            ratio(_median(imp("official", "modules")), _median(imp("ours", "modules"))),
        )
    )
    rows.append(
        (
            "RSS the import adds (median)",
            mib(_median(imp("ours", "rss")) or 0),
            mib(_median(imp("official", "rss")) or 0),
            ratio(_median(imp("official", "rss")), _median(imp("ours", "rss"))),
        )
    )
    first_size = plan.sizes[0]
    if "dag_sizes" not in results:  # --only-path
        plan = Plan(**{**vars(plan), "sizes": ()})
    rss = {
        name: _median(
            [r["rss_added"] for r in _steady(results, first_size, name) if r["rss_added"] is not None]
        )
        for name in ("ours", "official")
    }
    rows.append(
        (
            f"RSS added to the task process ({first_size}-task DAG run: import + reports, median)",
            mib(rss["ours"] or 0),
            mib(rss["official"] or 0),
            ratio(rss["official"], rss["ours"]),
        )
    )
    for tasks in plan.sizes:
        ours_cells, off_cells = _cells(results, tasks, "ours"), _cells(results, tasks, "official")
        if not ours_cells or not off_cells:
            continue
        ours_steady, off_steady = _steady(results, tasks, "ours"), _steady(results, tasks, "official")
        # ours delivers in the background (outside the task's call window): the run's total per reported task
        ours_req = [run["requests"] / max(run["reported"], 1) for run in ours_steady]
        off_req = _flatten(off_steady, "task_requests")
        k = off_cells[0]["only_first"]
        scope = f" (first {k} task(s))" if k else ""
        rows.append(
            (
                f"{tasks} tasks: requests per task, steady state (median / max)",
                f"{_median(ours_req):.1f} / {max(ours_req):.1f}" if ours_req else "n/a",
                (f"{_median(off_req):.0f} / {max(off_req)}" if off_req else "n/a") + scope,
                ratio(_median(off_req), _median(ours_req)),
            )
        )
        first_ours = [c["first"]["task_requests"] for c in ours_cells]
        first_off = [c["first"]["task_requests"] for c in off_cells]
        rows.append(
            (
                f"{tasks} tasks: requests per task, first run (median / max)",
                _req_pair([v for run in first_ours for v in run]),
                _req_pair([v for run in first_off for v in run]) + scope,
                ratio(
                    _median([v for run in first_off for v in run]),
                    _median([v for run in first_ours for v in run]),
                ),
            )
        )
        for run, label in (("first", "first run"), ("steady", "steady state")):
            rows.append(
                (
                    f"{tasks} tasks: requests per DAG run, {label}",
                    _run_requests(ours_cells[0], run, tasks, plan.time_cap),
                    _run_requests(off_cells[0], run, tasks, plan.time_cap),
                    ratio(_projected(off_cells[0], run, tasks), _projected(ours_cells[0], run, tasks)),
                )
            )
        rows.append(
            (
                f"{tasks} tasks: lineage edges in OpenMetadata after the first run (the DAG has "
                f"{tasks * results['edges_per_task']})",
                str(ours_cells[0]["first"].get("edges", "n/a")),
                str(off_cells[0]["first"].get("edges", "n/a")),
                "",
            )
        )
        ours_s, off_s = _flatten(ours_steady, "task_seconds"), _flatten(off_steady, "task_seconds")
        ours_1st = [r["task_seconds"][0] for r in ours_steady if r["task_seconds"]]
        off_1st = [r["task_seconds"][0] for r in off_steady if r["task_seconds"]]
        rows.append(
            (
                f"{tasks} tasks: first report in a task process, steady (lazy imports, client setup)",
                _mm_seconds(ours_1st),
                _mm_seconds(off_1st),
                ratio(_median(off_1st), _median(ours_1st)),
            )
        )
        rows.append(
            (
                f"{tasks} tasks: time added per task, steady state, 0 ms latency (min / median)",
                _mm_seconds(ours_s),
                _mm_seconds(off_s) + scope,
                ratio(_median(off_s), _median(ours_s)),
            )
        )
        rows.append(
            (
                f"{tasks} tasks: non-2xx answers, steady run / task errors",
                _errors(ours_steady),
                _errors(off_steady),
                "",
            )
        )
    labels = {"down": "server down (port closed)", "503": "server answers 503", "504": "server answers 504"}
    for scenario, by_backend in results.get("held", {}).items():
        rows.append(
            (
                f"task held when the {labels[scenario]} (min / median)",
                _held(by_backend.get("ours", []), plan.held_cap),
                _held(by_backend.get("official", []), plan.held_cap),
                ratio(_held_median(by_backend.get("official", [])), _held_median(by_backend.get("ours", []))),
            )
        )
    if "footprint" in results:
        fp = results["footprint"]
        rows.append(("wheel size", f"{results['wheel']['bytes'] / 1024:.1f} KiB", "n/a", ""))
        rows.append(
            (
                "distributions added on top of Airflow 2.10.5 (count, size on disk)",
                f"{fp['ours']['count']}, {mib(fp['ours']['bytes'])}; with [all] extras: "
                f"{fp['ours[all]']['count']}, {mib(fp['ours[all]']['bytes'])}",
                f"{fp['official']['count']}, {mib(fp['official']['bytes'])}",
                ratio(fp["official"]["bytes"], fp["ours"]["bytes"]),
            )
        )
    notes = _notes(results, plan)
    lines = [
        f"Run: `{plan.name}` plan, {results['started']}, {results['cpus']} CPUs, load average "
        f"{results['load_before']:.1f} before / {results['load_after']:.1f} after, {results['minutes']} min.",
        "",
        "| figure | ours | official | official / ours |",
        "| --- | --- | --- | --- |",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
        "Targets: "
        + "; ".join(
            f"{key} = {_fmt(t['value'])} (limit {_fmt(t['limit'])}): {'ok' if t['ok'] else 'MISSED'}"
            for key, t in results["targets"].items()
        ),
        *(["", "Notes:", *(f"- {note}" for note in notes)] if notes else []),
    ]
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    # two decimals: a limit of 1.05 or a p95 of 10.04 ms must not print as 1.1 or 10.0
    return "n/a" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))


def _req_pair(values: list[int]) -> str:
    return f"{_median(values):.0f} / {max(values)}" if values else "n/a"


def _projected(cell: dict, run: str, tasks: int) -> float | None:
    out = cell[run]
    if out is None or out["returncode"] is None or not out["reported"]:
        return None
    return out["requests"] / out["reported"] * tasks if cell["only_first"] else float(out["requests"])


def _errors(runs: list[dict]) -> str:
    if not runs:
        return "n/a"
    non_2xx = "; ".join(sorted({r["non_2xx"] for r in runs}))
    errors = sum(len(r["task_errors"]) for r in runs)
    failed = sum(1 for r in runs if r["returncode"] not in (0, None))
    return f"{non_2xx} / {errors} raised, {failed} failed run(s)"


def _held(cells: list[dict], cap: float) -> str:
    if not cells:
        return "n/a"
    if any(c["stopped"] for c in cells):
        return f"> {cap:.0f} s (run stopped at the cap)"
    text = _mm_seconds([c["seconds"] for c in cells if c["seconds"] is not None])
    failed = sum(1 for c in cells if c["returncode"] not in (0, None))
    return text + (f"; {failed} task(s) failed" if failed else "")


def _held_median(cells: list[dict]) -> float | None:
    if not cells or any(c["stopped"] for c in cells):
        return None
    return _median([c["seconds"] for c in cells if c["seconds"] is not None])


def update_doc(path: Path, table: str, begin: str = DOC_BEGIN, end: str = DOC_END) -> None:
    """Replace the table between the markers in docs/benchmarks.md (the rest of the page is prose)."""
    text = path.read_text()
    block = f"{begin}\n{table}{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    path.write_text(pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text}\n{block}\n")


def _notes(results: dict, plan: Plan) -> list[str]:
    """Facts a reader needs to read the table right, derived from this run (not hard-coded)."""
    notes = []
    for tasks, by_backend in results.get("dag_sizes", {}).items():
        cells = by_backend.get("official", [])
        if cells and cells[0]["only_first"]:
            notes.append(
                f"{tasks} tasks, official: only the first {cells[0]['only_first']} task(s) report (each "
                "of its reports walks every inlet x outlet of the whole DAG); per-run figures are projected."
            )
    rejected = False
    for by_backend in results.get("dag_sizes", {}).values():
        for cell in by_backend.get("official", []):
            for run in (cell["first"], cell["steady"]):
                if (
                    run
                    and Path(run["log"]).exists()
                    and "Invalid field name *" in Path(run["log"]).read_text()
                ):
                    rejected = True
    if rejected:
        notes.append(
            "Emulator gap: it answers `GET /api/v1/pipelines/name/...?fields=*` with 400 (real OpenMetadata "
            "accepts `fields=*`), so the official backend's reports stop there once its pipeline exists: its "
            "steady-state and latency figures are that failure path, not its normal cost."
        )
    return notes
