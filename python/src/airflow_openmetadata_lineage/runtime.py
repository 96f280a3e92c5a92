"""The process-wide reporter, built on first use from `[lineage]` and shared by the backend and the listener.

A config error is logged once per process, clearly, and then nothing is sent (get_reporter() returns None).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .config import OptionGetter
    from .reporter import Reporter

log = logging.getLogger("airflow_openmetadata_lineage")

_lock = threading.Lock()
_loaded = False
_reporter: Optional[Reporter] = None


def build_reporter(get: Optional[OptionGetter] = None) -> Reporter:
    """A Reporter for the current config; raises ConfigError. Imports requests (through the client) lazily."""
    from . import auth
    from .client import OpenMetadataClient
    from .config import load_config
    from .reporter import Reporter
    from .spool import Spool

    config = load_config(get)
    spool = Spool(config.spool_dir, config.spool_max_bytes, config.spool_max_age)
    return Reporter(config, OpenMetadataClient(config, auth.create_provider(config)), spool=spool)


def get_reporter() -> Optional[Reporter]:
    """The shared Reporter, or None when the configuration is unusable (already logged)."""
    global _loaded, _reporter
    if _loaded:
        return _reporter
    with _lock:
        if _loaded:
            return _reporter
        try:
            _reporter = build_reporter()
        except Exception as exc:
            from .config import ConfigError

            if isinstance(exc, ConfigError):
                log.error("OpenMetadata lineage is off for this process: %s", exc)
            else:  # never quote an unexpected exception: it could carry a value
                log.error(
                    "OpenMetadata lineage is off for this process: setup failed (%s)", type(exc).__name__
                )
            _reporter = None
        _loaded = True
        return _reporter


def reset() -> None:
    """Forget the reporter (tests; a changed config)."""
    global _loaded, _reporter
    with _lock:
        _loaded, _reporter = False, None
