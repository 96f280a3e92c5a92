"""The Airflow 2.x lineage backend:
`[lineage] backend = airflow_openmetadata_lineage.backend.OpenMetadataLineageBackend`.

Thin on purpose: translate Airflow objects into plain data (adapter.py) and hand them off (delivery.py): the
report is written to the worker's spool and delivered in the background, so the task's success is committed
without waiting for OpenMetadata.
Airflow imports this module whenever it imports BaseOperator, so the import must be cheap and never raise;
an exception out of send_lineage would fail the task, so every entry point catches everything and logs one
line.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Optional

log = logging.getLogger("airflow_openmetadata_lineage")

try:
    from airflow.lineage.backend import LineageBackend as _Base
except Exception:  # Airflow 3 has no lineage backends; keep the class importable anyway
    _Base = object  # type: ignore[assignment,misc]


class OpenMetadataLineageBackend(_Base):
    """Reports the task's run status and its inlet x outlet table lineage to OpenMetadata."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except Exception as exc:
            log.warning("OpenMetadata lineage: backend init: %s", type(exc).__name__)

    def send_lineage(
        self,
        operator: Any = None,
        inlets: Optional[list[Any]] = None,
        outlets: Optional[list[Any]] = None,
        context: Optional[dict[str, Any]] = None,
    ) -> None:
        try:
            self._send(operator, inlets, outlets, context or {})
        except Exception as exc:  # never fail the task
            log.warning("OpenMetadata lineage: report skipped after an unexpected %s", type(exc).__name__)
            log.debug("OpenMetadata lineage: details", exc_info=True)

    @staticmethod
    def _send(operator: Any, inlets: Any, outlets: Any, context: dict[str, Any]) -> None:
        started = time.monotonic()
        from . import runtime

        delivery = runtime.get_delivery()
        if delivery is None:
            return  # configuration error: logged once by runtime
        from .adapter import task_report

        ti = context.get("ti") or context.get("task_instance")
        dag_run = context.get("dag_run")
        dag = getattr(operator, "dag", None) or context.get("dag")
        if ti is None or dag_run is None or dag is None:
            log.warning("OpenMetadata lineage: the task context has no ti/dag_run/dag; nothing sent")
            return
        try:
            siblings: Optional[list[Any]] = _task_states(ti, dag_run)
        except Exception:  # no DB access here: the reporter merges with the server's copy instead
            siblings = None
        report = task_report(
            operator,
            dag,
            dag_run,
            ti,
            inlets if inlets is not None else getattr(operator, "inlets", None),
            outlets if outlets is not None else getattr(operator, "outlets", None),
            state="success",  # send_lineage runs only after execute() succeeded
            siblings=siblings,
        )
        # Before Airflow commits the task's success: hand off only, and hold the delivery thread until the
        # listener's success hook (after the commit) releases it, so the path to the commit is ours alone.
        delivery.hand_off(report, hold=True)
        log.debug("OpenMetadata lineage: handed off in %.1f ms", (time.monotonic() - started) * 1000)


def _task_states(ti: Any, dag_run: Any) -> list[Any]:
    """The run's task states, only the columns a status needs, in the task's own session (the thread's
    scoped session, which DagRun.get_task_instances() would use too). Not committed or closed here:
    Airflow commits it with the task's state, and closing it would make Airflow reconnect (task processes
    run without a connection pool)."""
    from airflow import settings

    from .adapter import run_task_states

    session = settings.Session()
    try:
        return run_task_states(ti, dag_run, session)
    except Exception:
        session.rollback()  # as Airflow's create_session() does after a failed read: Airflow goes on with it
        raise
