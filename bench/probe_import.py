"""Run inside a target venv: the cost of importing a lineage backend into a process that already has Airflow.

Prints one JSON object: seconds, modules added to sys.modules, RSS added. Airflow (the task process's own
baseline) is imported first so only the backend's share is counted.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(class_path: str) -> None:
    import airflow.lineage.backend
    import airflow.models.baseoperator  # noqa: F401

    module_name, _, class_name = class_path.rpartition(".")
    modules_before, rss_before, started = len(sys.modules), _rss_bytes(), time.perf_counter()
    getattr(importlib.import_module(module_name), class_name)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "modules": len(sys.modules) - modules_before,
                "rss": _rss_bytes() - rss_before,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
