"""A LineageBackend that wraps the backend under test and records what it costs the task process.

Airflow 2 imports `[lineage] backend` once per process; this shim is that class. It imports the real
backend (BENCH_INNER_BACKEND, a dotted class path) and times the import, then times every `send_lineage` call
and appends one JSON line per event to BENCH_RECORD. Exceptions from the real backend are recorded and
re-raised, so the task sees exactly what it would see without the shim.

BENCH_ONLY_FIRST=k reports only the first k tasks (the rest are recorded as skipped), for cells whose
per-task cost is too high to run a whole DAG (e.g. a 504 that the official client sleeps 180 s on).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from typing import Any

from airflow.lineage.backend import LineageBackend


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _record(event: dict[str, Any]) -> None:
    with open(os.environ["BENCH_RECORD"], "a") as out:
        out.write(json.dumps(event) + "\n")


def _load_inner() -> type:
    module_name, _, class_name = os.environ["BENCH_INNER_BACKEND"].rpartition(".")
    modules_before, rss_before, started = len(sys.modules), _rss_bytes(), time.perf_counter()
    cls = getattr(importlib.import_module(module_name), class_name)
    _record(
        {
            "kind": "import",
            "seconds": time.perf_counter() - started,
            "modules": len(sys.modules) - modules_before,
            "rss_before": rss_before,
            "rss_after": _rss_bytes(),
        }
    )
    return cls


_INNER = _load_inner()
_ONLY_FIRST = int(os.environ.get("BENCH_ONLY_FIRST", "0") or 0)


class TimingBackend(LineageBackend):
    calls = 0

    def __init__(self) -> None:
        super().__init__()
        # Airflow builds its backend once per process; so does this shim for the one it wraps.
        self._inner = _INNER()

    def send_lineage(
        self, operator: Any = None, inlets: Any = None, outlets: Any = None, context: Any = None
    ):
        TimingBackend.calls += 1
        task_id = getattr(operator, "task_id", "?")
        if _ONLY_FIRST and TimingBackend.calls > _ONLY_FIRST:
            _record({"kind": "skipped", "task_id": task_id})
            return None
        event: dict[str, Any] = {"kind": "task", "task_id": task_id, "wall_start": time.time()}
        started = time.perf_counter()
        try:
            return self._inner.send_lineage(
                operator=operator, inlets=inlets, outlets=outlets, context=context
            )
        except BaseException as exc:
            event["error"] = f"{type(exc).__name__}: {exc}"[:300]
            raise
        finally:
            event["seconds"] = time.perf_counter() - started
            event["wall_end"] = time.time()
            event["rss"] = _rss_bytes()
            _record(event)
