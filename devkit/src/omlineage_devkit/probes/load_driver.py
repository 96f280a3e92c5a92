"""Load driver: N task processes of one worker report at once, through the wheel's own code path.

Run with a python that can import the wheel (`.venvs/airflow2`): `load_driver.py <spec.json>`; prints one
JSON object (per-process outcomes and timings) on stdout. The parent imports the wheel once, then forks N
children; each child builds its delivery exactly as a task process does (`runtime.build_delivery`, so: auth
provider, disk cache and spool in the shared `spool_dir`, a background delivery thread), waits at a barrier
so all report in the same instant (the worst case for a worker-wide cache), hands one report off, waits for
it as the success listener does (`settle`, after Airflow's commit) and exits. Airflow itself is not
imported: 200 Airflow runs would measure Airflow, not the reporter.

Bounded: every child has `timeout` seconds after the barrier; stragglers are killed, and the driver exits.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from typing import Any


def _report(spec: dict[str, Any], index: int) -> Any:
    from airflow_openmetadata_lineage.model import DagInfo, RunInfo, TaskInfo, TaskReport, TaskRunInfo

    tasks, prefix = spec["tasks"], spec["table_prefix"]
    dag = DagInfo(
        spec["dag_id"],
        tuple(
            TaskInfo(f"t{k:02d}", "PythonOperator", (f"t{k + 1:02d}",) if k + 1 < tasks else ())
            for k in range(tasks)
        ),
    )
    task, run = index % tasks, index // tasks
    ts = spec["t0_ms"] + run * 3_600_000
    task_runs = tuple(TaskRunInfo(f"t{k:02d}", "success", ts + k, ts + k + 1) for k in range(tasks))
    run_info = RunInfo(spec["dag_id"], f"scheduled__{run}", ts, "running", task_runs, True)
    return TaskReport(dag, run_info, f"t{task:02d}", (f"{prefix}.t{task}",), (f"{prefix}.t{task + 1}",))


def _child(spec: dict[str, Any], index: int, barrier: Any, results: Any) -> None:
    from airflow_openmetadata_lineage import runtime
    from airflow_openmetadata_lineage.config import mapping_getter

    outcome: dict[str, Any] = {"index": index, "pid": os.getpid()}
    try:
        delivery = runtime.build_delivery(mapping_getter(spec["options"]))
        attempts: list[Any] = []  # what this process's thread delivered (its own record, maybe others')
        deliver = delivery.deliver

        def recorded(rep: Any, deadline: float, replay: bool, status: bool = True) -> Any:
            result = deliver(rep, deadline, replay, status)
            attempts.append(result)
            return result

        delivery.deliver = recorded
        report = _report(spec, index)
        barrier.wait(spec["timeout"])
        started = time.monotonic()
        delivery.hand_off(report)
        handed_off = time.monotonic() - started
        settled = delivery.settle(started + delivery.time_budget)
        outcome.update(
            seconds=round(time.monotonic() - started, 3),
            hand_off_ms=round(handed_off * 1000, 2),
            error=None if settled else "not delivered within the time budget",
            requests=sum(a.requests for a in attempts),
            edges=sum(a.edges_sent for a in attempts),
            status=any(a.status_sent for a in attempts),
        )
        failed = [a.error for a in attempts if a.error]
        if failed:
            outcome["error"] = failed[0]
    except Exception as exc:  # reported, not raised: the parent counts it as a failed task
        outcome.update(error=f"crashed: {type(exc).__name__}: {exc}", crashed=True)
    results.put(outcome)


def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    import requests  # noqa: F401

    import airflow_openmetadata_lineage.runtime  # noqa: F401  (import once; children inherit it)

    ctx = multiprocessing.get_context("fork")
    count = spec["processes"]
    barrier = ctx.Barrier(count)
    results = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(spec, i, barrier, results)) for i in range(count)]
    started = time.monotonic()
    for p in procs:
        p.start()
    outcomes, deadline = [], time.monotonic() + spec["timeout"] * 2
    while len(outcomes) < count and time.monotonic() < deadline:
        try:
            outcomes.append(results.get(timeout=max(0.1, deadline - time.monotonic())))
        except Exception:
            break
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(5)
    print(
        json.dumps(
            {
                "outcomes": outcomes,
                "killed": sum(1 for p in procs if p.exitcode not in (0, None) and p.exitcode < 0),
                "wall_s": round(time.monotonic() - started, 2),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
