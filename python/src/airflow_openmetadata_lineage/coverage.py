"""`python -m airflow_openmetadata_lineage coverage <dags folder>`: before deploying, where each task's
lineage will come from (declared / openlineage / sql / none), its FQNs, and whether each table exists on
the server when `[lineage]` points at one. Exit 0 when every task has lineage, 1 when some have none, 2 on
a usage or DAG load error. On MWAA (no shell), call `run_coverage()` from a task: it reads the environment's
DAGs folder.

Loads the DagBag offline (no metadata DB, no scheduler); connections are read as Airflow reads them (env
vars, secrets backend, DB if reachable). SQL is parsed as written: Jinja templates are not rendered (noted).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Optional

from . import auto_lineage, xlets
from .fqn_map import ServiceMap, parse_service_map

EXIT_OK, EXIT_MISSING, EXIT_USAGE = 0, 1, 2


@dataclass
class TaskCoverage:
    dag_id: str
    task_id: str
    operator: str
    source: str
    inlets: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()
    columns: int = 0
    notes: tuple[str, ...] = ()
    resolved: dict[str, str] = field(default_factory=dict)  # FQN -> "found" | "missing" | "error: ..."


@dataclass
class CoverageResult:
    tasks: list[TaskCoverage]
    errors: dict[str, str] = field(default_factory=dict)  # DAG file -> import error
    server: Optional[str] = None  # the endpoint checked, if any

    @property
    def exit_code(self) -> int:
        if self.errors:
            return EXIT_USAGE
        return EXIT_MISSING if any(t.source == auto_lineage.NONE for t in self.tasks) else EXIT_OK

    def text(self) -> str:
        lines = []
        for path, error in sorted(self.errors.items()):
            lines.append(
                f"ERROR loading {path}: {error.strip().splitlines()[-1] if error.strip() else error}"
            )
        for t in self.tasks:
            lines.append(f"{t.dag_id}.{t.task_id} [{t.operator}]: {t.source}")
            for label, fqns in (("in ", t.inlets), ("out", t.outlets)):
                for fqn in fqns:
                    check = f"  ({t.resolved[fqn]})" if fqn in t.resolved else ""
                    lines.append(f"    {label} {fqn}{check}")
            if t.columns:
                lines.append(f"    columns: {t.columns} column edge(s)")
            lines += [f"    note: {n}" for n in t.notes]
        without = [t for t in self.tasks if t.source == auto_lineage.NONE]
        by_source: dict[str, int] = {}
        for t in self.tasks:
            by_source[t.source] = by_source.get(t.source, 0) + 1
        summary = ", ".join(f"{k} {v}" for k, v in sorted(by_source.items()))
        lines.append(f"{len(self.tasks)} task(s): {summary or 'none'}; {len(without)} without lineage")
        if self.server:
            missing = sorted({f for t in self.tasks for f, r in t.resolved.items() if r != "found"})
            lines.append(f"checked against {self.server}: {len(missing)} table(s) not found")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "tasks": [t.__dict__ for t in self.tasks],
                "errors": self.errors,
                "server": self.server,
                "exit_code": self.exit_code,
            },
            indent=2,
            default=list,
        )


def task_coverage(task: Any, dag_id: str, service_map: ServiceMap) -> TaskCoverage:
    operator = str(getattr(task, "task_type", None) or type(task).__name__)
    inlets, outlets = getattr(task, "inlets", None), getattr(task, "outlets", None)
    if inlets or outlets:
        fqn_in, fqn_out = tuple(xlets.collect(inlets)), tuple(xlets.collect(outlets))
        source = auto_lineage.DECLARED if fqn_in and fqn_out else auto_lineage.NONE
        notes: tuple[str, ...] = (
            () if source != auto_lineage.NONE else ("declared inlets/outlets name no table on one side",)
        )
        return TaskCoverage(dag_id, task.task_id, operator, source, fqn_in, fqn_out, notes=notes)
    notes = ()
    with contextlib.suppress(Exception):
        task.resolve_template_files()  # sql="query.sql" -> the file's text, as a run would
    if "{{" in str(getattr(task, "sql", "") or getattr(task, "query", "") or ""):
        notes = ("SQL has Jinja templates: parsed unrendered",)
    found = auto_lineage.extract(task, None, service_map)
    unmapped = tuple(auto_lineage.note_for(u) for u in found.unmapped)
    return TaskCoverage(
        dag_id,
        task.task_id,
        operator,
        found.source,
        found.inlets,
        found.outlets,
        len(found.column_lineage),
        notes + unmapped + found.notes,
    )


def _dagbag(folder: str) -> Any:
    try:
        from airflow.models.dagbag import DagBag
    except ImportError:  # later Airflow 3 releases
        from airflow.dag_processing.dagbag import DagBag  # type: ignore[no-redef]
    return DagBag(dag_folder=folder, include_examples=False, read_dags_from_db=False)


def _check_server(tasks: Iterable[TaskCoverage]) -> Optional[str]:
    """Look every FQN up on the configured server; None when [lineage] configures none."""
    from . import auth
    from .client import ClientError, OpenMetadataClient, quote_fqn
    from .config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError:
        return None
    client = OpenMetadataClient(config, auth.create_provider(config))
    seen: dict[str, str] = {}
    for t in tasks:
        for fqn in (*t.inlets, *t.outlets):
            if fqn not in seen:
                try:
                    entity = client.get(
                        f"/v1/tables/name/{quote_fqn(fqn)}", time.monotonic() + config.timeout * 2
                    )
                    seen[fqn] = "found" if isinstance(entity, dict) and entity.get("id") else "missing"
                except ClientError as exc:
                    seen[fqn] = "missing" if exc.status == 404 else f"error: {str(exc)[:80]}"
                except Exception as exc:
                    seen[fqn] = f"error: {type(exc).__name__}"
            t.resolved[fqn] = seen[fqn]
    return config.endpoint


def service_map_from_config(text: Optional[str] = None) -> ServiceMap:
    """`text` (a --service-map argument) or `[lineage] service_map`; ValueError when malformed."""
    if text is None:
        from .config import _read, airflow_getter

        text = _read(airflow_getter(), "service_map", 5.0)
    return parse_service_map(text)


def run_coverage(
    dags_folder: Optional[str] = None, service_map: Optional[ServiceMap] = None, check_server: bool = True
) -> CoverageResult:
    """The coverage of every task in `dags_folder` (default: Airflow's [core] dags_folder)."""
    if dags_folder is None:
        from airflow.configuration import conf

        dags_folder = conf.get("core", "dags_folder")
    if service_map is None:
        service_map = service_map_from_config()
    bag = _dagbag(dags_folder)
    tasks = [
        task_coverage(task, dag_id, service_map)
        for dag_id in sorted(bag.dags)
        for task in sorted(bag.dags[dag_id].tasks, key=lambda t: t.task_id)
    ]
    result = CoverageResult(tasks, {str(k): str(v) for k, v in bag.import_errors.items()})
    if check_server and tasks:
        result.server = _check_server(tasks)
    return result


def main(folder: str, service_map_text: Optional[str], as_json: bool, check_server: bool) -> int:
    if not os.path.isdir(folder) and not (os.path.isfile(folder) and folder.endswith(".py")):
        print(f"coverage: {folder} is not a DAGs folder or a .py file")
        return EXIT_USAGE
    try:
        service_map = service_map_from_config(service_map_text)
    except ValueError as exc:
        print(f"coverage: {'--service-map' if service_map_text is not None else '[lineage]'} {exc}")
        return EXIT_USAGE
    import logging

    logging.getLogger("airflow").setLevel(
        logging.WARNING
    )  # "Retrieving connection ..." per task is noise here
    try:
        result = run_coverage(folder, service_map, check_server)
    except Exception as exc:  # Airflow missing or broken: a usage error, said plainly
        print(f"coverage: could not load the DAGs ({type(exc).__name__}: {str(exc)[:200]})")
        return EXIT_USAGE
    print(result.to_json() if as_json else result.text())
    return result.exit_code
