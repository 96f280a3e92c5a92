"""Datasets found automatically (SQL, OpenLineage) -> OpenMetadata FQNs, through `[lineage] service_map`.

`service_map` is one JSON object on one line: each key is an Airflow connection id or an OpenLineage namespace
(`postgres://host:5432`, `awsathena://athena.eu-west-1.amazonaws.com`, `s3://bucket`); each value is the
OpenMetadata service, optionally followed by the default database and schema that complete partial names:
`{"warehouse_pg": "pg_prod", "local_sqlite": "lake.main.main"}`. Rules (docs/automatic-lineage.md):

- A connection id matches exactly and wins; otherwise the longest namespace key that is a prefix of the
  dataset's namespace at a boundary (`postgres://db1` matches `postgres://db1:5432`, not `postgres://db10`).
- A name with 3 parts is database.schema.table; with 2, schema.table completed by the default database; with
  1, the table completed by both defaults. Defaults come from the map value first, then from what the
  connection or operator says (a Postgres connection's database, Athena's catalog and database). Nothing
  is guessed: an unmapped namespace or a name that cannot be completed is reported with what to add.
- S3 locations map to containers (`<storage service>.<bucket>`) only when a key names their bucket or s3://.

Pure: no Airflow import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from .model import quote_name

KEY = "service_map"


@dataclass(frozen=True)
class ServiceTarget:
    service: str
    database: Optional[str] = None
    schema: Optional[str] = None


ServiceMap = dict[str, ServiceTarget]


def split_fqn(text: str) -> list[str]:
    """`a."b.c".d` -> ["a", "b.c", "d"] (OpenMetadata quotes a name part that holds a dot)."""
    parts: list[str] = []
    current, quoted = "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def parse_service_map(text: Optional[str]) -> ServiceMap:
    """The option's value -> {key: ServiceTarget}; ValueError with a message that says what to write."""
    example = '{"warehouse_pg": "pg_prod", "postgres://db.internal:5432": "pg_prod.analytics.public"}'
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{KEY} is not valid JSON ({exc.msg} at character {exc.pos}); e.g. {example}"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(
            f"{KEY} must be a JSON object of connection id or namespace -> service; e.g. {example}"
        )
    result: ServiceMap = {}
    for key, value in data.items():
        if not key.strip():
            raise ValueError(f"{KEY} has an empty key; keys are connection ids or namespaces")
        parts = split_fqn(value) if isinstance(value, str) else []
        if not (1 <= len(parts) <= 3) or not all(p.strip() for p in parts):
            raise ValueError(
                f"{KEY}[{key!r}] must be 'service', 'service.database' or 'service.database.schema'; "
                f"got {json.dumps(value)[:80]}"
            )
        result[key.strip()] = ServiceTarget(*[p.strip() for p in parts])
    return result


def _prefix_match(key: str, namespace: str) -> bool:
    if not namespace.startswith(key):
        return False
    rest = namespace[len(key) :]
    return not rest or key.endswith(("/", ":")) or rest[0] in "/:"


def lookup(
    service_map: ServiceMap, conn_id: Optional[str] = None, namespace: Optional[str] = None
) -> Optional[tuple[str, ServiceTarget]]:
    """(matching key, target) for a dataset read through `conn_id` / living in `namespace`, or None."""
    if conn_id and conn_id in service_map:
        return conn_id, service_map[conn_id]
    if namespace:
        keys = [k for k in service_map if "://" in k and _prefix_match(k, namespace)]
        if keys:
            best = max(keys, key=len)
            return best, service_map[best]
    return None


@dataclass(frozen=True)
class Defaults:
    """What the connection or operator says about partial names (used after the map value's own)."""

    database: Optional[str] = None
    schema: Optional[str] = None


def table_fqn(
    target: ServiceTarget, parts: tuple[str, ...], defaults: Optional[Defaults] = None
) -> tuple[Optional[str], Optional[str]]:
    """(FQN, None) or (None, what is missing); parts: (table,), (schema, table), (database, schema, table)."""
    defaults = defaults or Defaults()
    database = target.database or defaults.database
    schema = target.schema or defaults.schema
    if len(parts) >= 3:
        full = parts[-3:]
    elif len(parts) == 2:
        if not database:
            return None, "a default database (write the value as service.database)"
        full = (database, *parts)
    elif len(parts) == 1:
        if not (database and schema):
            return None, "a default database and schema (write the value as service.database.schema)"
        full = (database, schema, parts[0])
    else:
        return None, "a table name"
    return ".".join(quote_name(p) for p in (target.service, *full)), None


def container_fqn(service_map: ServiceMap, uri: str) -> tuple[Optional[str], Optional[str]]:
    """s3://bucket/key -> (storage service.bucket, key used) when mapped, else (None, None)."""
    scheme, _, rest = uri.partition("://")
    bucket = rest.split("/", 1)[0]
    if not bucket:
        return None, None
    found = lookup(service_map, namespace=f"{scheme}://{bucket}")
    if found is None:
        return None, None
    key, target = found
    return f"{quote_name(target.service)}.{quote_name(bucket)}", key
