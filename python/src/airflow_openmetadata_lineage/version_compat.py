"""The running Airflow's version, read once: the one place the wheel asks which Airflow it runs in.

Importing this module does not import Airflow; the first call does (the wheel also runs without Airflow: the
self-check, unit tests), and then answers (2, 10), the oldest line whose hooks the wheel relies on.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

FALLBACK = (2, 10)


def parse(version: str) -> tuple[int, int]:
    """`3.0.6` -> (3, 0); `2.10.5+composer` -> (2, 10); anything unreadable -> FALLBACK."""
    parts = [("".join(c for c in part if c.isdigit()) or "") for part in str(version).split(".")[:2]]
    if len(parts) < 2 or not all(parts):
        return FALLBACK
    return int(parts[0]), int(parts[1])


@lru_cache(maxsize=1)
def airflow_version() -> tuple[int, int]:
    """(major, minor) of the installed Airflow."""
    try:
        from airflow import __version__
    except Exception:
        return FALLBACK
    return parse(__version__)


def airflow_major() -> int:
    return airflow_version()[0]


def committed_before_listener(state: str, major: Optional[int] = None) -> bool:
    """Whether Airflow has committed a task instance's `state` before it calls the listener hook.

    Airflow 2 (models/taskinstance.py): the success hook runs after `TaskInstance.save_to_db`; the failure
    hook runs inside `fetch_handle_failure_context`, before the failure is saved. Airflow 3 (task SDK
    task_runner.py / supervisor.py): `run()` sends SucceedTask / RetryTask, which the supervisor sends to the
    API server at once, before `finalize()` calls the hooks; a FAILED state is sent only after the task
    process exits."""
    major = major if major is not None else airflow_major()
    if state == "success":
        return True
    return major >= 3 and state == "up_for_retry"


FORKED_RUNNER_TITLE = b"airflow task runner:"


def exits_without_atexit() -> bool:
    """Whether this process is Airflow 2's forked task runner (StandardTaskRunner._start_by_fork): it names
    itself "airflow task runner: ..." (setproctitle) and leaves through os._exit, so atexit handlers never run
    there and a hook is the last moment to wait for a delivery. Everywhere else (Airflow 3's task runner,
    `tasks run --raw` started as a subprocess, `dags test`, the scheduler) the process exits normally."""
    try:
        with open("/proc/self/cmdline", "rb") as cmdline:  # Linux (MWAA); elsewhere: a normal exit
            return cmdline.read(len(FORKED_RUNNER_TITLE)) == FORKED_RUNNER_TITLE
    except OSError:
        return False
