"""The hand-off: a task gives its report to the spool and goes on; a background thread delivers it.

The only path between the adapters (backend, listener) and the server:

    hand_off(report)  ->  one atomic spool record (write-ahead)  ->  return         (the task's path)
    delivery thread   ->  spool.drain(send)  ->  Reporter.report  ->  OpenMetadata   (off the task's path)
    settle(deadline)  ->  wait for this process's records, bounded by the time budget

A hand-off made before Airflow commits the task's state (Airflow 2's lineage backend, in post_execute) asks
for a hold: the thread takes no record until the adapter says the state is committed (`release`, from the
success listener) or one time budget passed, so the task's path up to the commit never shares the process
(and its GIL) with a delivery.

After that the thread waits for a pause in the hand-offs (QUIET_SECONDS without a new one), at most
MAX_DEFER_SECONDS: a process that runs tasks one after another (`airflow dags test`, a scheduler finishing
runs) would otherwise deliver in the middle of its next tasks, taking the GIL from them, and send one status
per task where the run's newest record carries them all. Nothing waits longer for it: a process that is
about to go (`settle`, the exit) and a failure (`release(now=True)`) end the pause at once, and every record
is durable in the spool meanwhile.

Where to wait (`settle`) is the adapters' choice: only where Airflow has committed the task's state already
(Airflow 2: the success listener, after the task instance is saved; Airflow 3: the success and retry
listeners, after the task runner sent SucceedTask / RetryTask). A process that exits normally waits at exit
for its records, within the time budget. A process that is killed, or leaves through `os._exit` (Airflow 2's
forked task runner) before its records are delivered, leaves them in the spool: the next drain on the worker
delivers them, oldest first. Duplicates are harmless (a status PUT replaces the record at its timestamp; edges
merge), and a replayed older try never overwrites a newer status (the reporter's `replay` rules).

Also here: the "already reported" marks (on Airflow 2 the backend and the listener report once per try
between them) and which failures are worth keeping (retryable).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import replace
from typing import Any, Callable, Optional, Protocol

from .client import ClientError, TransientError
from .model import TaskReport, supersedes
from .spool import Outcome, Record, Spool

log = logging.getLogger(__name__)

# The delivery thread starts once hand-offs pause this long (a chain of tasks in one process hands off every
# few tens of ms), and delivers anyway once the first record waited MAX_DEFER_SECONDS, or half the time
# budget if that is shorter: a deferred record must still be fresh (younger than one budget) when it goes.
QUIET_SECONDS = 0.5
MAX_DEFER_SECONDS = 2.0

# Report one record: (report, deadline, replay, status) -> a result with `.error` / `.failure`
# (Reporter.report; status=False: a newer record of the run carries this one's status, send the rest only).
Deliver = Callable[[TaskReport, float, bool, bool], "DeliveryResult"]


class DeliveryResult(Protocol):
    error: Optional[str]
    failure: Optional[ClientError]


class ReportMarks(Protocol):
    def claim(self, key: str) -> bool:
        """True the first time `key` is claimed (go ahead and report), False afterwards."""
        ...

    def seen(self, key: str) -> bool:
        """Whether `key` was claimed already (a cheap look before building a report)."""
        ...


class MemoryMarks:
    """Claims remembered by this process only (the backend and the listener share the process)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True

    def seen(self, key: str) -> bool:
        with self._lock:
            return key in self._seen


def try_key(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int, state: str) -> str:
    """The "already reported" mark of one outcome of a task instance try. The backend and the success hook
    share "success"; a failure after the backend's hand-off (the commit failed, a success callback raised)
    is a report of its own, delivered after the success record and so overwriting it."""
    return f"{dag_id}|{run_id}|{task_id}|{map_index}|{try_number}|{state}"


def mark_key(report: TaskReport) -> str:
    r = report
    state = next(
        (tr.state for tr in r.run.task_runs if (tr.task_id, tr.map_index) == (r.task_id, r.map_index)), None
    )
    return try_key(r.dag.dag_id, r.run.run_id, r.task_id, r.map_index, r.try_number, state or "")


def retryable(error: Optional[BaseException]) -> bool:
    """Worth keeping: the same report can succeed later (server down, 5xx, 429, timeout, budget, token
    endpoint down), or once credentials are fixed (401/403 after the client's own refresh)."""
    if isinstance(error, TransientError):
        return True
    return isinstance(error, ClientError) and error.status in (401, 403)


class Delivery:
    """One per process (runtime.py). Thread-safe; never raises out of its public methods."""

    def __init__(
        self,
        spool: Spool,
        deliver: Deliver,
        time_budget: float,
        marks: Optional[ReportMarks] = None,
        background: bool = True,
        quiet: float = QUIET_SECONDS,
    ) -> None:
        self.spool = spool
        self.deliver = deliver
        self.time_budget = time_budget
        self.marks: ReportMarks = marks if marks is not None else MemoryMarks()
        self.background = (
            background  # False: hand_off delivers in the caller's thread (the self-check, tests)
        )
        self.reporter: Optional[Any] = (
            None  # set by runtime.py (a LazyReporter): the adapters read its config
        )
        self.quiet = quiet  # 0: deliver as soon as a hold ends (tests that watch the thread)
        self.max_defer = min(MAX_DEFER_SECONDS, time_budget / 2)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._thread: Optional[threading.Thread] = None
        self._more = False  # a hand-off arrived while the thread was draining
        self._in_flight: Optional[str] = None
        self._stop_after_own = False  # set by settle(): the process is about to go, take no one else's record
        self._hold_until = 0.0  # time.monotonic() until which the thread takes no record (hold=True)
        self._last_hand_off = 0.0  # time.monotonic() of the newest hand-off: the thread waits for a pause
        self._deferred_since: Optional[float] = None  # when the thread began waiting for that pause
        self._due_now = False  # settle() or release(now=True): no pause to wait for
        self._unkept: list[tuple[str, TaskReport]] = []  # reports the spool could not keep, sent from memory
        self._own: dict[str, bool] = {}  # records this process handed off, not yet settled -> wait at exit?
        # the newest record of a run, read by _superseded (each of the run's older records asks about it):
        # (path, report, whether it would go fresh)
        self._peeked: Optional[tuple[str, TaskReport, bool]] = None
        self._carriers: set[str] = set()  # records older ones left their status to: they must go fresh
        atexit.register(self._at_exit)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)

    # -- the task's path -----------------------------------------------------------------------------------

    def hand_off(
        self, report: TaskReport, claim: bool = True, wait_at_exit: bool = True, hold: bool = False
    ) -> bool:
        """Keep `report` durably and start delivering it in the background. False when nothing was kept
        (a duplicate try, or the spool could not write). `claim=False`: no duplicate check (a run's final
        record may be written again). `wait_at_exit=False`: the process's exit does not wait for it (the
        report is kept for the next drain), for hooks that run before Airflow commits the state.
        `hold=True`: the caller is on the task's path before Airflow's commit; the thread starts sending
        once `release()` (or `settle()`) is called, or after one time budget."""
        started = time.monotonic()
        try:
            if claim and not self.marks.claim(mark_key(report)):
                log.debug("OpenMetadata lineage: %s.%s already reported", report.dag.dag_id, report.task_id)
                return False
            path = self.spool.store(report)
            with self._lock:
                self._stop_after_own = False
                self._last_hand_off = time.monotonic()
                if hold:
                    self._hold_until = max(self._hold_until, started + self.time_budget)
                if path is None:  # the spool can't keep it (disk full, read-only, too big): send it anyway
                    path = f"memory:{id(report)}:{time.monotonic_ns()}"
                    self._unkept.append((path, report))
                self._own[path] = wait_at_exit
            where = (
                f"{report.dag.dag_id}.{report.task_id}" if report.task_id else f"{report.dag.dag_id} (run)"
            )
            log.info(
                "OpenMetadata lineage: %s handed off (%.1f ms)", where, (time.monotonic() - started) * 1000
            )
            if self.background:
                self._start()
            else:
                self.drain(time.monotonic() + self.time_budget)
            return True
        except Exception as exc:  # never fail a task
            log.warning("OpenMetadata lineage: hand-off failed (%s)", type(exc).__name__)
            return False

    def release(self, now: bool = False) -> None:
        """Airflow has committed the task's state: the thread may send (ends a `hand_off(hold=True)`) once
        the hand-offs pause. `now=True`: without waiting for the pause (a failure: there is no later moment,
        and it is news worth having at once)."""
        with self._lock:
            self._hold_until = 0.0
            self._due_now = self._due_now or now
            self._changed.notify_all()

    def settle(self, deadline: Optional[float] = None) -> bool:
        """Wait until this process's records are delivered (or kept for later), at most until `deadline`
        (time.monotonic(); default: one time budget). True when nothing of ours is in flight any more.
        Ends a hold: whoever waits for the delivery wants it to run."""
        deadline = deadline if deadline is not None else time.monotonic() + self.time_budget
        with self._lock:
            self._hold_until = 0.0
            self._due_now = True
            self._changed.notify_all()
            # Ours are the newest records, delivered after the older ones; once they are done the thread takes
            # no other process's record, so the process never leaves one half sent.
            self._stop_after_own = True
            while (self._own or self._in_flight is not None) and self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return not self._own

    def pending(self) -> int:
        """Records this process handed off that are not settled yet."""
        with self._lock:
            return len(self._own)

    # -- delivery ------------------------------------------------------------------------------------------

    def drain(self, deadline: Optional[float] = None) -> int:
        """Deliver what the spool holds (this deployment's records, oldest first) in the caller's thread.
        Returns how many were delivered."""
        return self._drain(deadline, background=False)

    def _drain(self, deadline: Optional[float], background: bool) -> int:
        delivered, first = 0, True
        while deadline is None or time.monotonic() < deadline:
            with self._lock:
                if background:
                    self._wait_until_due()
                if background and self._stop_after_own and not self._own:
                    break  # the process is about to go: what is left is the next drain's
            # One record per pass: whoever settles on it learns its fate once the spool has finished with it.
            # The caps are enforced once per drain, not once per record (a trim reads every record's size).
            stats = self.spool.drain(self._send, deadline, limit=1, trim=first)
            first = False
            self._settled()
            delivered += stats.delivered
            if stats.kept or not (stats.delivered or stats.dropped):
                break
        return delivered + self._send_unkept()

    def _wait_until_due(self) -> None:
        """(Lock held.) Wait while a hand-off made before Airflow's commit holds the thread, then until the
        hand-offs pause (bounded by max_defer from the first wait of this drain)."""
        while True:
            now = time.monotonic()
            if self._hold_until:
                if now < self._hold_until:
                    self._changed.wait(self._hold_until - now)
                    continue
                self._hold_until = 0.0
            if self._due_now or self.quiet <= 0:
                return
            if self._deferred_since is None:
                self._deferred_since = now
            due = min(self._last_hand_off + self.quiet, self._deferred_since + self.max_defer)
            if now >= due:
                return
            self._changed.wait(due - now)

    def _send_unkept(self) -> int:
        """Reports the spool could not keep: one attempt each, from memory (nothing to replay them from)."""
        delivered = 0
        while True:
            with self._lock:
                if not self._unkept:
                    return delivered
                key, report = self._unkept.pop(0)
            try:
                result = self.deliver(report, time.monotonic() + self.time_budget, False, True)
                delivered += result.error is None
            except Exception as exc:
                log.warning("OpenMetadata lineage: delivery failed (%s)", type(exc).__name__)
            finally:
                with self._lock:
                    self._own.pop(key, None)
                    self._changed.notify_all()

    def _send(self, record: Record) -> tuple[Outcome, Optional[float]]:
        with self._lock:
            self._in_flight = record.path
        # Fresh: never attempted and handed off within one time budget (by any process of the worker), so
        # the task states it carries are as current as a report sent from the task itself. A record older
        # ones left their status to was fresh when they did, and stays so: sent as a replay it would merge,
        # and there a terminal state the server holds (an earlier try's) would beat the states it carries.
        carrier = record.path in self._carriers
        self._carriers.discard(record.path)
        fresh = record.deliveries == 0 and (carrier or time.time() - record.created <= self.time_budget)
        report = record.report
        if not fresh:
            # Kept after a failed attempt, or left behind a while ago: the stored status may be newer, and
            # task states known then may have changed; merge with what the server holds.
            report = replace(report, run=replace(report.run, complete=False))
        status = not self._superseded(record)
        result = self.deliver(report, time.monotonic() + self.time_budget, not fresh, status)
        if result.error is None:
            return Outcome.DELIVERED, None
        if retryable(result.failure):
            return Outcome.KEEP, getattr(result.failure, "retry_after", None)
        return Outcome.DROP, None

    def _superseded(self, record: Record) -> bool:
        """A newer record of the same run waits in the spool and carries this record's task state: its
        status PUT will replace this one's, so this record sends only its pipeline and edges. Behind a slow
        or recovering server that is one status request per run and backlog instead of one per task (the
        newest record is read once: the drain asks about it for each of the run's older records). Any
        doubt (unreadable, gone, an error) sends the status. The newer record must go fresh (never
        attempted, younger than one budget): a replay merges with the server's copy, where a stored terminal
        state wins."""
        newer = record.newer
        if newer is None:
            return False
        try:
            peeked = self._peeked  # one read: another drain of this process may replace it meanwhile
            if peeked is None or peeked[0] != newer:
                read = self.spool.peek(newer)
                if read is None:
                    return False
                report, deliveries, created = read
                fresh = deliveries == 0 and time.time() - created <= self.time_budget
                peeked = self._peeked = (newer, report, fresh)
            if not (peeked[2] and supersedes(peeked[1], record.report)):
                return False
            self._carriers.add(newer)
            return True
        except Exception:
            return False

    def _settled(self) -> None:
        with self._lock:
            path, self._in_flight = self._in_flight, None
            if path is not None:
                self._own.pop(path, None)
            self._changed.notify_all()

    def _start(self) -> None:
        with self._lock:
            self._more = True
            if self._thread is not None:
                return
            thread = threading.Thread(target=self._run, name="openmetadata-lineage-delivery", daemon=True)
            self._thread = thread
        thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                self._more = False
            try:
                self._drain(None, background=True)
            except Exception as exc:  # the thread must end cleanly whatever happens
                log.warning("OpenMetadata lineage: delivery stopped (%s)", type(exc).__name__)
            with self._lock:
                # the spool is done with: the next hand-off waits for a pause afresh, and what
                # release(now=True) asked for is done (a settle() still waiting keeps it)
                self._deferred_since = None
                self._due_now = self._due_now and self._stop_after_own
                if self._more:
                    continue  # a hand-off came in meanwhile
                # What is left (kept after a failure, or claimed by another process) is the spool's now: a
                # later drain delivers it, as a replay.
                self._thread = None
                self._own.clear()
                self._changed.notify_all()
                return

    def _at_exit(self) -> None:
        with self._lock:
            wanted = any(self._own.values())
        if wanted:
            self.settle(time.monotonic() + self.time_budget)

    def _after_fork(self) -> None:
        # The child has no delivery thread and owns none of the parent's records.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._thread = None
        self._more = False
        self._in_flight = None
        self._stop_after_own = False
        self._hold_until = 0.0
        self._last_hand_off = 0.0
        self._deferred_since = None
        self._due_now = False
        self._unkept = []
        self._own = {}
        self._peeked = None
        self._carriers = set()
