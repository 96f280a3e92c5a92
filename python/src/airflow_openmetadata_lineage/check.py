"""Self-check: read the same `[lineage]` config the backend reads, get a token, call the server, say plainly
what is wrong. `python -m airflow_openmetadata_lineage check`, or `run_check()` from a DAG (MWAA users have no
shell on workers). Never prints a token or a secret: only whether a token was obtained.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .client import OpenMetadataClient
    from .config import LineageConfig, OptionGetter

log = logging.getLogger("airflow_openmetadata_lineage")


@dataclass
class CheckResult:
    ok: bool = False
    provider: Optional[str] = None
    endpoint: Optional[str] = None
    service_name: Optional[str] = None
    token_obtained: Optional[bool] = None  # None: the provider needs no token
    server_version: Optional[str] = None
    principal: Optional[str] = None
    principal_is_bot: Optional[bool] = None
    service_exists: Optional[bool] = None
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(self.lines)


def _server_version(client: OpenMetadataClient, deadline: float) -> str:
    from .client import NotFoundError

    try:
        answer = client.get("/v1/system/version", deadline)
    except NotFoundError:  # servers before 0.14 answer on /v1/version
        answer = client.get("/v1/version", deadline)
    version = answer.get("version") if isinstance(answer, dict) else None
    return str(version) if version else "unknown"


def _expired_at(token: str) -> Optional[str]:
    """When a JWT's `exp` claim lies in the past, that time (UTC, ISO 8601); else None. Reads the payload
    without verifying it: only the server can verify, this only tells a stale static token early."""
    import base64
    import json
    from datetime import datetime, timezone

    try:
        payload = token.split(".")[1]
        exp = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]
        if float(exp) < time.time():
            return datetime.fromtimestamp(float(exp), timezone.utc).isoformat(timespec="seconds")
    except Exception:  # not a JWT, or no exp: nothing to say
        return None
    return None


def _check_server(config: LineageConfig, result: CheckResult) -> None:
    from . import auth
    from .auth.base import AuthError
    from .client import ClientError, IdentityError, NotFoundError, OpenMetadataClient, quote_fqn
    from .model import quote_name, unsupported_server

    deadline = time.monotonic() + max(config.time_budget, config.timeout)
    provider = auth.create_provider(config)
    try:
        token = provider.token(deadline)
        result.token_obtained = None if token is None else True
        result.lines.append("token: not needed (no-auth)" if token is None else "token: obtained")
        expired = None if token is None else _expired_at(token)
        if expired:
            result.problems.append(f"token: expired at {expired}: issue a new one")
            result.lines.append(f"token: EXPIRED at {expired} (the server will refuse it)")
    except AuthError as exc:
        result.token_obtained = False
        result.problems.append(f"token: {exc}")
        result.lines.append(f"token: FAILED: {exc}")
        return
    except Exception as exc:  # a library error may quote inputs: name its type only
        result.token_obtained = False
        result.problems.append(f"token: {type(exc).__name__}")
        result.lines.append(f"token: FAILED: unexpected {type(exc).__name__}")
        return

    client = OpenMetadataClient(config, provider)
    try:
        result.server_version = _server_version(client, deadline)
        result.lines.append(f"server: reachable, OpenMetadata version {result.server_version}")
        reason = unsupported_server(result.server_version)
        if reason:
            result.problems.append(f"server: {reason}")
            result.lines.append(f"server: FAILED: {reason}")
    except ClientError as exc:
        result.problems.append(f"server: {exc}")
        hint = " (the token was refused: check the provider settings)" if exc.status in (401, 403) else ""
        result.lines.append(f"server: FAILED: {exc}{hint}")
        return
    if token is not None:
        try:
            me = client.get("/v1/users/loggedInUser", deadline) or {}
            result.principal = str(me.get("name") or "?")
            result.principal_is_bot = me.get("isBot") is True
            if result.principal_is_bot:
                result.lines.append(f"principal: {result.principal} (a bot)")
            else:
                result.lines.append(
                    f"principal: {result.principal} WARNING: not a bot: use a bot's token (a user's writes"
                    " count as that person's edits, and the server treats them differently)"
                )
        except IdentityError as exc:
            result.problems.append(f"principal: {exc}")
            result.lines.append(f"principal: FAILED: {exc}: create that user (or a bot) in OpenMetadata")
            return
        except ClientError as exc:
            result.lines.append(f"principal: unknown ({exc})")
    try:
        client.get(
            f"/v1/services/pipelineServices/name/{quote_fqn(quote_name(config.service_name))}", deadline
        )
        result.service_exists = True
        result.lines.append(f"pipeline service {config.service_name}: exists")
    except NotFoundError:
        result.service_exists = False
        result.lines.append(
            f"pipeline service {config.service_name}: not yet there (created by the first report)"
        )
    except ClientError as exc:
        result.problems.append(f"pipeline service: {exc}")
        result.lines.append(f"pipeline service {config.service_name}: FAILED: {exc}")


def _check_spool(config: LineageConfig, result: CheckResult) -> None:
    try:
        os.makedirs(config.spool_dir, mode=0o700, exist_ok=True)
        writable = os.access(config.spool_dir, os.W_OK)
    except OSError:
        writable = False
    if writable:
        result.lines.append(f"spool_dir: {config.spool_dir} (writable)")
    else:
        result.problems.append(f"spool_dir: {config.spool_dir} is not writable")
        result.lines.append(f"spool_dir: FAILED: {config.spool_dir} is not writable: set [lineage] spool_dir")


def run_check(get: Optional[OptionGetter] = None, log_result: bool = True) -> CheckResult:
    """Check config, auth and server; returns the result (and logs it). Never raises."""
    from .config import ConfigError, load_config

    result = CheckResult()
    try:
        config = load_config(get)
    except ConfigError as exc:
        result.problems.append(str(exc))
        result.lines.append(f"config: FAILED: {exc}")
        config = None
    except Exception as exc:
        result.problems.append(f"config: unexpected {type(exc).__name__}")
        result.lines.append(f"config: FAILED: unexpected {type(exc).__name__}")
        config = None
    if config is not None:
        result.provider, result.endpoint, result.service_name = (
            config.auth_provider_type,
            config.endpoint,
            config.service_name,
        )
        result.lines.append(
            f"config: ok (service {config.service_name}, endpoint {config.endpoint}, "
            f"auth {config.auth_provider_type}, timeout {config.timeout:g}s, budget {config.time_budget:g}s)"
        )
        try:
            _check_server(config, result)
        except Exception as exc:
            result.problems.append(f"unexpected {type(exc).__name__}")
            result.lines.append(f"check: FAILED: unexpected {type(exc).__name__}")
        _check_spool(config, result)
    result.ok = not result.problems
    result.lines.append("result: OK" if result.ok else f"result: FAILED ({len(result.problems)} problem(s))")
    if log_result:
        for line in result.lines:
            (log.info if result.ok else log.warning)("OpenMetadata lineage check: %s", line)
    return result
