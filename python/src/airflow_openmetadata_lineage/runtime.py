"""The process-wide delivery (hand-off, spool, reporter), built on first use from `[lineage]` and shared by
the backend and the listener.

A config error is logged once per process, clearly, and then nothing is sent (get_delivery() returns None).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .config import LineageConfig, OptionGetter
    from .delivery import Delivery
    from .model import TaskReport
    from .reporter import Reporter, ReportResult

log = logging.getLogger("airflow_openmetadata_lineage")

_lock = threading.Lock()
_loaded = False
_delivery: Optional[Delivery] = None


def build_reporter(get: Optional[OptionGetter] = None) -> Reporter:
    """A Reporter for the current config; raises ConfigError. Imports requests (through the client) lazily."""
    from .config import load_config

    return reporter_for(load_config(get))


def reporter_for(config: LineageConfig) -> Reporter:
    from . import auth
    from .client import OpenMetadataClient
    from .reporter import Reporter

    return Reporter(config, OpenMetadataClient(config, auth.create_provider(config)))


class LazyReporter:
    """The Reporter, built at its first delivery (in the delivery thread): the task's path never imports
    requests or an identity provider's library, and never waits for a secret reference to resolve."""

    def __init__(self, config: LineageConfig) -> None:
        self.config = config  # secret references unresolved: what the adapters may read
        self._reporter: Optional[Reporter] = None
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    def get(self) -> Reporter:
        """The Reporter; raises ConfigError (a secret reference that does not resolve)."""
        with self._lock:
            if self._reporter is None:
                from .config import resolve_secrets

                resolved = resolve_secrets(self.config, time.monotonic() + self.config.time_budget)
                self._reporter = reporter_for(resolved)
            return self._reporter

    def report(self, report: TaskReport, deadline: float, replay: bool, status: bool = True) -> ReportResult:
        try:
            reporter = self.get()
        except Exception as exc:
            from .client import TransientError
            from .config import ConfigError
            from .reporter import ReportResult

            # Kept for a later delivery: a secret that becomes readable (IAM, rotation) needs no new report.
            text = str(exc) if isinstance(exc, ConfigError) else f"setup failed ({type(exc).__name__})"
            if text not in self._warned:
                self._warned.add(text)
                log.error("OpenMetadata lineage is off for this process: %s", text)
            return ReportResult(error=text, failure=TransientError(text))
        return reporter.report(report, deadline, replay=replay, status=status)


def build_delivery(get: Optional[OptionGetter] = None, background: bool = True) -> Delivery:
    """The hand-off for the current config: this deployment's spool, delivered by a Reporter built at the
    first delivery. Only reads `[lineage]` (no secret lookup, no HTTP library): cheap on the task's path."""
    from .config import deployment_key, load_config
    from .delivery import Delivery
    from .spool import Spool

    config = load_config(get, resolve_secrets=False)
    reporter = LazyReporter(config)
    spool = Spool(
        config.spool_dir,
        config.spool_max_bytes,
        config.spool_max_age,
        deployment=deployment_key(config.endpoint, config.service_name),
    )
    delivery = Delivery(spool, reporter.report, config.time_budget, background=background)
    delivery.reporter = reporter
    return delivery


def get_delivery() -> Optional[Delivery]:
    """The shared Delivery, or None when the configuration is unusable (already logged)."""
    global _loaded, _delivery
    if _loaded:
        return _delivery
    with _lock:
        if _loaded:
            return _delivery
        try:
            _delivery = build_delivery()
        except Exception as exc:
            from .config import ConfigError

            if isinstance(exc, ConfigError):
                log.error("OpenMetadata lineage is off for this process: %s", exc)
            else:  # never quote an unexpected exception: it could carry a value
                log.error(
                    "OpenMetadata lineage is off for this process: setup failed (%s)", type(exc).__name__
                )
            _delivery = None
        _loaded = True
        return _delivery


def get_config() -> Optional[LineageConfig]:
    """The shared Delivery's config (secret references unresolved), or None."""
    delivery = get_delivery()
    return delivery.reporter.config if delivery is not None and delivery.reporter is not None else None


def get_reporter() -> Optional[Reporter]:
    """The shared Delivery's Reporter (built now if no delivery built it yet), or None when it can't be."""
    delivery = get_delivery()
    if delivery is None or delivery.reporter is None:
        return None
    try:
        reporter: Reporter = delivery.reporter.get()
    except Exception as exc:
        log.error("OpenMetadata lineage is off for this process: %s", exc)
        return None
    return reporter


def reset() -> None:
    """Forget the reporter (tests; a changed config)."""
    global _loaded, _delivery
    with _lock:
        _loaded, _delivery = False, None
