"""SQL text -> the tables it reads and writes, and which output column comes from which input columns.

Pure: no Airflow import, no database access. sqlglot (imported on first use, never by the backend or plugin
import) parses each statement in the connection's dialect. Rules (docs/automatic-lineage.md):

- Writes: CREATE TABLE/VIEW ... AS, INSERT ... SELECT, MERGE INTO, UPDATE ... FROM, SELECT ... INTO, COPY.
  A statement that only reads (SELECT, SHOW, EXPLAIN) or writes without reading (INSERT ... VALUES, DELETE,
  plain DDL) yields no edge.
- Temporary tables (CREATE TEMP/TEMPORARY ..., and tables a script creates and later drops) are never
  reported: a later statement that reads one reads, in its place, what the temporary table was built from
  (tables and columns).
- CTE names and table functions are not tables. Unquoted identifiers are folded the way the database folds
  them (lower case for Postgres, Redshift, Snowflake as OpenMetadata stores it, Trino/Athena); quoted ones and
  other dialects keep their case.
- Column lineage: per output column, the input columns it derives from and the transformation when it is not
  a plain copy. `SELECT *` and INSERTs without a column list whose projections have no names give table
  lineage only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional, Union

# Airflow connection type -> sqlglot dialect. Unknown types parse with sqlglot's generic dialect.
DIALECTS: dict[str, str] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "trino": "trino",
    "presto": "presto",
    "athena": "athena",
    "aws": "athena",
    "mssql": "tsql",
    "oracle": "oracle",
    "google_cloud_platform": "bigquery",
    "bigquery": "bigquery",
    "databricks": "databricks",
    "hiveserver2": "hive",
    "hive_cli": "hive",
    "spark": "spark",
    "duckdb": "duckdb",
    "vertica": "postgres",
    "exasol": "exasol",
}
# Dialects whose unquoted identifiers OpenMetadata stores in lower case.
FOLD_LOWER = frozenset(
    {"postgres", "redshift", "snowflake", "trino", "presto", "athena", "bigquery", "duckdb"}
)

TableName = tuple[str, ...]  # (catalog, db, name), (db, name) or (name,) as written, case folded


@dataclass(frozen=True)
class ColumnEdge:
    to_table: TableName
    to_column: str
    sources: tuple[tuple[TableName, str], ...]  # (table, column) pairs
    function: Optional[str] = None


@dataclass(frozen=True)
class SqlLineage:
    inputs: tuple[TableName, ...] = ()
    outputs: tuple[TableName, ...] = ()
    columns: tuple[ColumnEdge, ...] = ()
    locations: tuple[str, ...] = ()  # storage URIs read (COPY ... FROM 's3://...')
    notes: tuple[str, ...] = ()


def dialect_for(conn_type: Optional[str]) -> Optional[str]:
    return DIALECTS.get((conn_type or "").strip().lower())


@dataclass
class _Temp:
    """What a temporary table was built from: its source tables and, per column, its source columns."""

    inputs: list[TableName] = field(default_factory=list)
    columns: dict[str, list[tuple[TableName, str]]] = field(default_factory=dict)


class _Script:
    def __init__(self, dialect: Optional[str]) -> None:
        self.dialect = dialect
        self.inputs: dict[TableName, None] = {}
        self.outputs: dict[TableName, None] = {}
        self.columns: list[ColumnEdge] = []
        self.locations: dict[str, None] = {}
        self.notes: list[str] = []
        self.temps: dict[TableName, _Temp] = {}
        self.dropped_later: set[TableName] = set()

    # -- names
    def ident(self, node: Any) -> str:
        from sqlglot import exp

        if isinstance(node, exp.Identifier):
            name, quoted = node.name, bool(node.args.get("quoted"))
        else:
            name, quoted = str(node.name if hasattr(node, "name") else node), False
        if not quoted and self.dialect in FOLD_LOWER:
            return name.lower()
        return name

    def table_name(self, table: Any) -> Optional[TableName]:
        from sqlglot import exp

        if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
            return None  # a table function, a stage, a path
        parts = [table.args.get(k) for k in ("catalog", "db", "this")]
        return tuple(self.ident(p) for p in parts if p is not None and p.name)

    def is_temp(self, name: TableName) -> bool:
        return name in self.temps or _short(name) in {_short(t) for t in self.temps}

    def temp_of(self, name: TableName) -> Optional[_Temp]:
        if name in self.temps:
            return self.temps[name]
        for key, temp in self.temps.items():
            if _short(key) == _short(name):
                return temp
        return None

    # -- reads
    def read_tables(self, query: Any) -> list[TableName]:
        """The tables a query reads, CTE names and temporary tables resolved away."""
        from sqlglot import exp

        ctes = {self.ident(c.args["alias"].this) for c in query.find_all(exp.CTE) if c.args.get("alias")}
        found: dict[TableName, None] = {}
        for table in query.find_all(exp.Table):
            name = self.table_name(table)
            if not name or (len(name) == 1 and name[0] in ctes):
                continue
            temp = self.temp_of(name)
            for source in temp.inputs if temp is not None else [name]:
                found.setdefault(source, None)
        return list(found)

    def column_sources(
        self, query: Any, target_columns: Optional[list[str]]
    ) -> list[tuple[str, list[tuple[TableName, str]], Optional[str]]]:
        """Per output column: (name, [(table, column)], transformation)."""
        from sqlglot import exp
        from sqlglot.lineage import lineage

        selects = list(getattr(query, "selects", None) or [])
        if any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star) for s in selects):
            self.notes.append("SELECT * without a schema: table lineage only for that statement")
            return []
        try:
            nodes = lineage(None, query.copy(), schema={}, dialect=self.dialect)  # no schema
        except Exception as exc:  # unsupported construct: keep the table lineage
            self.notes.append(f"column lineage not derived ({type(exc).__name__}: {str(exc)[:120]})")
            return []
        names = list(nodes)
        if target_columns is not None:
            if len(target_columns) != len(names):
                self.notes.append("INSERT column list and SELECT list differ in length: no column lineage")
                return []
            renamed = dict(zip(names, target_columns))
        else:  # the projections' own identifiers, so quoted names keep their case
            idents = [self.output_name(s) for s in selects]
            renamed = dict(zip(names, idents)) if len(idents) == len(names) else {n: n for n in names}
        result = []
        for name, node in nodes.items():
            sources: dict[tuple[TableName, str], None] = {}
            function: Optional[str] = None
            for n in node.walk():
                expression = n.expression.this if isinstance(n.expression, exp.Alias) else n.expression
                if function is None and not isinstance(expression, (exp.Column, exp.Table)):
                    function = _unqualified(expression).sql(dialect=self.dialect)
                if n.downstream or not isinstance(n.source, exp.Table):
                    continue
                table = self.table_name(n.source)
                if not table:
                    continue
                column = self.leaf_column(n.name)
                temp = self.temp_of(table)
                if temp is None:
                    sources.setdefault((table, column), None)
                else:
                    for source in temp.columns.get(column, []):
                        sources.setdefault(source, None)
            if sources and renamed[name]:
                result.append((renamed[name], list(sources), function))
        return result

    def leaf_column(self, name: str) -> str:
        """The column of a lineage leaf's `table.column` name (sqlglot writes it in its generic dialect)."""
        from sqlglot import exp

        try:
            column = exp.to_column(name)
        except Exception:
            column = None
        if isinstance(column, exp.Column) and isinstance(column.this, exp.Identifier):
            return self.ident(column.this)
        return self.ident(exp.to_identifier(name.split(".")[-1].strip('"`')))

    def output_name(self, select: Any) -> str:
        from sqlglot import exp

        node = select.args.get("alias") if isinstance(select, exp.Alias) else select
        if isinstance(node, exp.Column):
            node = node.this
        return self.ident(node) if isinstance(node, exp.Identifier) else select.alias_or_name

    # -- writes
    def write(
        self,
        target: Any,
        query: Any,
        temporary: bool,
        target_columns: Optional[list[str]] = None,
        with_columns: bool = True,
    ) -> None:
        name = self.table_name(target)
        if not name:
            return
        reads = self.read_tables(query) if query is not None else []
        columns = self.column_sources(query, target_columns) if with_columns and reads else []
        if temporary or name in self.dropped_later:
            temp = self.temps.setdefault(name, _Temp())
            temp.inputs += [r for r in reads if r not in temp.inputs]
            for column, sources, _ in columns:
                temp.columns.setdefault(column, []).extend(sources)
            return
        if not reads:
            return  # VALUES, DDL: data did not come from a table
        for read in reads:
            self.inputs.setdefault(read, None)
        self.outputs.setdefault(name, None)
        for column, sources, function in columns:
            self.columns.append(ColumnEdge(name, column, tuple(sources), function))

    def statement(self, stmt: Any) -> None:
        from sqlglot import exp

        if isinstance(stmt, exp.Create):
            kind = str(stmt.args.get("kind") or "").upper()
            if kind not in ("TABLE", "VIEW") or not isinstance(stmt.expression, exp.Query):
                return
            target = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
            props = stmt.args.get("properties")
            temporary = bool(props and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions))
            self.write(target, stmt.expression, temporary)
        elif isinstance(stmt, exp.Insert):
            target, columns = stmt.this, None
            if isinstance(target, exp.Schema):
                columns = [self.ident(c.this if isinstance(c, exp.Column) else c) for c in target.expressions]
                target = target.this
            query = stmt.expression
            if isinstance(query, exp.Query):
                with_ = stmt.args.get("with") or stmt.args.get("with_")
                if with_ is not None and not query.args.get("with"):
                    query = query.copy()
                    query.set("with", with_.copy())
                self.write(target, query, False, columns)
        elif isinstance(stmt, exp.Merge):
            using: Any = stmt.args.get("using")
            source = using if isinstance(using, exp.Query) else exp.select("*").from_(using.copy())
            self.write(stmt.this, source, False, with_columns=False)  # SET lists: not mapped yet
        elif isinstance(stmt, exp.Update):
            sources = [stmt.args.get(k) for k in ("from", "from_")] + list(stmt.find_all(exp.Subquery))
            tables = [t for s in sources if s is not None for t in s.find_all(exp.Table)]
            if tables:
                query = exp.select("*").from_(tables[0].copy())
                for t in tables[1:]:
                    query = query.join(t.copy())
                self.write(stmt.this, query, False, with_columns=False)
        elif isinstance(stmt, exp.Copy):
            if stmt.args.get("kind") is False:  # COPY table TO ...: an unload, not a write to a table
                return
            for f in stmt.args.get("files") or []:
                if isinstance(f, exp.Literal) and "://" in f.name:
                    self.locations.setdefault(f.name, None)
                    self.outputs.setdefault(self.table_name(stmt.this) or (), None)
            self.outputs.pop((), None)
        elif isinstance(stmt, exp.Query):
            into = stmt.args.get("into")
            if isinstance(into, exp.Into):
                temporary = bool(into.args.get("temporary"))
                query = stmt.copy()
                query.set("into", None)
                self.write(into.this, query, temporary)


def _unqualified(expression: Any) -> Any:
    """The transformation without the table qualifiers sqlglot adds (they differ between its versions)."""
    from sqlglot import exp

    def strip(node: Any) -> Any:
        if isinstance(node, exp.Column) and node.args.get("table") is not None:
            return exp.Column(this=node.this.copy())
        return node

    return expression.copy().transform(strip)


def _short(name: TableName) -> TableName:
    return name[-1:]


def _drops(statements: Iterable[Any], script: _Script) -> set[TableName]:
    """Tables the script creates and drops again (staging): treated like temporary tables."""
    from sqlglot import exp

    created: set[TableName] = set()
    dropped: set[TableName] = set()
    for stmt in statements:
        if isinstance(stmt, exp.Create) and str(stmt.args.get("kind") or "").upper() in ("TABLE", "VIEW"):
            target = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
            name = script.table_name(target)
            if name:
                created.add(name)
        elif isinstance(stmt, exp.Drop):  # sqlglot >= 30.2x: `tables`; before: `this`
            for table in stmt.args.get("tables") or [stmt.this]:
                name = script.table_name(table)
                if name and name in created:
                    dropped.add(name)
    return dropped


def parse_sql(sql: Union[str, Sequence[str]], dialect: Optional[str] = None) -> SqlLineage:
    """The lineage of a statement or a script (a string with `;`-separated statements, or a list of them).
    Never raises: a statement sqlglot cannot parse is skipped with a note."""
    import sqlglot
    from sqlglot import exp

    texts = [sql] if isinstance(sql, str) else [s for s in sql if isinstance(s, str)]
    script = _Script(dialect)
    statements: list[Any] = []
    for text in texts:
        try:
            statements += [s for s in sqlglot.parse(text, dialect=dialect) if s is not None]
        except Exception as exc:
            script.notes.append(
                f"SQL not parsed in dialect {dialect or 'generic'}: {str(exc).splitlines()[0][:160]}"
            )
    script.dropped_later = _drops(statements, script)
    for stmt in statements:
        if isinstance(stmt, exp.Command):
            continue  # statements sqlglot keeps as text (GRANT, VACUUM, ...): no lineage
        try:
            script.statement(stmt)
        except Exception as exc:
            script.notes.append(f"statement skipped ({type(exc).__name__}): {stmt.sql(dialect=dialect)[:80]}")
    outputs = tuple(o for o in script.outputs if not script.is_temp(o))
    return SqlLineage(
        inputs=tuple(i for i in script.inputs if not script.is_temp(i)),
        outputs=outputs,
        columns=tuple(c for c in script.columns if c.to_table in outputs),
        locations=tuple(script.locations),
        notes=tuple(dict.fromkeys(script.notes)),
    )


def tables_read(sql: str, dialect: Optional[str] = None) -> tuple[TableName, ...]:
    """The tables a query reads (e.g. an UNLOAD's SELECT), CTEs excluded; () when it does not parse."""
    import sqlglot

    script = _Script(dialect)
    try:
        return tuple(
            t for stmt in sqlglot.parse(sql, dialect=dialect) if stmt for t in script.read_tables(stmt)
        )
    except Exception:
        return ()
