"""What a full and a short run measure. The official backend costs O(tasks^2) requests per task report (it
reports the whole DAG's inlets x outlets from every task), so its big DAGs report only their first tasks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Plan:
    name: str
    sizes: tuple[int, ...]
    repeats: int  # DAG runs per cell (DAGs over 50 tasks: 1; each run still gives one sample per task)
    import_repeats: int
    latencies: tuple[int, ...]  # ms the emulator adds to every API answer
    latency_tasks: int  # tasks reported per latency run (both backends)
    official_only_first: dict[int, int] = field(
        default_factory=dict
    )  # DAG size -> tasks the official reports
    time_cap: float = 600.0  # seconds one `airflow dags test` may take before it is stopped
    held_cap: float = 300.0  # same, for the server-down / 503 / 504 runs


FULL = Plan(
    name="full",
    sizes=(10, 50, 200),
    repeats=3,
    import_repeats=7,
    latencies=(0, 20, 100),
    latency_tasks=2,
    official_only_first={50: 1, 200: 1},
    time_cap=400.0,
    held_cap=300.0,
)
SHORT = Plan(
    name="short",
    sizes=(10,),
    repeats=1,
    import_repeats=3,
    latencies=(0, 20, 100),
    latency_tasks=1,
    time_cap=300.0,
    held_cap=45.0,
)
