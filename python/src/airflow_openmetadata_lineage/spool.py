"""The spool: reports that could not be delivered, kept on the worker's disk and replayed by a later report.

Layout: `<spool_dir>/spool/<created ns>-<pid>-<random>.json`, one file per report, written to a temp file and
renamed into place (readers never see half a file). Names sort by creation time, so replay is oldest first.
A replaying process claims an entry by renaming it to `<name>.claimed` (rename is atomic: exactly one process
wins) and renames it back when the server still can't take it. Caps (`spool_max_bytes`, `spool_max_age`, and
MAX_ENTRIES) are enforced on every store and replay; the oldest entries go first, with one log line.

Nothing here blocks a task: no sleeping, no waiting for locks (trimming takes a non-blocking lock and is
skipped when another process holds it), and any file problem drops the report with a warning. Entries hold
`TaskReport.to_dict()` (DAG, task and run data, table FQNs): never a token or an option value.
A server's Retry-After is kept in `<spool_dir>/spool/backoff`: until then reports go straight to the spool.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets as _random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from .client import ClientError, TransientError
from .model import TaskReport

if TYPE_CHECKING:
    from .reporter import Reporter

log = logging.getLogger(__name__)

FORMAT = 1
SUFFIX = ".json"
CLAIMED = ".claimed"
MAX_ENTRIES = 10_000  # bounds the directory listing even when entries are tiny
REPLAY_BATCH = 25  # entries one report may replay: a long backlog drains over several tasks, not one burst
MIN_REPLAY_SECONDS = 0.2  # below this much budget left, a replay cannot usefully start
CLAIM_STALE_SECONDS = 300.0  # a claim older than this belongs to a process that died mid-replay
TMP_STALE_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 900.0  # a server's Retry-After is honoured up to this


def retryable(error: Optional[BaseException]) -> bool:
    """Worth keeping: the same report can succeed later (server down, 5xx, 429, timeout, budget, token
    endpoint down), or once credentials are fixed (401/403 after the client's own refresh)."""
    if isinstance(error, TransientError):
        return True
    return isinstance(error, ClientError) and error.status in (401, 403)


@dataclass
class ReplayStats:
    delivered: int = 0
    kept: int = 0  # put back: the server still can't take them
    dropped: int = 0  # rejected by the server or unreadable


class Spool:
    def __init__(self, spool_dir: str, max_bytes: int, max_age: float) -> None:
        self.directory = os.path.join(spool_dir, "spool")
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._warned_io = False

    # -- storing --------------------------------------------------------------------------------------------

    def store(self, report: TaskReport, error: Optional[ClientError] = None) -> bool:
        """Keep `report` for a later replay; remember the server's Retry-After. Never raises."""
        try:
            self._hold_for(getattr(error, "retry_after", None))
            data = json.dumps(
                {"format": FORMAT, "created": time.time(), "report": report.to_dict()},
                separators=(",", ":"),
            ).encode("utf-8")
            if len(data) > self.max_bytes:
                log.warning(
                    "OpenMetadata lineage: spool: report of %s.%s (%d bytes) is larger than spool_max_bytes;"
                    " dropped",
                    report.dag.dag_id,
                    report.task_id,
                    len(data),
                )
                return False
            self._ensure_dir()
            name = f"{time.time_ns():019d}-{os.getpid()}-{_random.token_hex(4)}{SUFFIX}"
            self._write_atomic(os.path.join(self.directory, name), data)
            log.info(
                "OpenMetadata lineage: spool: kept the report of %s.%s for a later replay",
                report.dag.dag_id,
                report.task_id,
            )
            self.trim()
            return True
        except Exception as exc:
            self._io_failed("could not keep an undelivered report", exc)
            return False

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

    def _hold_for(self, seconds: Optional[float]) -> None:
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

    def check_backoff(self) -> None:
        """Raise TransientError while a Retry-After holds, so the report is spooled without a request."""
        left = self.backoff_until() - time.time()
        if left > 0:
            raise TransientError(f"the server asked to wait (Retry-After), {left:.0f}s left")

    # -- listing and caps -----------------------------------------------------------------------------------

    def entries(self) -> list[str]:
        """Paths of waiting entries (not claimed), oldest first."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return [os.path.join(self.directory, n) for n in sorted(n for n in names if n.endswith(SUFFIX))]

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
            claimed = name.endswith(SUFFIX + CLAIMED)
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
        expired, kept = [], []
        for row in rows:
            path, created, _, claimed = row
            if claimed and _claim_age(path, now) > CLAIM_STALE_SECONDS:
                with contextlib.suppress(OSError):
                    os.rename(path, path[: -len(CLAIMED)])  # its replayer died: give it back
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

    # -- replay ---------------------------------------------------------------------------------------------

    def replay(self, reporter: Reporter, deadline: float) -> ReplayStats:
        """Deliver waiting entries, oldest first, within `deadline` (time.monotonic()). Stops at the first
        entry the server can't take yet and keeps it and the rest. Never raises."""
        stats = ReplayStats()
        try:
            if self.backoff_until() > time.time():
                return stats
            if not os.path.isdir(self.directory):
                return stats
            self.trim()
            for path in self.entries()[:REPLAY_BATCH]:
                if deadline - time.monotonic() < MIN_REPLAY_SECONDS:
                    break
                if not self._replay_one(path, reporter, deadline, stats):
                    break
        except Exception as exc:
            self._io_failed("replay stopped", exc)
        if stats.delivered or stats.dropped or stats.kept:
            log.info(
                "OpenMetadata lineage: spool: replayed %d, kept %d, dropped %d; %d waiting",
                stats.delivered,
                stats.kept,
                stats.dropped,
                len(self.entries()),
            )
        return stats

    def _replay_one(self, path: str, reporter: Reporter, deadline: float, stats: ReplayStats) -> bool:
        """Replay one entry; False when replaying should stop."""
        claimed = path + CLAIMED
        try:
            os.rename(path, claimed)  # atomic: if another process got there first, this raises
            os.utime(claimed)  # the claim's age, for CLAIM_STALE_SECONDS
        except FileNotFoundError:
            return True
        report = self._load(claimed)
        if report is None:
            stats.dropped += 1
            return True
        try:
            result = reporter.report(report, deadline, replay=True)
        except Exception as exc:  # a report that breaks the reporter must not block the queue forever
            log.warning(
                "OpenMetadata lineage: spool: dropped an entry that failed with %s", type(exc).__name__
            )
            _unlink(claimed)
            stats.dropped += 1
            return True
        failure = result.failure
        if result.error is None:
            _unlink(claimed)
            stats.delivered += 1
            return True
        if retryable(failure):
            with contextlib.suppress(OSError):
                os.rename(claimed, path)  # back in its place: still oldest first
            self._hold_for(getattr(failure, "retry_after", None))
            stats.kept += 1
            return False
        log.warning(
            "OpenMetadata lineage: spool: the server rejected the replayed report of %s.%s; dropped",
            report.dag.dag_id,
            report.task_id,
        )
        _unlink(claimed)
        stats.dropped += 1
        return True

    def _load(self, path: str) -> Optional[TaskReport]:
        try:
            with open(path, encoding="utf-8") as f:
                data: Any = json.load(f)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("unknown spool format")
            if time.time() - float(data.get("created", 0)) > self.max_age:
                _unlink(path)
                log.warning("OpenMetadata lineage: spool: dropped an entry older than spool_max_age")
                return None
            return TaskReport.from_dict(data["report"])
        except Exception as exc:
            log.warning("OpenMetadata lineage: spool: dropped an unreadable entry (%s)", type(exc).__name__)
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


def _claim_age(path: str, now: float) -> float:
    try:
        return now - os.stat(path).st_mtime
    except OSError:
        return 0.0


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
