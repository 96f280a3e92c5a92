"""Guard for `[lineage] backend`, at the root of plugins.zip, outside the airflow-openmetadata-lineage wheel.

Why: on Airflow 2, `[lineage] backend` is imported with `BaseOperator`; a class that does not import kills
every Airflow process (`AirflowConfigException: The object could not be loaded`). MWAA starts Airflow even
when the requirements install failed, so the module points `[lineage] backend` here instead of into the
wheel: this file is on `sys.path` in every Airflow process (the plugins folder) and needs only the stdlib.

- The wheel imports: every `send_lineage` is handed to the wheel's backend (imported on first use).
- The wheel, or a package an extra of it needs for the configured `auth_provider_type`, is missing: lineage
  is off and ONE error line per process says what is missing and what to check; tasks run as if no lineage.

Airflow's plugin manager imports every .py at the plugins root (Airflow 3 too, where `[lineage] backend` is
ignored): importing this file does only a `find_spec` (no wheel import) and logs the same line when the wheel
is missing. It defines no AirflowPlugin.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import re
import threading
from typing import Any, Optional

log = logging.getLogger("airflow_openmetadata_lineage")

WHEEL_PACKAGE = "airflow_openmetadata_lineage"
WHEEL_DIST = "airflow-openmetadata-lineage"
WHEEL_BACKEND = "airflow_openmetadata_lineage.backend"
# Extras that are not named after an auth provider: the reason to need them.
SECRETS_MANAGER_PREFIX = "aws-secretsmanager:"
SECRETS_MANAGER_EXTRA = "aws"
WHAT_TO_CHECK = (
    "check the requirements install log of this environment (MWAA: the requirements_install log stream) "
    "and that requirements.txt names the wheel inside plugins.zip"
)

try:  # Airflow 2: the backend must subclass LineageBackend (airflow.lineage.get_backend checks)
    from airflow.lineage.backend import LineageBackend as _Base
except Exception:  # Airflow 3 (no lineage backends) or no Airflow at all
    _Base = object  # type: ignore[assignment,misc]

_lock = threading.Lock()
# Airflow's plugin manager executes this file again as a new module object after `[lineage] backend` imported
# it: the once-per-process mark lives on the (process-wide) logger, not in a module global.
_MARK = "_openmetadata_lineage_off_reported"


def _error_once(message: str) -> None:
    with _lock:
        if getattr(log, _MARK, False):
            return
        setattr(log, _MARK, True)
    log.error("OpenMetadata lineage is OFF in this process: %s; %s.", message, WHAT_TO_CHECK)


def _requirement_name(requirement: str) -> str:
    """`PyJWT[crypto]>=2.4; extra == "okta"` -> `PyJWT`."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1) if match else requirement.strip()


def _extra_of(requirement: str) -> Optional[str]:
    match = re.search(r"""extra\s*==\s*["']([^"']+)["']""", requirement)
    return match.group(1) if match else None


def missing_for_extras(extras: set[str]) -> list[str]:
    """`name (extra [x])` of each package the wheel requires for these extras that is not installed."""
    from importlib import metadata

    try:
        requires = metadata.distribution(WHEEL_DIST).requires or []
    except metadata.PackageNotFoundError:
        return [WHEEL_DIST]
    missing = []
    for requirement in requires:
        extra = _extra_of(requirement)
        if extra is None or extra not in extras:
            continue
        name = _requirement_name(requirement)
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(f"{name} (extra [{extra}])")
    return sorted(set(missing))


def _configured_extras() -> set[str]:
    """The extras the configured `[lineage]` needs: the one named after auth_provider_type (when the wheel has
    it), plus `aws` when an option is an aws-secretsmanager: reference."""
    from airflow.configuration import conf

    extras = set()
    provider = (conf.get("lineage", "auth_provider_type", fallback="") or "").strip()
    if provider:
        extras.add(provider)
    try:
        section = conf.getsection("lineage") or {}
    except Exception:
        section = {}
    if any(str(v).startswith(SECRETS_MANAGER_PREFIX) for v in section.values()):
        extras.add(SECRETS_MANAGER_EXTRA)
    return extras


def load_wheel_backend() -> Optional[Any]:
    """The wheel's backend instance, or None after logging why lineage is off (once per process)."""
    try:
        if importlib.util.find_spec(WHEEL_PACKAGE) is None:
            _error_once(f"the {WHEEL_DIST} wheel is not installed (no module {WHEEL_PACKAGE})")
            return None
        missing = missing_for_extras(_configured_extras())
        if missing:
            _error_once(f"{WHEEL_DIST} is installed but these packages are missing: {', '.join(missing)}")
            return None
        module = importlib.import_module(WHEEL_BACKEND)
        return module.OpenMetadataLineageBackend()
    except Exception as exc:  # a partial install: never quote the exception (it could carry a config value)
        _error_once(f"the {WHEEL_DIST} wheel does not import ({type(exc).__name__})")
        return None


class OpenMetadataLineageBackend(_Base):  # type: ignore[misc,valid-type]
    """`[lineage] backend` target: hands each call to the wheel's backend; a no-op when it is missing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # built with BaseOperator: stay cheap
        with contextlib.suppress(Exception):
            super().__init__(*args, **kwargs)
        self._delegate: Optional[Any] = None
        self._loaded = False

    def send_lineage(
        self,
        operator: Any = None,
        inlets: Optional[list[Any]] = None,
        outlets: Optional[list[Any]] = None,
        context: Optional[dict[str, Any]] = None,
    ) -> None:
        try:
            if not self._loaded:
                self._delegate = load_wheel_backend()
                self._loaded = True
            if self._delegate is not None:
                self._delegate.send_lineage(
                    operator=operator, inlets=inlets, outlets=outlets, context=context
                )
        except Exception as exc:  # never fail the task
            log.warning("OpenMetadata lineage: report skipped after an unexpected %s", type(exc).__name__)


def _check_at_import() -> None:
    """The plugin manager imports this file in every process: say so now when the wheel is missing."""
    try:
        if importlib.util.find_spec(WHEEL_PACKAGE) is None:
            _error_once(f"the {WHEEL_DIST} wheel is not installed (no module {WHEEL_PACKAGE})")
    except Exception:
        pass


_check_at_import()
