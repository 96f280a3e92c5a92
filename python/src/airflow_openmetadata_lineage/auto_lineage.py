"""A task's inputs and outputs when it declares no inlets/outlets: from the operator's OpenLineage methods
(when apache-airflow-providers-openlineage is importable), else from the SQL it ran (sql_lineage), mapped to
OpenMetadata FQNs by `[lineage] service_map` (fqn_map). docs/automatic-lineage.md lists the operators.

Operators are read by attribute and class name, so no provider is imported here; Airflow is imported only to
look up a connection's type (lazily, in the task process after the task). Nothing here raises: a failure is a
note and the task reports no automatic lineage.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import fqn_map
from .fqn_map import Defaults, ServiceMap, ServiceTarget
from .model import ColumnLineage

log = logging.getLogger("airflow_openmetadata_lineage")

DECLARED, OPENLINEAGE, SQL, NONE = "declared", "openlineage", "sql", "none"

SQL_OPERATORS = frozenset({"SQLExecuteQueryOperator", "BaseSQLOperator"})
ATHENA_OPERATORS = frozenset({"AthenaOperator"})
S3_TO_REDSHIFT = "S3ToRedshiftOperator"
REDSHIFT_TO_S3 = "RedshiftToS3Operator"
S3_COPY = "S3CopyObjectOperator"
# The connection attributes SQL operators used before `conn_id` (common-sql < 1.3 subclasses).
CONN_ATTRS = (
    "conn_id",
    "postgres_conn_id",
    "mysql_conn_id",
    "redshift_conn_id",
    "snowflake_conn_id",
    "trino_conn_id",
    "sqlite_conn_id",
    "mssql_conn_id",
)

# How OpenMetadata names a connection type's databases and schemas when the SQL leaves them out.
# (default database, default schema); None = take it from the connection (see _defaults).
OM_CONVENTIONS: dict[str, tuple[Optional[str], Optional[str]]] = {
    "postgres": (None, "public"),
    "redshift": (None, "public"),
    "mysql": (
        "default",
        None,
    ),  # OpenMetadata's MySQL service has one database "default"; MySQL dbs are schemas
    "sqlite": ("main", "main"),
    "mssql": (None, "dbo"),
    "snowflake": (None, "public"),
}
# OpenLineage namespace scheme -> connection type for the conventions above.
SCHEMES = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "redshift": "redshift",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "mssql": "mssql",
    "sqlserver": "mssql",
    "snowflake": "snowflake",
    "awsathena": "athena",
    "trino": "trino",
}


@dataclass(frozen=True)
class Unmapped:
    dataset: str  # as the SQL or OpenLineage named it
    key: str  # the service_map key to add
    missing: str = "the OpenMetadata service"


@dataclass(frozen=True)
class AutoLineage:
    source: str = NONE
    inlets: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()
    column_lineage: tuple[ColumnLineage, ...] = ()
    containers_in: tuple[str, ...] = ()  # OpenMetadata container FQNs (S3), not sent as table edges
    containers_out: tuple[str, ...] = ()
    unmapped: tuple[Unmapped, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self) -> dict[str, Any]:
        """What goes into TaskReport.extra (JSON-able)."""
        return {
            "lineage_source": self.source,
            "lineage_notes": list(self.notes) + [note_for(u) for u in self.unmapped],
            "containers": {"inlets": list(self.containers_in), "outlets": list(self.containers_out)},
        }


def note_for(u: Unmapped) -> str:
    return f'{u.dataset}: not in [lineage] service_map; add "{u.key}" with {u.missing}'


@dataclass
class _Builder:
    service_map: ServiceMap
    inlets: dict[str, None] = field(default_factory=dict)
    outlets: dict[str, None] = field(default_factory=dict)
    columns: list[ColumnLineage] = field(default_factory=list)
    containers_in: dict[str, None] = field(default_factory=dict)
    containers_out: dict[str, None] = field(default_factory=dict)
    unmapped: dict[Unmapped, None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def table(
        self, parts: tuple[str, ...], conn_id: Optional[str], namespace: Optional[str], defaults: Defaults
    ) -> Optional[str]:
        label = ".".join(parts)
        found = fqn_map.lookup(self.service_map, conn_id, namespace)
        if found is None:
            self.unmapped.setdefault(Unmapped(label, conn_id or namespace or "?"), None)
            return None
        key, target = found
        fqn, missing = fqn_map.table_fqn(target, parts, defaults)
        if fqn is None:
            self.unmapped.setdefault(Unmapped(label, key, str(missing)), None)
        return fqn

    def location(self, uri: str, outgoing: bool) -> None:
        fqn, _ = fqn_map.container_fqn(self.service_map, uri)
        if fqn is None:
            bucket = uri.split("://", 1)[-1].split("/", 1)[0]
            self.notes.append(f"{uri}: skipped (no storage service mapped for s3://{bucket} in service_map)")
            return
        (self.containers_out if outgoing else self.containers_in).setdefault(fqn, None)
        self.notes.append(f"{uri} -> container {fqn}: container lineage is not sent (table edges only)")

    def result(self, source: str) -> AutoLineage:
        edges = bool(self.inlets or self.containers_in) and bool(self.outlets or self.containers_out)
        return AutoLineage(
            source=source if edges else NONE,
            inlets=tuple(self.inlets),
            outlets=tuple(self.outlets),
            column_lineage=tuple(c for c in self.columns if c.from_table in self.inlets),
            containers_in=tuple(self.containers_in),
            containers_out=tuple(self.containers_out),
            unmapped=tuple(self.unmapped),
            notes=tuple(dict.fromkeys(self.notes)),
        )


# -- connections ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnInfo:
    conn_id: str
    conn_type: Optional[str] = None
    host: Optional[str] = None
    port: Optional[int] = None
    schema: Optional[str] = None  # Airflow's "schema" field: the database for Postgres/Redshift/MySQL
    extra: dict[str, Any] = field(default_factory=dict)

    def namespace(self) -> Optional[str]:
        """The OpenLineage-style namespace of this connection (scheme://host[:port]), for namespace keys."""
        if not self.conn_type or not self.host:
            return None
        scheme = {
            "postgres": "postgres",
            "redshift": "redshift",
            "mysql": "mysql",
            "trino": "trino",
            "mssql": "mssql",
            "sqlite": "sqlite",
        }.get(self.conn_type, self.conn_type)
        return f"{scheme}://{self.host}" + (f":{self.port}" if self.port else "")


ConnectionGetter = Callable[[str], Optional[ConnInfo]]


def airflow_connection(conn_id: str) -> Optional[ConnInfo]:
    """The connection from Airflow (env AIRFLOW_CONN_*, secrets backend, metadata DB), or None."""
    try:
        try:
            from airflow.sdk import BaseHook  # Airflow 3
        except ImportError:
            from airflow.hooks.base import BaseHook
        conn = BaseHook.get_connection(conn_id)
    except Exception:
        return None
    try:
        extra = conn.extra_dejson if isinstance(conn.extra_dejson, dict) else {}
    except Exception:
        extra = {}
    return ConnInfo(conn_id, conn.conn_type, conn.host, conn.port, conn.schema, extra)


def _defaults(conn_type: Optional[str], conn: Optional[ConnInfo], task: Any) -> Defaults:
    conv_db, conv_schema = OM_CONVENTIONS.get(conn_type or "", (None, None))
    extra = conn.extra if conn else {}
    hook_params = getattr(task, "hook_params", None) or {}
    database = conv_db or _text(getattr(task, "database", None)) or _text(hook_params.get("database"))
    schema = conv_schema
    if conn_type in ("postgres", "redshift", "mssql"):
        database = database or (conn.schema if conn else None)
    elif conn_type == "mysql":
        schema = _text(getattr(task, "database", None)) or (conn.schema if conn else None)
    elif conn_type == "snowflake":
        database = database or _text(extra.get("database"))
        schema = _text(hook_params.get("schema")) or (conn.schema if conn else None) or schema
    elif conn_type == "trino":
        database = database or _text(extra.get("catalog"))
        schema = conn.schema if conn else None
    if conn_type in ("snowflake", "redshift", "postgres"):  # OpenMetadata stores these names lower case
        database, schema = (v.lower() if v else v for v in (database, schema))
    return Defaults(database, schema)


def _text(value: Any) -> Optional[str]:
    return value.strip() if isinstance(value, str) and value.strip() else None


# -- SQL operators ----------------------------------------------------------------------------------------


def _class_names(task: Any) -> set[str]:
    return {c.__name__ for c in type(task).__mro__}


def _sql_texts(sql: Any) -> list[str]:
    if isinstance(sql, str):
        return [sql]
    if isinstance(sql, Iterable):
        return [s for s in sql if isinstance(s, str)]
    return []


def _from_sql(
    b: _Builder,
    texts: list[str],
    dialect: Optional[str],
    conn_id: Optional[str],
    namespace: Optional[str],
    defaults: Defaults,
) -> None:
    from .sql_lineage import parse_sql

    parsed = parse_sql(texts, dialect)
    b.notes += parsed.notes
    fqns: dict[tuple[str, ...], Optional[str]] = {}
    for parts in (*parsed.inputs, *parsed.outputs, *(c.to_table for c in parsed.columns)):
        if parts not in fqns:
            fqns[parts] = b.table(parts, conn_id, namespace, defaults)
    for parts in parsed.inputs:
        fqn = fqns[parts]
        if fqn:
            b.inlets.setdefault(fqn, None)
    for parts in parsed.outputs:
        fqn = fqns[parts]
        if fqn:
            b.outlets.setdefault(fqn, None)
    for uri in parsed.locations:
        b.location(uri, outgoing=False)
    for edge in parsed.columns:
        to_fqn = fqns.get(edge.to_table)
        by_table: dict[str, list[str]] = {}
        for table, column in edge.sources:
            from_fqn = fqns.get(table) or b.table(table, conn_id, namespace, defaults)
            if from_fqn and to_fqn:
                by_table.setdefault(from_fqn, []).append(column)
        if to_fqn:  # else by_table is empty
            for from_fqn, columns in by_table.items():
                lineage = ColumnLineage(from_fqn, to_fqn, edge.to_column, tuple(columns), edge.function)
                b.columns.append(lineage)


def _conn_id(task: Any) -> Optional[str]:
    for attr in CONN_ATTRS:
        value = _text(getattr(task, attr, None))
        if value:
            return value
    return None


def from_sql_operator(task: Any, b: _Builder, get_connection: ConnectionGetter) -> bool:
    """SQLExecuteQueryOperator and subclasses, AthenaOperator, S3ToRedshift / RedshiftToS3, S3 copy. True
    when the task is one of them (even if it yields nothing)."""
    from .sql_lineage import dialect_for

    names = _class_names(task)
    if names & ATHENA_OPERATORS:
        conn_id = _text(getattr(task, "aws_conn_id", None)) or "aws_default"
        region = _text(getattr(task, "region_name", None))
        namespace = f"awsathena://athena.{region}.amazonaws.com" if region else None
        catalog = (_text(getattr(task, "catalog", None)) or "AwsDataCatalog").lower()
        defaults = Defaults(catalog, _text(getattr(task, "database", None)))
        _from_sql(b, _sql_texts(getattr(task, "query", None)), "athena", conn_id, namespace, defaults)
        return True
    if S3_TO_REDSHIFT in names or REDSHIFT_TO_S3 in names:
        conn_id = _text(getattr(task, "redshift_conn_id", None)) or "redshift_default"
        conn = get_connection(conn_id)
        defaults = _defaults("redshift", conn, task)
        namespace = conn.namespace() if conn else None
        table = tuple(
            p for p in (_text(getattr(task, "schema", None)), _text(getattr(task, "table", None))) if p
        )
        uri = f"s3://{getattr(task, 's3_bucket', '')}/{getattr(task, 's3_key', '') or ''}"
        if S3_TO_REDSHIFT in names:
            b.location(uri, outgoing=False)
            fqn = b.table(tuple(p.lower() for p in table), conn_id, namespace, defaults) if table else None
            if fqn:
                b.outlets.setdefault(fqn, None)
        else:
            select = _text(getattr(task, "select_query", None))
            if select:
                from .sql_lineage import tables_read

                for parts in tables_read(select, "redshift"):
                    fqn = b.table(parts, conn_id, namespace, defaults)
                    if fqn:
                        b.inlets.setdefault(fqn, None)
            elif table:
                fqn = b.table(tuple(p.lower() for p in table), conn_id, namespace, defaults)
                if fqn:
                    b.inlets.setdefault(fqn, None)
            b.location(uri, outgoing=True)
        return True
    if S3_COPY in names:
        for bucket_attr, key_attr, outgoing in (
            ("source_bucket_name", "source_bucket_key", False),
            ("dest_bucket_name", "dest_bucket_key", True),
        ):
            key = str(getattr(task, key_attr, "") or "")
            bucket = getattr(task, bucket_attr, None)
            b.location(key if key.startswith("s3://") else f"s3://{bucket}/{key}", outgoing)
        return True
    if not (names & SQL_OPERATORS) and not hasattr(task, "sql"):
        return False
    sql_conn_id = _conn_id(task)
    texts = _sql_texts(getattr(task, "sql", None))
    if sql_conn_id is None or not texts:
        if names & SQL_OPERATORS:
            b.notes.append("a SQL operator without conn_id or SQL text: nothing to parse")
        return bool(names & SQL_OPERATORS)
    conn_id = sql_conn_id
    conn = get_connection(conn_id)
    conn_type = conn.conn_type if conn else None
    if conn is None:
        b.notes.append(f"connection {conn_id!r} not found: SQL parsed in the generic dialect")
    dialect = dialect_for(conn_type)
    _from_sql(
        b, texts, dialect, conn_id, conn.namespace() if conn else None, _defaults(conn_type, conn, task)
    )
    return True


# -- OpenLineage ------------------------------------------------------------------------------------------


def openlineage_available() -> bool:
    try:
        return importlib.util.find_spec("airflow.providers.openlineage") is not None
    except Exception:  # `airflow.providers` missing or broken
        return False


def _facet(dataset: Any, name: str) -> Any:
    facets = getattr(dataset, "facets", None) or {}
    return facets.get(name) if isinstance(facets, dict) else getattr(facets, name, None)


def _attr(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _ol_defaults(namespace: str) -> Defaults:
    conn_type = SCHEMES.get(namespace.split("://", 1)[0].lower())
    conv_db, conv_schema = OM_CONVENTIONS.get(conn_type or "", (None, None))
    return Defaults(conv_db, conv_schema)


def _ol_table(b: _Builder, namespace: str, name: str, conn_id: Optional[str]) -> Optional[str]:
    parts = tuple(fqn_map.split_fqn(name))
    # An OpenLineage namespace key is more specific than the task's connection id: try it first.
    found = fqn_map.lookup(b.service_map, None, namespace)
    if found is not None:
        return b.table(parts, None, namespace, _ol_defaults(namespace))
    return b.table(parts, conn_id, namespace, _ol_defaults(namespace))


def from_openlineage(task: Any, ti: Any, b: _Builder) -> bool:
    """The operator's OpenLineage facets -> b. True when they named at least one input and one output."""
    method = getattr(task, "get_openlineage_facets_on_complete", None)
    try:
        lineage = method(ti) if callable(method) and ti is not None else None
        if lineage is None or not (getattr(lineage, "inputs", None) or getattr(lineage, "outputs", None)):
            start = getattr(task, "get_openlineage_facets_on_start", None)
            lineage = start() if callable(start) else lineage
    except Exception as exc:
        b.notes.append(f"OpenLineage facets failed ({type(exc).__name__}); SQL parse used instead")
        return False
    inputs = list(getattr(lineage, "inputs", None) or [])
    outputs = list(getattr(lineage, "outputs", None) or [])
    if not (inputs and outputs):
        return False
    conn_id = _conn_id(task)
    fqn_of: dict[tuple[str, str], Optional[str]] = {}

    def resolve(dataset: Any, outgoing: bool) -> Optional[str]:
        namespace, name = str(_attr(dataset, "namespace") or ""), str(_attr(dataset, "name") or "")
        if (namespace, name) not in fqn_of:
            if namespace.startswith(("s3://", "s3a://")):
                b.location(f"{namespace.rstrip('/')}/{name.lstrip('/')}", outgoing)
                fqn_of[(namespace, name)] = None
            else:
                fqn_of[(namespace, name)] = _ol_table(b, namespace, name, conn_id)
        return fqn_of[(namespace, name)]

    for dataset in inputs:
        fqn = resolve(dataset, False)
        if fqn:
            b.inlets.setdefault(fqn, None)
    for dataset in outputs:
        to_fqn = resolve(dataset, True)
        if not to_fqn:
            continue
        b.outlets.setdefault(to_fqn, None)
        fields = _attr(_facet(dataset, "columnLineage"), "fields") or {}
        for column, spec in dict(fields).items():
            by_table: dict[str, list[str]] = {}
            for field_ in _attr(spec, "inputFields") or []:
                source = (str(_attr(field_, "namespace")), str(_attr(field_, "name")))
                from_fqn = (
                    fqn_of.get(source)
                    if source in fqn_of
                    else resolve({"namespace": source[0], "name": source[1]}, False)
                )
                if from_fqn:
                    by_table.setdefault(from_fqn, []).append(str(_attr(field_, "field")))
            function = _text(_attr(spec, "transformationDescription"))
            for from_fqn, columns in by_table.items():
                b.columns.append(ColumnLineage(from_fqn, to_fqn, str(column), tuple(columns), function))
    return True


# -- entry point --------------------------------------------------------------------------------------------


def extract(
    task: Any,
    ti: Any = None,
    service_map: Optional[ServiceMap] = None,
    get_connection: Optional[ConnectionGetter] = None,
    use_openlineage: Optional[bool] = None,
) -> AutoLineage:
    """The automatic lineage of a task that declares none. Never raises."""
    service_map = service_map or {}
    try:
        if use_openlineage is None:
            use_openlineage = openlineage_available()
        getter = get_connection or airflow_connection
        if use_openlineage:
            b = _Builder(service_map)
            if from_openlineage(task, ti, b):
                found = b.result(OPENLINEAGE)
                if found.source != NONE:
                    return _with_sql_columns(found, task, service_map, getter)
            ol_notes = b.notes
        else:
            ol_notes = []
        b = _Builder(service_map, notes=list(ol_notes))
        if from_sql_operator(task, b, getter):
            return b.result(SQL)
        return b.result(NONE)
    except Exception as exc:  # a strange operator must never break the report
        log.debug("OpenMetadata lineage: automatic lineage failed", exc_info=True)
        return AutoLineage(notes=(f"automatic lineage failed ({type(exc).__name__})",))


def _with_sql_columns(
    found: AutoLineage, task: Any, service_map: ServiceMap, get_connection: ConnectionGetter
) -> AutoLineage:
    """OpenLineage's tables, plus the SQL parse's column lineage for output columns its facet leaves out
    (e.g. through temporary tables), on the same tables only."""
    from dataclasses import replace

    b = _Builder(service_map)
    try:
        if not from_sql_operator(task, b, get_connection):
            return found
    except Exception:
        return found
    covered = {(c.to_table, c.to_column) for c in found.column_lineage}
    added = tuple(
        c
        for c in b.columns
        if (c.to_table, c.to_column) not in covered
        and c.from_table in found.inlets
        and c.to_table in found.outlets
    )
    return replace(found, column_lineage=found.column_lineage + added) if added else found


def log_notes(dag_id: str, task_id: str, found: AutoLineage) -> None:
    """One line per task: what was found (JSON, so the task log says where lineage came from), then the
    unmapped datasets with the key to add, and other notes."""
    if found.source != NONE:
        found_json = {
            "source": found.source,
            "inlets": list(found.inlets),
            "outlets": list(found.outlets),
            "columns": [
                [c.from_table, c.to_table, c.to_column, list(c.from_columns)] for c in found.column_lineage
            ],
        }
        log.info("OpenMetadata lineage: %s.%s: automatic lineage %s", dag_id, task_id, json.dumps(found_json))
    if found.unmapped:
        log.warning(
            "OpenMetadata lineage: %s.%s: %d dataset(s) not mapped: %s",
            dag_id,
            task_id,
            len(found.unmapped),
            "; ".join(note_for(u) for u in found.unmapped),
        )
    if found.notes:
        log.info("OpenMetadata lineage: %s.%s: %s", dag_id, task_id, "; ".join(found.notes))


def target_text(target: ServiceTarget) -> str:
    return ".".join(p for p in (target.service, target.database, target.schema) if p)
