"""Airflow plugin (bench only, `[core] plugins_folder`): times every task-instance listener hook call.

Listeners (the OpenLineage provider's, our wheel's when it registers one) run inside the task process:
`on_task_instance_running` before `execute`, `on_task_instance_success` / `_failed` after it, and the task's
state is not final until they return. This module adds pluggy's hook-call monitoring to Airflow's listener
manager and appends one JSON line per call to BENCH_RECORD:
`{"kind": "hook", "hook", "task_id", "seconds", "wall_start", "wall_end", "listeners"}`; the bench adds them
to the `[lineage] backend` shim's time for the task (bench/lab.py). Calls with no listener registered are not
recorded. Without BENCH_RECORD this plugin does nothing.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

try:
    from airflow.plugins_manager import AirflowPlugin
except Exception:  # pragma: no cover - never break Airflow
    AirflowPlugin = object  # type: ignore[assignment,misc]

_RECORD = os.environ.get("BENCH_RECORD")
_local = threading.local()


def _before(hook_name: str, hook_impls: list, kwargs: dict[str, Any]) -> None:
    if hook_name.startswith("on_task_instance_"):
        _local.__dict__.setdefault("stack", []).append((time.time(), time.perf_counter()))


def _after(outcome: Any, hook_name: str, hook_impls: list, kwargs: dict[str, Any]) -> None:
    if not hook_name.startswith("on_task_instance_"):
        return
    wall_start, started = _local.stack.pop()
    if not hook_impls or not _RECORD:
        return
    ti = kwargs.get("task_instance")
    event = {
        "kind": "hook",
        "hook": hook_name,
        "task_id": getattr(ti, "task_id", "?"),
        "seconds": time.perf_counter() - started,
        "wall_start": wall_start,
        "wall_end": time.time(),
        "listeners": [getattr(i, "plugin_name", "?") for i in hook_impls],
        "pid": os.getpid(),
    }
    with open(_RECORD, "a") as out:
        out.write(json.dumps(event) + "\n")


def _monitor(manager: Any) -> None:
    if not getattr(manager, "_bench_monitored", False):
        manager.pm.add_hookcall_monitoring(_before, _after)
        manager._bench_monitored = True


def _install() -> None:
    if not _RECORD:
        return
    try:
        from airflow.listeners import listener
    except Exception:
        return
    if listener._listener_manager is not None:  # plugins are being integrated into an existing manager
        _monitor(listener._listener_manager)
        return
    init = listener.ListenerManager.__init__

    def patched(self: Any) -> None:
        init(self)
        _monitor(self)

    listener.ListenerManager.__init__ = patched  # type: ignore[method-assign]


_install()


class BenchHookTimingPlugin(AirflowPlugin):  # type: ignore[misc,valid-type]
    name = "bench_hook_timing"
