"""The spool: the worker's write-ahead log of reports, one small file per report, delivered oldest first.

Every report is written here first (`Spool.store`, one atomic file) and delivered from here (`Spool.drain`
with a send callable), so a process killed after the hand-off loses nothing: the next drain on the worker
delivers it. The spool knows files, order, claims and caps; what "delivered" means is the send callable's.

Layout: `<spool_dir>/spool/<deployment>/<created ns>-<pid>-<random>-<run tag>.json`. `<deployment>` is a
short hash of the OpenMetadata endpoint and the pipeline service, so deployments sharing a host (or a
`spool_dir`) never deliver each other's records; `<run tag>` names the DAG run (model.run_tag), so a drain
finds a run's newer records by name (`Record.newer`, from the drain's own listing: the delivery layer skips
a status a newer one makes redundant). A record is written to a temp file and renamed into place (readers
never see half a file); names sort by creation time, so a drain is oldest first. A drainer claims a record
by renaming it to `<name>.claimed-<pid>` (rename is atomic: exactly one process wins); a record kept for
later is rewritten in its place. A claim whose process is gone (killed mid-delivery), or older than
CLAIM_STALE_SECONDS, is given back. Caps (`spool_max_bytes`, `spool_max_age`, MAX_ENTRIES) are enforced on
every drain (each hand-off starts one, in the delivery thread), a Retry-After hold included, and on one
hand-off in STORE_TRIM_ONE_IN: a trim reads every record's size, and a backlog is largest exactly when the
server is down, so the task's path rarely pays for it. The oldest records go first, with one log line.

Nothing here blocks: no sleeping, no waiting for locks (trimming takes a non-blocking lock and is skipped
when another process holds it), and any file problem drops the report with a warning. Records hold
`TaskReport.to_dict()` (DAG, task and run data, table FQNs) and a delivery count: never a token or an option
value. A server's Retry-After is kept in `backoff`: until then a drain sends nothing.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import secrets as _random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .model import TaskReport, run_tag

log = logging.getLogger(__name__)

FORMAT = 1
SUFFIX = ".json"
CLAIMED = ".claimed-"
MAX_ENTRIES = 10_000  # bounds the directory listing even when entries are tiny
DRAIN_BATCH = 25  # records one drain takes: a long backlog goes in several passes, not one burst
CLAIM_STALE_SECONDS = 300.0  # a claim older than this belongs to a process that hung mid-delivery
TMP_STALE_SECONDS = 60.0
# A hand-off trims one time in this many (at random), so the caps hold within that many records even on a
# worker whose processes all die before their delivery thread drains; other hand-offs never stat the spool.
STORE_TRIM_ONE_IN = 64
MAX_BACKOFF_SECONDS = 900.0  # a server's Retry-After is honoured up to this


class Outcome(enum.Enum):
    """What a send callable did with one record."""

    DELIVERED = "delivered"  # remove it
    KEEP = "keep"  # the server can't take it yet: keep it in place and stop this drain
    DROP = "drop"  # the server refused it for good: remove it, go on


@dataclass(frozen=True)
class Record:
    path: str
    report: TaskReport
    deliveries: int  # earlier attempts that ended in KEEP (0: fresh from a hand-off)
    created: float = 0.0  # epoch seconds of the hand-off
    newer: Optional[str] = None  # the newest record of the same DAG run waiting behind this one, if any


@dataclass
class DrainStats:
    delivered: int = 0
    kept: int = 0  # put back: the server still can't take them
    dropped: int = 0  # rejected by the server or unreadable


# A send callable: deliver one record; the Retry-After it met (seconds) comes back with KEEP.
Send = Callable[[Record], "tuple[Outcome, Optional[float]]"]


class Spool:
    def __init__(self, spool_dir: str, max_bytes: int, max_age: float, deployment: str = "") -> None:
        base = os.path.join(spool_dir, "spool")
        self.directory = os.path.join(base, deployment) if deployment else base
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.store_trim_one_in = STORE_TRIM_ONE_IN  # 0: a store never trims (tests that count records)
        self._warned_io = False

    # -- storing --------------------------------------------------------------------------------------------

    def store(self, report: TaskReport, deliveries: int = 0) -> Optional[str]:
        """Write `report` as a new record; its path, or None when it could not be kept. Never raises."""
        try:
            data = self._encode(report, deliveries, time.time())
            if len(data) > self.max_bytes:
                log.warning(
                    "OpenMetadata lineage: spool: report of %s.%s (%d bytes) is larger than spool_max_bytes;"
                    " dropped",
                    report.dag.dag_id,
                    report.task_id,
                    len(data),
                )
                return None
            self._ensure_dir()
            tag = run_tag(report.dag.dag_id, report.run.run_id)
            name = f"{time.time_ns():019d}-{os.getpid()}-{_random.token_hex(4)}-{tag}{SUFFIX}"
            path = os.path.join(self.directory, name)
            self._write_atomic(path, data)
            if self.store_trim_one_in and _random.randbelow(self.store_trim_one_in) == 0:
                self.trim()
            return path
        except Exception as exc:
            self._io_failed("could not keep a report", exc)
            return None

    @staticmethod
    def _encode(report: TaskReport, deliveries: int, created: float) -> bytes:
        record = {"format": FORMAT, "created": created, "deliveries": deliveries, "report": report.to_dict()}
        return json.dumps(record, separators=(",", ":")).encode("utf-8")

    def _ensure_dir(self) -> None:
        os.makedirs(self.directory, mode=0o700, exist_ok=True)

    def _write_atomic(self, path: str, data: bytes) -> None:
        tmp = os.path.join(self.directory, f".tmp-{os.getpid()}-{_random.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # -- Retry-After ----------------------------------------------------------------------------------------

    def _backoff_path(self) -> str:
        return os.path.join(self.directory, "backoff")

    def hold_for(self, seconds: Optional[float]) -> None:
        """Remember a server's Retry-After (capped at MAX_BACKOFF_SECONDS)."""
        if not seconds or seconds <= 0:
            return
        until = time.time() + min(float(seconds), MAX_BACKOFF_SECONDS)
        if until <= self.backoff_until():
            return
        self._ensure_dir()
        self._write_atomic(self._backoff_path(), f"{until:.3f}".encode())

    def backoff_until(self) -> float:
        """Epoch seconds before which the server asked not to be called (0 when it did not)."""
        try:
            with open(self._backoff_path(), encoding="ascii") as f:
                return float(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0.0

    # -- listing and caps -----------------------------------------------------------------------------------

    def entries(self) -> list[str]:
        """Paths of waiting entries (not claimed), oldest first."""
        try:
            names = os.listdir(self.directory)
        except OSError:  # none yet, or the spool_dir is unusable
            return []
        return [os.path.join(self.directory, n) for n in sorted(n for n in names if n.endswith(SUFFIX))]

    def peek(self, path: str) -> Optional[tuple[TaskReport, int, float]]:
        """(report, deliveries, created) of a waiting record, read without claiming it (None: gone meanwhile,
        or unreadable; a drain deals with it when its turn comes)."""
        try:
            return _read(path)
        except Exception:
            return None

    def size(self) -> tuple[int, int]:
        """(entries, bytes) currently spooled, claimed ones included."""
        count = total = 0
        for _, _, nbytes, _ in self._scan():
            count, total = count + 1, total + nbytes
        return count, total

    def _scan(self) -> list[tuple[str, float, int, bool]]:
        """(path, created epoch, bytes, claimed) of every entry, oldest first; stale temp files removed."""
        try:
            names = sorted(os.listdir(self.directory))
        except FileNotFoundError:
            return []
        rows = []
        now = time.time()
        for name in names:
            path = os.path.join(self.directory, name)
            claimed = SUFFIX + CLAIMED in name
            if not (claimed or name.endswith(SUFFIX)):
                if name.startswith(".tmp-"):
                    with contextlib.suppress(OSError):
                        if now - os.stat(path).st_mtime > TMP_STALE_SECONDS:
                            os.unlink(path)
                continue
            try:
                st = os.stat(path)
            except FileNotFoundError:
                continue
            rows.append((path, _created(name, st.st_mtime), st.st_size, claimed))
        return rows

    @contextmanager
    def _trim_lock(self) -> Iterator[bool]:
        import fcntl  # POSIX only; MWAA workers are Linux

        with open(os.path.join(self.directory, ".trim.lock"), "a+") as lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False  # another process is trimming: never wait for it
                return
            try:
                yield True
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def trim(self) -> int:
        """Enforce the caps: drop entries older than max_age, then the oldest beyond max_bytes / MAX_ENTRIES;
        give stale claims back. Returns how many entries were dropped."""
        try:
            self._ensure_dir()
            with self._trim_lock() as mine:
                if not mine:
                    return 0
                return self._trim_locked()
        except Exception as exc:
            self._io_failed("could not trim the spool", exc)
            return 0

    def _trim_locked(self) -> int:
        now = time.time()
        rows = self._scan()
        expired: list[tuple[str, float, int, bool]] = []
        kept: list[tuple[str, float, int, bool]] = []
        for row in rows:
            path, created, _, claimed = row
            if claimed and _claim_is_stale(path, now):
                with contextlib.suppress(OSError):
                    os.rename(path, _unclaimed(path))  # its drainer died or hung: give it back
            (expired if now - created > self.max_age else kept).append(row)
        full = []
        total = sum(r[2] for r in kept)
        while kept and (total > self.max_bytes or len(kept) > MAX_ENTRIES):
            row = kept.pop(0)
            total -= row[2]
            full.append(row)
        for path, *_ in expired + full:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        if expired:
            log.warning(
                "OpenMetadata lineage: spool: dropped %d undelivered report(s) older than spool_max_age "
                "(%gs)",
                len(expired),
                self.max_age,
            )
        if full:
            log.warning(
                "OpenMetadata lineage: spool: full (spool_max_bytes %d); dropped the %d oldest undelivered "
                "report(s)",
                self.max_bytes,
                len(full),
            )
        return len(expired) + len(full)

    # -- draining -------------------------------------------------------------------------------------------

    def drain(
        self, send: Send, deadline: Optional[float] = None, limit: int = DRAIN_BATCH, trim: bool = True
    ) -> DrainStats:
        """Deliver waiting records through `send`, oldest first, up to `limit` and until `deadline`
        (time.monotonic()). Stops at the first record the server can't take yet and keeps it and the rest.
        Sends nothing while a Retry-After holds. Never raises. `trim=False`: the caller trimmed already (one
        pass of a longer drain)."""
        stats = DrainStats()
        try:
            if not os.path.isdir(self.directory):
                return stats
            if trim:
                self.trim()
            if self.backoff_until() > time.time():
                return stats
            waiting = self.entries()
            for path in waiting[:limit]:
                if deadline is not None and time.monotonic() >= deadline:
                    break
                if not self._deliver_one(path, send, stats, _newest_of_run(path, waiting)):
                    break
        except Exception as exc:
            self._io_failed("drain stopped", exc)
        if stats.kept or stats.dropped:
            log.info(
                "OpenMetadata lineage: spool: delivered %d, kept %d, dropped %d; %d waiting",
                stats.delivered,
                stats.kept,
                stats.dropped,
                len(self.entries()),
            )
        return stats

    def _deliver_one(self, path: str, send: Send, stats: DrainStats, newer: Optional[str] = None) -> bool:
        """Deliver one record (`newer`: its run's newest waiting record); False when the drain should stop."""
        claimed = f"{path}{CLAIMED}{os.getpid()}"
        try:
            os.rename(path, claimed)  # atomic: if another process got there first, this raises
            os.utime(claimed)  # the claim's age, for CLAIM_STALE_SECONDS
        except FileNotFoundError:
            return True
        loaded = self._load(claimed)
        if loaded is None:
            stats.dropped += 1
            return True
        report, deliveries, created = loaded
        try:
            outcome, retry_after = send(Record(path, report, deliveries, created, newer))
        except Exception as exc:  # a record that breaks delivery must not block the queue forever
            log.warning(
                "OpenMetadata lineage: spool: dropped a record that failed with %s", type(exc).__name__
            )
            _unlink(claimed)
            stats.dropped += 1
            return True
        if outcome is Outcome.DELIVERED:
            _unlink(claimed)
            stats.delivered += 1
            return True
        if outcome is Outcome.KEEP:
            self._put_back(claimed, path, report, deliveries + 1, created)
            self.hold_for(retry_after)
            stats.kept += 1
            return False
        where = f"{report.dag.dag_id}.{report.task_id}" if report.task_id else f"{report.dag.dag_id} (run)"
        log.warning("OpenMetadata lineage: spool: the server rejected the report of %s; dropped", where)
        _unlink(claimed)
        stats.dropped += 1
        return True

    def _put_back(self, claimed: str, path: str, report: TaskReport, deliveries: int, created: float) -> None:
        """Back in its place (still oldest first), counting the attempt."""
        try:
            self._write_atomic(path, self._encode(report, deliveries, created))
            _unlink(claimed)
        except Exception as exc:
            with contextlib.suppress(OSError):
                os.rename(claimed, path)
            self._io_failed("could not put a record back", exc)

    def _load(self, path: str) -> Optional[tuple[TaskReport, int, float]]:
        try:
            report, deliveries, created = _read(path)
            if time.time() - created > self.max_age:
                _unlink(path)
                log.warning("OpenMetadata lineage: spool: dropped a record older than spool_max_age")
                return None
            return report, deliveries, created
        except Exception as exc:
            log.warning("OpenMetadata lineage: spool: dropped an unreadable record (%s)", type(exc).__name__)
            _unlink(path)
            return None

    def _io_failed(self, what: str, exc: Exception) -> None:
        # Once per process at WARNING: a full or read-only disk would otherwise log on every task.
        level = logging.DEBUG if self._warned_io else logging.WARNING
        self._warned_io = True
        log.log(level, "OpenMetadata lineage: spool %s: %s (%s)", self.directory, what, type(exc).__name__)


def _created(name: str, fallback: float) -> float:
    try:
        return int(name.split("-", 1)[0]) / 1e9
    except ValueError:
        return fallback


def _read(path: str) -> tuple[TaskReport, int, float]:
    """(report, deliveries, created) of the record at `path`; raises when it is unreadable."""
    with open(path, encoding="utf-8") as f:
        data: Any = json.load(f)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("unknown spool format")
    return (
        TaskReport.from_dict(data["report"]),
        int(data.get("deliveries") or 0),
        float(data.get("created", 0)),
    )


def _newest_of_run(path: str, waiting: list[str]) -> Optional[str]:
    """The newest of `waiting` (a listing, oldest first) that is of the same DAG run as `path` and newer than
    it; from the names alone (records written before run tags existed have none)."""
    name = os.path.basename(path)
    tag = _run_tag_of(name)
    if tag is None:
        return None
    for other in reversed(waiting):  # newest first
        other_name = os.path.basename(other)
        if other_name <= name:
            return None
        if _run_tag_of(other_name) == tag:
            return other
    return None


def _run_tag_of(name: str) -> Optional[str]:
    """`<created ns>-<pid>-<random>-<run tag>.json` -> the run tag (None for a name without one)."""
    parts = name[: -len(SUFFIX)].split("-") if name.endswith(SUFFIX) else []
    return parts[3] if len(parts) == 4 else None


def _unclaimed(path: str) -> str:
    return path[: path.index(SUFFIX + CLAIMED) + len(SUFFIX)]


def _claim_is_stale(path: str, now: float) -> bool:
    """The claiming process is gone, or has held the claim for longer than CLAIM_STALE_SECONDS."""
    try:
        if now - os.stat(path).st_mtime > CLAIM_STALE_SECONDS:
            return True
    except OSError:
        return False
    pid_text = path.rsplit(CLAIMED, 1)[-1]
    if not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists (e.g. another user's process)
        return False
    return False


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
