"""runtime.py and plugin.py when building the reporter or the listener fails: lineage goes off for the
process with one clear line, Airflow goes on, and the exception's text (which may quote a value) stays out."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from airflow_openmetadata_lineage import listener, plugin, runtime
from airflow_openmetadata_lineage.config import mapping_getter

CANARY = "CANARY-setup-secret-0815"


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_setup_failure_turns_lineage_off_once_without_quoting(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    def broken(get: object = None, background: bool = True) -> object:
        calls.append(1)
        raise RuntimeError(f"provider init with password={CANARY}")

    monkeypatch.setattr(runtime, "build_delivery", broken)
    assert [runtime.get_reporter() for _ in range(3)] == [None, None, None]
    assert runtime.get_delivery() is None
    assert calls == [1], "built once per process, not retried on every task"
    assert _errors(caplog) == ["OpenMetadata lineage is off for this process: setup failed (RuntimeError)"]
    assert CANARY not in caplog.text


def test_config_error_is_quoted_because_it_names_the_option(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = runtime.build_delivery
    monkeypatch.setattr(
        runtime,
        "build_delivery",
        lambda get=None, background=True: real(
            mapping_getter({"openmetadata_api_endpoint": "http://om/api"})
        ),
    )
    assert runtime.get_reporter() is None
    (line,) = _errors(caplog)
    assert line.startswith("OpenMetadata lineage is off for this process: [lineage] airflow_service_name")


def test_a_working_setup_is_built_once_and_shared(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real, built = runtime.build_delivery, []
    options = {
        "airflow_service_name": "MWAA",
        "openmetadata_api_endpoint": "http://127.0.0.1:9/api",
        "spool_dir": str(tmp_path),
    }

    def build(get: object = None, background: bool = True) -> object:
        built.append(1)
        return real(mapping_getter(options))

    monkeypatch.setattr(runtime, "build_delivery", build)
    first = runtime.get_reporter()
    assert first is not None and runtime.get_reporter() is first
    delivery = runtime.get_delivery()
    assert delivery is not None and runtime.get_delivery() is delivery and delivery.reporter.get() is first
    assert built == [1]


def test_plugin_registration_failure_leaves_airflow_a_plugin_without_listeners(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> object:
        raise ImportError(f"pluggy spec moved ({CANARY})")

    monkeypatch.setattr(listener, "get_listener", broken)
    assert plugin._listeners() == []
    assert _errors(caplog) == ["OpenMetadata lineage: listener not registered (ImportError)"]
    assert CANARY not in caplog.text


def test_plugin_registers_nothing_when_no_listener_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listener, "get_listener", lambda: None)
    assert plugin._listeners() == []


def test_plugin_registers_the_listener_it_gets(monkeypatch: pytest.MonkeyPatch) -> None:
    marker = object()
    monkeypatch.setattr(listener, "get_listener", lambda: marker)
    assert plugin._listeners() == [marker]


def test_the_hand_off_path_builds_no_reporter_and_resolves_no_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The task's path reads `[lineage]` only: the Reporter (requests, the auth provider) and secret
    references wait for the first delivery, in the delivery thread."""
    from airflow_openmetadata_lineage import secret_refs

    looked_up: list[str] = []
    monkeypatch.setattr(secret_refs, "resolve", lambda ref, **kw: looked_up.append(ref) or "a-jwt")
    options = {
        "airflow_service_name": "MWAA",
        "openmetadata_api_endpoint": "http://127.0.0.1:9/api",
        "auth_provider_type": "openmetadata",
        "jwt_token": "aws-secretsmanager:lineage#jwt_token",
        "spool_dir": str(tmp_path),
    }
    delivery = runtime.build_delivery(mapping_getter(options), background=False)
    assert looked_up == [] and delivery.reporter is not None
    assert delivery.reporter.config.options["jwt_token"] == "aws-secretsmanager:lineage#jwt_token"
    assert delivery.reporter._reporter is None  # nothing built yet
    reporter = delivery.reporter.get()
    assert looked_up == ["aws-secretsmanager:lineage#jwt_token"]
    assert reporter.config.options["jwt_token"] == "a-jwt"
    assert delivery.reporter.get() is reporter and len(looked_up) == 1
