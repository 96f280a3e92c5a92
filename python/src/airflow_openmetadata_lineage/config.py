"""Reading and validating `[lineage]`: the only module that reads Airflow config. The keys, their defaults
and which are secret are described in options.py.

Values are read raw and decoded here once: `%%` -> `%`, `aws-secretsmanager:` references -> the
secret (verbatim), `base64:` and `\\n`-escaped PEM -> multi-line text. Validation errors name the
`[lineage]` key and say what to write; they never quote a secret.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional, Union
from urllib.parse import urlsplit

from . import secret_refs
from .fqn_map import ServiceTarget, parse_service_map
from .options import (
    OPTIONS,
    PROVIDER_KEYS,
    SECTION,
    TOKEN_ENDPOINT_AUTH_METHODS,
    canonical_provider,
    parse_scopes,
    provider_names,
    required_keys,
)
from .options import default as _default

# (section, key) -> raw value or None when unset.
OptionGetter = Callable[[str, str], Optional[str]]


def deployment_key(endpoint: str, service_name: str) -> str:
    """A deployment's name on disk: its server and pipeline service, hashed (no value shows in a path)."""
    import hashlib

    return hashlib.sha256(f"{endpoint}|{service_name}".encode()).hexdigest()[:12]


def default_spool_dir(endpoint: str, service_name: str) -> str:
    """One folder per deployment (server + pipeline service): two Airflow deployments on one host never
    deliver each other's reports or share cached entities."""
    folder = deployment_key(endpoint, service_name)
    return os.path.join(tempfile.gettempdir(), "airflow-openmetadata-lineage", folder)


DEFAULT_TIMEOUT = _default("timeout")
DEFAULT_TIME_BUDGET = _default("time_budget")
DEFAULT_SPOOL_MAX_BYTES = int(_default("spool_max_bytes"))
DEFAULT_SPOOL_MAX_AGE = _default("spool_max_age")
# Airflow's own default of [webserver] base_url: the last fallback of airflow_base_url.
DEFAULT_BASE_URL = "http://localhost:8080"


class ConfigError(Exception):
    """A `[lineage]` option is missing or malformed. `key` is the option; the message says what to write."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


@dataclass(frozen=True)
class LineageConfig:
    service_name: str
    endpoint: str  # normalised: http(s)://host[:port][/prefix]/api, no trailing slash
    auth_provider_type: str  # registry name (aliases resolved)
    options: dict[str, str] = field(repr=False)  # decoded provider keys that are set
    verify: Union[bool, str] = True  # requests' `verify`: bool or a CA bundle path
    timeout: float = DEFAULT_TIMEOUT
    time_budget: float = DEFAULT_TIME_BUDGET
    airflow_base_url: str = DEFAULT_BASE_URL
    spool_dir: str = ""
    spool_max_bytes: int = DEFAULT_SPOOL_MAX_BYTES
    spool_max_age: float = DEFAULT_SPOOL_MAX_AGE
    # connection id / OpenLineage namespace -> OpenMetadata service[.database[.schema]] (fqn_map.py)
    service_map: dict[str, ServiceTarget] = field(default_factory=dict)

    def scopes(self) -> list[str]:
        return parse_scopes(self.options.get("scopes", ""))


def undouble_percent(value: str) -> str:
    """airflow.cfg escaping: `%%` means `%` (read raw, so env vars and airflow.cfg read the same)."""
    return value.replace("%%", "%")


def decode_inline(key: str, value: str) -> str:
    """Decode the one-line forms of multi-line values: `base64:<b64>` and PEM with literal `\\n`."""
    if value.startswith("base64:"):
        try:
            return base64.b64decode(value[len("base64:") :].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ConfigError(
                key, f"[{SECTION}] {key} starts with 'base64:' but the rest is not valid base64 of UTF-8 text"
            ) from None
    if value.lstrip().startswith("-----BEGIN") and "\\n" in value:
        return value.replace("\\n", "\n")
    return value


def airflow_getter() -> OptionGetter:
    """Read options through Airflow's config (airflow.cfg or AIRFLOW__SECTION__KEY env vars), raw.
    Without Airflow installed (the self-check run elsewhere), only the env vars are read."""
    conf: Optional[Any]
    try:
        from airflow.configuration import conf as airflow_conf  # lazy: tests and the CLI can run without it

        conf = airflow_conf
    except Exception:
        conf = None

    def get(section: str, key: str) -> Optional[str]:
        # Airflow expands $VARS and ~ in env values: read ours verbatim (env wins over airflow.cfg, as there).
        env = os.environ.get(f"AIRFLOW__{section.upper()}__{key.upper()}")
        if env is not None or conf is None:
            return env
        try:
            value = conf.get(section, key, raw=True, fallback=None)
        except Exception:  # missing section on some versions
            return None
        return None if value is None else str(value)

    return get


def mapping_getter(lineage: Mapping[str, str], **sections: Mapping[str, str]) -> OptionGetter:
    """An OptionGetter over plain dicts: `lineage` is the `[lineage]` section; other sections by keyword."""
    all_sections = {SECTION: lineage, **sections}

    def get(section: str, key: str) -> Optional[str]:
        return all_sections.get(section, {}).get(key)

    return get


def _read(
    get: OptionGetter, key: str, timeout: float, deadline: Optional[float] = None, resolve: bool = True
) -> Optional[str]:
    """One `[lineage]` value, decoded; None when unset or blank. Secret lookups end by `deadline`
    (a time.monotonic() value), so resolving references stays inside the report's time budget.
    `resolve=False`: a secret reference is returned as written (resolve_secrets() reads it later)."""
    raw = get(SECTION, key)
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if secret_refs.is_reference(raw):
        if not resolve:
            return raw
        try:
            # verbatim: no %%/base64 decoding
            return secret_refs.resolve(raw, timeout=timeout, deadline=deadline)
        except secret_refs.SecretError as exc:
            raise ConfigError(key, f"[{SECTION}] {key}: {exc}") from None
    return decode_inline(key, undouble_percent(raw))


def _number(get: OptionGetter, key: str, timeout: float) -> float:
    """A positive number of seconds (or bytes); the table's default when unset."""
    default = _default(key)
    text = _read(get, key, timeout)
    if text is None:
        return default
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if not number > 0 or number == float("inf"):
        raise ConfigError(key, f"[{SECTION}] {key} must be a positive number of seconds, e.g. {default:g}")
    return number


def _endpoint(text: Optional[str]) -> str:
    key = "openmetadata_api_endpoint"
    if text is None:
        raise ConfigError(
            key, f"[{SECTION}] {key} is missing: set it to the server URL, e.g. http://openmetadata:8585/api"
        )
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            key,
            f"[{SECTION}] {key} must be an http(s) URL with a host, e.g. http://openmetadata:8585/api",
        )
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ConfigError(
            key, f"[{SECTION}] {key} has an invalid port; e.g. http://openmetadata:8585/api"
        ) from None
    if parts.username is not None or parts.password is not None:
        # Credentials in the URL would show in the self-check and logs; auth has its own keys.
        raise ConfigError(
            key,
            f"[{SECTION}] {key} must not contain user:password@; set auth_provider_type and its keys instead",
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            key, f"[{SECTION}] {key} must not have a query or fragment; e.g. http://host:8585/api"
        )
    path = parts.path.rstrip("/")
    if not path.endswith("/api"):
        path += "/api"
    return f"{parts.scheme}://{parts.netloc}{path}"


def _verify(get: OptionGetter, timeout: float) -> Union[bool, str]:
    ca_bundle = _read(get, "ca_bundle", timeout)
    text = _read(get, "verify_ssl", timeout)
    if text is not None and text.lower() in ("true", "yes", "1", "on"):
        verify: Union[bool, str] = True
    elif text is not None and text.lower() in ("false", "no", "0", "off"):
        verify = False
    elif text is not None:
        verify = text  # a CA bundle path
    else:
        verify = True
    if ca_bundle is not None and verify is not False:
        verify = ca_bundle
    if isinstance(verify, str):
        key = "ca_bundle" if ca_bundle is not None and verify == ca_bundle else "verify_ssl"
        if not os.path.isfile(verify):
            raise ConfigError(
                key,
                f"[{SECTION}] {key} names a CA bundle file that does not exist: {verify} (or use true/false)",
            )
    return verify


def _base_url(get: OptionGetter, timeout: float) -> str:
    url = _read(get, "airflow_base_url", timeout) or get("webserver", "base_url") or get("api", "base_url")
    url = (url or DEFAULT_BASE_URL).strip().rstrip("/")
    if urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(
            "airflow_base_url",
            f"[{SECTION}] airflow_base_url must be an http(s) URL, e.g. {DEFAULT_BASE_URL}",
        )
    return url


def resolve_secrets(config: LineageConfig, deadline: Optional[float] = None) -> LineageConfig:
    """`config` with the secret references its provider options hold (load_config(resolve_secrets=False))
    resolved, by `deadline`. Raises ConfigError naming the key."""
    options = dict(config.options)
    for key, value in config.options.items():
        if secret_refs.is_reference(value):
            try:
                options[key] = secret_refs.resolve(value, timeout=config.timeout, deadline=deadline)
            except secret_refs.SecretError as exc:
                raise ConfigError(key, f"[{SECTION}] {key}: {exc}") from None
    return replace(config, options=options)


def load_config(get: Optional[OptionGetter] = None, resolve_secrets: bool = True) -> LineageConfig:
    """Read and validate `[lineage]`. Raises ConfigError naming the first bad key. `resolve_secrets=False`
    keeps the provider options' secret references as written (no AWS call: the task's path does not wait for
    one); `resolve_secrets()` resolves them where a request is about to be sent."""
    get = get or airflow_getter()
    timeout = _number(get, "timeout", DEFAULT_TIMEOUT)

    service_name = _read(get, "airflow_service_name", timeout)
    if service_name is None:
        raise ConfigError(
            "airflow_service_name",
            f"[{SECTION}] airflow_service_name is missing: set it to the pipeline service name, e.g. MWAA",
        )
    if "::" in service_name or len(service_name) > 256:
        raise ConfigError(
            "airflow_service_name",
            f"[{SECTION}] airflow_service_name must be 1-256 characters without '::', e.g. MWAA",
        )
    endpoint = _endpoint(_read(get, "openmetadata_api_endpoint", timeout))

    configured = _read(get, "auth_provider_type", timeout) or "no-auth"
    provider = canonical_provider(configured)
    if provider is None:
        raise ConfigError(
            "auth_provider_type",
            f"[{SECTION}] auth_provider_type '{configured[:40]}' is not supported: use one of "
            + ", ".join(provider_names()),
        )

    # Secret references resolved here share the report's time budget.
    secrets_deadline = time.monotonic() + _number(get, "time_budget", timeout)
    options: dict[str, str] = {}
    for key in PROVIDER_KEYS:
        value = _read(get, key, timeout, secrets_deadline, resolve=resolve_secrets)
        if value is not None:
            options[key] = value
    for key in required_keys(provider):
        if key not in options:
            raise ConfigError(
                key,
                f"[{SECTION}] {key} is missing: auth_provider_type={provider} requires it; set it to "
                + OPTIONS[key].hint_for(provider),
            )
    method = options.get("token_endpoint_auth_method")
    if (
        method is not None
        and not secret_refs.is_reference(method)
        and method.strip() not in TOKEN_ENDPOINT_AUTH_METHODS
    ):
        raise ConfigError(
            "token_endpoint_auth_method",
            f"[{SECTION}] token_endpoint_auth_method '{method[:40]}' is not supported: use "
            + " or ".join(TOKEN_ENDPOINT_AUTH_METHODS)
            + " (what the identity provider's application is configured with)",
        )
    scopes = options.get("scopes")
    if (
        provider in ("azure", "okta")
        and scopes
        and not secret_refs.is_reference(scopes)
        and not parse_scopes(scopes)
    ):
        raise ConfigError("scopes", f"[{SECTION}] scopes is empty: write it as [scope1, scope2]")

    return LineageConfig(
        service_name=service_name,
        endpoint=endpoint,
        auth_provider_type=provider,
        options=options,
        verify=_verify(get, timeout),
        timeout=timeout,
        time_budget=_number(get, "time_budget", timeout),
        airflow_base_url=_base_url(get, timeout),
        spool_dir=_read(get, "spool_dir", timeout) or default_spool_dir(endpoint, service_name),
        spool_max_bytes=int(_number(get, "spool_max_bytes", timeout)),
        spool_max_age=_number(get, "spool_max_age", timeout),
        service_map=_service_map(get, timeout),
    )


def _service_map(get: OptionGetter, timeout: float) -> dict[str, ServiceTarget]:
    try:
        return parse_service_map(_read(get, "service_map", timeout))
    except ValueError as exc:
        raise ConfigError("service_map", f"[{SECTION}] {exc}") from None
