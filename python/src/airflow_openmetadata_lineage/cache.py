"""A small key -> JSON value cache with expiry, in memory and in one file shared by a worker's task processes.

Every task process on a worker starts fresh, so the in-memory layer alone would re-send the service and
pipeline on every task. The file (in spool_dir) is read under a shared fcntl lock and rewritten atomically
(temp file + os.replace) under an exclusive one. A process keeps the last file it parsed with the file's
identity (inode, mtime, size): a lookup that misses in memory reads the file again only when another writer
replaced it, so a long-lived process (the delivery thread of `dags test`, the scheduler) pays one stat per
miss, not a lock, a read and a parse of up to MAX_ENTRIES entries. Any file problem degrades to memory only:
caching must never fail a report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

log = logging.getLogger(__name__)

MAX_ENTRIES = 5000  # bounded: oldest-expiring entries are dropped first
FILL_STRIPES = 256  # single-flight lock files per spool_dir (keys hash onto them: the count stays bounded)
FILL_POLL_SECONDS = 0.02


class DiskCache:
    def __init__(self, directory: Optional[str], name: str = "cache.json") -> None:
        self.path = os.path.join(directory, name) if directory else None
        self._memory: dict[str, tuple[float, Any]] = {}  # key -> (expires_at epoch, value)
        self._lock = threading.Lock()
        self._disk_ok = self.path is not None
        self._held: set[int] = set()  # single_flight stripes this process holds
        self._dir_made = False
        self._parsed: Optional[tuple[tuple[int, int, int], dict[str, list[Any]]]] = None  # (identity, data)

    @contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        import fcntl  # POSIX only; MWAA workers are Linux

        assert self.path is not None
        if not self._dir_made:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            self._dir_made = True
        with open(self.path + ".lock", "a+") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    @contextmanager
    def single_flight(self, key: str, deadline: float) -> Iterator[None]:
        """Fill `key` in one task process of the worker at a time: concurrent processes that miss the cache
        wait (polling, at most until `deadline`, a time.monotonic() value) for the first one's answer instead
        of each sending the same request. Past the deadline, or without a usable file, go ahead unlocked."""
        if not self._disk_ok or self.path is None:
            yield
            return
        import fcntl

        stripe = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % FILL_STRIPES
        if stripe in self._held:  # nested fill on the same stripe in this process: already ours
            yield
            return
        lock_file = None
        try:
            directory = os.path.join(os.path.dirname(self.path), "locks")
            os.makedirs(directory, mode=0o700, exist_ok=True)
            lock_file = open(os.path.join(directory, f"{stripe:03d}.lock"), "a+")  # noqa: SIM115
            while True:
                try:
                    fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    self._held.add(stripe)
                    break
                except BlockingIOError:
                    if time.monotonic() + FILL_POLL_SECONDS >= deadline:
                        break  # the budget decides: send it ourselves
                    time.sleep(FILL_POLL_SECONDS)
        except OSError as exc:
            log.debug("OpenMetadata lineage: cache fill lock unusable (%s)", type(exc).__name__)
        try:
            yield
        finally:
            if lock_file is not None:
                if stripe in self._held:
                    self._held.discard(stripe)
                    with contextlib.suppress(OSError):
                        fcntl.flock(lock_file, fcntl.LOCK_UN)
                lock_file.close()

    def _read_file(self) -> dict[str, list[Any]]:
        """The file's entries (a fresh dict: writers change it). Call with the lock held."""
        assert self.path is not None
        try:
            with open(self.path, encoding="utf-8") as f:
                identity = _identity(os.fstat(f.fileno()))
                data = json.load(f)
        except FileNotFoundError:
            return {}
        except ValueError:  # a torn or foreign file: start over
            return {}
        data = data if isinstance(data, dict) else {}
        with self._lock:
            self._parsed = (identity, data)
        return dict(data)

    def _lookup_file(self, key: str) -> Optional[Any]:
        """`key`'s entry in the file, re-read only when the file was replaced since this process parsed it."""
        assert self.path is not None
        try:
            identity = _identity(os.stat(self.path))
        except FileNotFoundError:
            return None
        with self._lock:
            parsed = self._parsed
        if parsed is not None and parsed[0] == identity:
            return parsed[1].get(key)
        with self._locked(exclusive=False):
            return self._read_file().get(key)

    def _write_file(self, data: dict[str, list[Any]]) -> None:
        assert self.path is not None
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(self.path), prefix=".cache-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, separators=(",", ":"))
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _disk_failed(self, exc: Exception) -> None:
        self._disk_ok = False
        log.warning(
            "OpenMetadata lineage: cache file %s unusable (%s); caching in memory only", self.path, exc
        )

    def get(self, key: str) -> Optional[Any]:
        now = time.time()
        with self._lock:
            hit = self._memory.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        if not self._disk_ok:
            return None
        try:
            entry = self._lookup_file(key)
        except Exception as exc:
            self._disk_failed(exc)
            return None
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], (int, float))):
            return None
        if entry[0] <= now:
            return None
        with self._lock:
            self._memory[key] = (entry[0], entry[1])
        return entry[1]

    def set(self, key: str, value: Any, ttl: float) -> None:
        expires = time.time() + ttl
        with self._lock:
            self._memory[key] = (expires, value)
        if not self._disk_ok:
            return
        try:
            with self._locked(exclusive=True):
                data = self._read_file()
                data[key] = [expires, value]
                now = time.time()
                data = {k: v for k, v in data.items() if isinstance(v, list) and v and v[0] > now}
                if len(data) > MAX_ENTRIES:
                    keep = sorted(data, key=lambda k: data[k][0])[-MAX_ENTRIES:]
                    data = {k: data[k] for k in keep}
                self._write_file(data)
        except Exception as exc:
            self._disk_failed(exc)

    def delete(self, key: str) -> None:
        with self._lock:
            self._memory.pop(key, None)
        if not self._disk_ok:
            return
        try:
            with self._locked(exclusive=True):
                data = self._read_file()
                if data.pop(key, None) is not None:
                    self._write_file(data)
        except Exception as exc:
            self._disk_failed(exc)


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    """Which version of the cache file this is: every write replaces it (a new inode) with os.replace."""
    return (st.st_ino, st.st_mtime_ns, st.st_size)
