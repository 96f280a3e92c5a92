"""Inlets and outlets -> table FQNs (docs/architecture.md §2). No Airflow import: objects are read by shape.

Accepted: {"tables": [fqn, ...]}, {"entity": "table", "fqn": fqn}, airflow.lineage.entities.Table,
Dataset/Asset with URI openmetadata://<service>/<database>/<schema>/<table> (segments percent-encoded).
Anything else is logged once per process (per shape) and skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

from .model import quote_name

log = logging.getLogger(__name__)

URI_SCHEME = "openmetadata"

_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(shape: str, message: str) -> None:
    with _warned_lock:
        if shape in _warned:
            return
        _warned.add(shape)
    log.warning(
        "OpenMetadata lineage: %s; skipped (docs/architecture.md §2 lists the accepted forms)", message
    )


def _shape(xlet: Any) -> str:
    if isinstance(xlet, dict):
        return "dict with keys " + ",".join(sorted(str(k) for k in xlet))
    return f"{type(xlet).__module__}.{type(xlet).__qualname__}"


def fqn_from_uri(uri: str) -> Optional[str]:
    """openmetadata://service/database/schema/table -> service.database.schema.table (names with '.'
    quoted)."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != URI_SCHEME:
        return None
    segments = (
        [parts.netloc, *parts.path.strip("/").split("/")]
        if parts.netloc
        else parts.path.strip("/").split("/")
    )
    names = [unquote(s) for s in segments]
    if len(names) != 4 or not all(names):
        return None
    return ".".join(quote_name(n) for n in names)


def _fqn_text(value: Any) -> Optional[str]:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _from_dict(xlet: dict[str, Any]) -> Optional[list[str]]:
    if "tables" in xlet:
        tables = xlet["tables"]
        if isinstance(tables, str):
            tables = [tables]
        if isinstance(tables, (list, tuple)):
            fqns = [_fqn_text(t) for t in tables]
            found = [f for f in fqns if f]
            if len(found) == len(fqns):
                return found
        return None
    if str(xlet.get("entity", "")).lower() == "table":
        fqn = _fqn_text(xlet.get("fqn"))
        return [fqn] if fqn else None
    return None


def _from_table_entity(xlet: Any) -> Optional[list[str]]:
    """airflow.lineage.entities.Table(cluster=service, database=db, name=schema.table)."""
    cluster, database, name = (getattr(xlet, a, None) for a in ("cluster", "database", "name"))
    if not (isinstance(name, str) and isinstance(database, str) and isinstance(cluster, str)):
        return None
    if not (name and database and cluster):
        return None
    fqn = f"{cluster}.{database}.{name}"
    return [fqn] if len(fqn.split(".")) >= 4 else None


def to_fqns(xlet: Any) -> list[str]:
    """The table FQNs one inlet/outlet names; [] (and a one-time warning) for anything else."""
    fqns: Optional[list[str]] = None
    try:
        if isinstance(xlet, dict):
            fqns = _from_dict(xlet)
        elif type(xlet).__name__ == "Table" and hasattr(xlet, "cluster"):
            fqns = _from_table_entity(xlet)
        elif isinstance(getattr(xlet, "uri", None), str):
            fqn = fqn_from_uri(xlet.uri)
            if fqn is None:
                _warn_once(
                    f"uri:{urlsplit(xlet.uri).scheme}", f"a Dataset/Asset URI is not {URI_SCHEME}://s/d/s/t"
                )
                return []
            fqns = [fqn]
    except Exception:  # a foreign object with odd attributes must not break the report
        fqns = None
    if fqns is None:
        _warn_once(_shape(xlet), f"an inlet/outlet of type {_shape(xlet)} is not a table reference")
        return []
    return fqns


# Airflow >= 3.1 calls list() on a bare dict given as inlets/outlets: {"tables": [...]} arrives as ["tables"].
_DICT_FORM_KEYS = {"tables", "entity", "fqn"}


def _lost_dict_keys(xlets: list[Any]) -> list[str]:
    return [x for x in xlets if isinstance(x, str) and x in _DICT_FORM_KEYS]


def collect(xlets: Optional[Iterable[Any]], task: Optional[str] = None, kind: str = "inlets") -> list[str]:
    """All table FQNs of a task's inlets or outlets, de-duplicated, order kept. `task` (dag.task) names the
    task in the warning about a bare dict that Airflow >= 3.1 reduced to its keys."""
    if xlets is None:
        return []
    if isinstance(xlets, (dict, str)) or not isinstance(xlets, Iterable):
        xlets = [xlets]
    xlets = list(xlets)
    lost = _lost_dict_keys(xlets)
    if lost:
        _warn_dict_form(task or "?", kind, lost)
        xlets = [x for x in xlets if not (isinstance(x, str) and x in _DICT_FORM_KEYS)]
    seen: dict[str, None] = {}
    for xlet in xlets:
        for fqn in to_fqns(xlet):
            seen.setdefault(fqn, None)
    return list(seen)


def _warn_dict_form(task: str, kind: str, keys: list[str]) -> None:
    with _warned_lock:
        if f"dict-form:{task}" in _warned:
            return
        _warned.add(f"dict-form:{task}")
    log.warning(
        "OpenMetadata lineage: task %s: %s=%s is what Airflow >= 3.1 leaves of a bare dict (only its keys), "
        'so its tables are lost. Wrap the dict in a list: %s=[{"tables": [...]}] works on every Airflow.',
        task,
        kind,
        keys,
        kind,
    )


def reset_warnings() -> None:
    with _warned_lock:
        _warned.clear()
