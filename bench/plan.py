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
    latencies: tuple[int, ...]  # ms per request (latency model `fixed_ms`) of the critical-path section
    chain_tasks: int  # tasks of the chain DAG that section runs (makespan with vs without lineage)
    official_path_tasks: int  # tasks the official backend reports there (its reports are O(DAG^2) requests)
    path_cap: float  # seconds one run of that section may take before it is stopped
    official_path_cap: float  # same, for the official backend (a 20-task report at 300 ms is > 10 min)
    baseline_repeats: int = 5  # runs of none and of ours per latency, in turns (ratio: median of the pairs)
    # pairs at the makespan target's latency (report.MAKESPAN_TARGET_LATENCY_MS); 0: baseline_repeats. The
    # verdict is read there, so its median needs an interval narrow enough to tell 1.05x apart from noise.
    target_repeats: int = 0
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
    latencies=(0, 50, 300, 1000),
    chain_tasks=20,
    official_path_tasks=1,
    path_cap=300.0,
    official_path_cap=120.0,
    official_only_first={50: 1, 200: 1},
    time_cap=400.0,
    held_cap=300.0,
    baseline_repeats=9,  # pairs: one latency's ratios spread by +-0.2 here; their median needs several
    target_repeats=25,  # 25 pairs: the 8th to the 18th smallest ratio bound the median at 95 %
)
SHORT = Plan(
    name="short",
    sizes=(10,),
    repeats=1,
    import_repeats=3,
    latencies=(0, 300),
    chain_tasks=5,
    official_path_tasks=1,
    path_cap=120.0,
    official_path_cap=30.0,
    baseline_repeats=1,
    time_cap=300.0,
    held_cap=45.0,
)
