"""The process-wide delivery (hand-off, spool, reporter), built on first use from `[lineage]` and shared by
the backend and the listener.

A config error is logged once per process, clearly, and then nothing is sent (get_delivery() returns None).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .config import LineageConfig, OptionGetter
    from .delivery import Delivery
    from .reporter import Reporter

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


def build_delivery(get: Optional[OptionGetter] = None, background: bool = True) -> Delivery:
    """The hand-off for the current config: this deployment's spool, delivered by a Reporter."""
    from .config import deployment_key, load_config
    from .delivery import Delivery
    from .spool import Spool

    config = load_config(get)
    reporter = reporter_for(config)
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


def get_reporter() -> Optional[Reporter]:
    """The shared Delivery's Reporter (its config, caches, client), or None."""
    delivery = get_delivery()
    return delivery.reporter if delivery is not None else None


def reset() -> None:
    """Forget the reporter (tests; a changed config)."""
    global _loaded, _delivery
    with _lock:
        _loaded, _delivery = False, None
