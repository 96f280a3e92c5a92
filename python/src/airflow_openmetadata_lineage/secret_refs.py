"""Resolve `aws-secretsmanager:<secret-id-or-arn>[#field]` references (docs/architecture.md §1).

boto3 is imported only when a reference is resolved. The endpoint honours AWS_ENDPOINT_URL_SECRETS_MANAGER /
AWS_ENDPOINT_URL (tests point it at moto). Values are cached per process and never logged or put in a message.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any, Optional

PREFIX = "aws-secretsmanager:"

_cache: dict[str, str] = {}
_lock = threading.Lock()


class SecretError(Exception):
    """A reference could not be resolved. The message names the secret id, never a value."""


def is_reference(value: str) -> bool:
    return value.startswith(PREFIX)


def parse_reference(value: str) -> tuple[str, Optional[str]]:
    """`aws-secretsmanager:id#field` -> ("id", "field"). Secret names cannot contain '#', so split on it."""
    body = value[len(PREFIX) :].strip()
    secret_id, sep, field = body.partition("#")
    if not secret_id:
        raise SecretError(
            f"'{PREFIX}' must be followed by a secret name or ARN, e.g. {PREFIX}my/secret#field"
        )
    if sep and not field:
        raise SecretError(f"secret reference {secret_id}#: the field name after '#' is empty")
    return secret_id, (field if sep else None)


def region_of(secret_id: str) -> Optional[str]:
    """The region of an ARN (arn:aws:secretsmanager:<region>:...), else None (boto3 takes it from the env)."""
    parts = secret_id.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "secretsmanager":
        return parts[3] or None
    return None


def _client(region: Optional[str], timeout: float) -> Any:  # a botocore client
    import boto3  # lazy: only processes that use references pay for it
    from botocore.config import Config

    endpoint = (
        os.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or os.environ.get("AWS_ENDPOINT_URL") or None
    )
    # total_max_attempts=1: one try (botocore's max_attempts=1 still allows one retry, doubling the wait)
    cfg = Config(
        connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1, "mode": "standard"}
    )
    return boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint, config=cfg)


# botocore logs whole response bodies (the secret) at DEBUG: silence these loggers around our one call.
_CHATTY_LOGGERS = ("botocore", "botocore.parsers", "botocore.endpoint", "botocore.hooks", "botocore.auth")


@contextlib.contextmanager
def _quiet_botocore() -> Iterator[None]:
    saved = {}
    for name in _CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = logger.level
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _fetch(secret_id: str, timeout: float, deadline: Optional[float]) -> str:
    try:
        import boto3  # noqa: F401 - imported before the clock is read: its import alone can take a second
    except ImportError as exc:
        raise SecretError(
            f"secret {secret_id}: boto3 is not installed (install the wheel's [aws] extra)"
        ) from exc
    if deadline is not None:
        timeout = min(timeout, deadline - time.monotonic())
        if timeout < 0.05:
            raise SecretError(f"secret {secret_id} was not read: the time budget ran out")
    try:
        with _quiet_botocore():
            response = _client(region_of(secret_id), timeout).get_secret_value(SecretId=secret_id)
    except ImportError as exc:
        raise SecretError(
            f"secret {secret_id}: boto3 is not installed (install the wheel's [aws] extra)"
        ) from exc
    except Exception as exc:
        # botocore messages name the secret and the error code, never the value; keep only the class + code.
        response = getattr(exc, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
        raise SecretError(f"secret {secret_id} could not be read: {code or type(exc).__name__}") from None
    value: Optional[str] = response.get("SecretString")
    if value is None:
        raise SecretError(f"secret {secret_id} has no SecretString (binary secrets are not supported)")
    return value


def resolve(reference: str, timeout: float = 5.0, deadline: Optional[float] = None) -> str:
    """The secret's value (or one field of its JSON) for an `aws-secretsmanager:` reference. The lookup
    ends by `deadline` (a time.monotonic() value) when one is given."""
    secret_id, field = parse_reference(reference)
    with _lock:
        raw = _cache.get(secret_id)
    if raw is None:
        raw = _fetch(secret_id, timeout, deadline)
        with _lock:
            _cache[secret_id] = raw
    if field is None:
        return raw
    try:
        document = json.loads(raw)
    except ValueError:
        raise SecretError(f"secret {secret_id} is not JSON, so it has no field '{field}'") from None
    if not isinstance(document, dict) or field not in document:
        raise SecretError(f"secret {secret_id} has no field '{field}'")
    value = document[field]
    return value if isinstance(value, str) else json.dumps(value)


def clear_cache() -> None:
    with _lock:
        _cache.clear()
