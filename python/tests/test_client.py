"""client.py against a loopback HTTP(S) server: error kinds, 401 -> one refresh + one retry, time budget."""

from __future__ import annotations

import logging
import ssl
import time
import warnings
from pathlib import Path
from typing import Optional

import pytest
from omlineage_devkit.tls import self_signed_cert as _self_signed

from airflow_openmetadata_lineage.auth.base import AuthError, AuthProvider
from airflow_openmetadata_lineage.client import (
    BudgetExhausted,
    NotFoundError,
    OpenMetadataClient,
    RejectedError,
    TransientError,
)
from airflow_openmetadata_lineage.config import LineageConfig
from omstub import OMStub


class Tokens(AuthProvider):
    """Hands out tokens from a list; `invalidate` moves to the next one."""

    name = "test"

    def __init__(self, config: LineageConfig, tokens: list[Optional[str]]) -> None:
        super().__init__(config)
        self.tokens = tokens
        self.index = 0
        self.invalidations = 0
        self.fetches = 0

    def token(self, deadline: Optional[float] = None) -> Optional[str]:
        self.fetches += 1
        return self.tokens[min(self.index, len(self.tokens) - 1)]

    def invalidate(self) -> None:
        self.invalidations += 1
        self.index += 1


class Failing(AuthProvider):
    name = "failing"

    def token(self, deadline: Optional[float] = None) -> Optional[str]:
        raise AuthError("failing: token endpoint https://idp/token answered 503")


def make_config(url: str, **kw: object) -> LineageConfig:
    return LineageConfig(service_name="MWAA", endpoint=url, auth_provider_type="no-auth", options={}, **kw)


def client_for(stub: OMStub, tokens: list[Optional[str]], **kw: object) -> tuple[OpenMetadataClient, Tokens]:
    config = make_config(stub.url, **kw)
    auth = Tokens(config, tokens)
    return OpenMetadataClient(config, auth), auth


def test_get_sends_bearer_and_parses_json(stub: OMStub) -> None:
    client, _ = client_for(stub, ["tok-1"])
    assert client.get("/v1/system/version") == {"version": "1.12.14"}
    assert stub.requests[-1][3] == "Bearer tok-1"


def test_no_token_no_header(stub: OMStub) -> None:
    client, _ = client_for(stub, [None])
    client.get("/v1/system/version")
    assert stub.requests[-1][3] is None


def test_401_refreshes_once_and_retries(stub: OMStub) -> None:
    stub.valid_tokens = {"fresh"}
    client, auth = client_for(stub, ["stale", "fresh"])
    assert client.get("/v1/system/version") == {"version": "1.12.14"}
    assert [r[3] for r in stub.requests] == ["Bearer stale", "Bearer fresh"]
    assert auth.invalidations == 1


def test_401_twice_is_rejected_without_a_loop(stub: OMStub) -> None:
    stub.valid_tokens = {"never"}
    client, auth = client_for(stub, ["a", "b", "c"])
    with pytest.raises(RejectedError) as info:
        client.get("/v1/system/version")
    assert info.value.status == 401
    assert len(stub.requests) == 2 and auth.invalidations == 1
    assert "Bearer" not in str(info.value) and "b" not in str(info.value).split(":")[-1]


def test_static_token_not_retried(stub: OMStub) -> None:
    stub.valid_tokens = {"other"}
    client, auth = client_for(stub, ["same", "same"])
    with pytest.raises(RejectedError):
        client.get("/v1/system/version")
    assert len(stub.requests) == 1 and auth.invalidations == 1


@pytest.mark.parametrize(
    "status, kind",
    [
        (404, NotFoundError),
        (400, RejectedError),
        (403, RejectedError),
        (409, RejectedError),
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (429, TransientError),
    ],
)
def test_error_kinds(stub: OMStub, status: int, kind: type[Exception]) -> None:
    stub.fail_next["/v1/system/version"] = [status]
    client, _ = client_for(stub, ["secret-token-value"])
    with pytest.raises(kind) as info:
        client.get("/v1/system/version")
    assert f"GET /v1/system/version: HTTP {status}: injected" == str(info.value)
    assert "secret-token-value" not in str(info.value)


def test_transient_is_not_rejected() -> None:
    assert not issubclass(TransientError, RejectedError) and not issubclass(NotFoundError, TransientError)
    assert issubclass(BudgetExhausted, TransientError)


def test_per_request_timeout(stub: OMStub) -> None:
    stub.delay = 2.0
    client, _ = client_for(stub, [None], timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TransientError, match=r"timed out after 0\.30s"):
        client.get("/v1/system/version")
    assert time.monotonic() - started < 1.0


def test_timeout_capped_by_deadline(stub: OMStub) -> None:
    stub.delay = 2.0
    client, _ = client_for(stub, [None], timeout=5.0)
    started = time.monotonic()
    with pytest.raises(TransientError, match="timed out"):
        client.get("/v1/system/version", deadline=started + 0.4)
    assert time.monotonic() - started < 1.0


def test_dripping_body_bounded_by_deadline(stub: OMStub) -> None:
    """Each byte comes within the read timeout, the whole would take ~2.5 s: the deadline still ends it."""
    stub.drip = 0.1
    client, _ = client_for(stub, [None], timeout=5.0)
    started = time.monotonic()
    with pytest.raises(BudgetExhausted, match="arrived too slowly"):
        client.get("/v1/system/version", deadline=started + 0.5)
    assert time.monotonic() - started < 0.5 + 0.3


def test_slow_drip_gap_bounded_by_deadline(stub: OMStub) -> None:
    """Bytes at 0, 0.3, 0.6 s, then a 5 s gap; deadline 1.5 s: the wait in that gap ends at the deadline, not
    a full read timeout (~1.3 s, set when the request started, so at ~1.9 s)."""
    stub.drip = [0.3, 0.3, 5.0]
    client, _ = client_for(stub, [None], timeout=5.0)
    started = time.monotonic()
    with pytest.raises(BudgetExhausted):
        client.get("/v1/system/version", deadline=started + 1.5)
    assert time.monotonic() - started < 1.5 + 0.2


def test_gzip_answers_decoded(stub: OMStub) -> None:
    stub.gzip = True
    client, _ = client_for(stub, [None])
    assert client.get("/v1/system/version", deadline=time.monotonic() + 5) == {"version": "1.12.14"}
    stub.fail_next["/v1/system/version"] = [503]
    with pytest.raises(TransientError, match="HTTP 503: injected"):  # error bodies too
        client.get("/v1/system/version")


def test_exhausted_budget_sends_nothing(stub: OMStub) -> None:
    client, _ = client_for(stub, [None])
    with pytest.raises(BudgetExhausted):
        client.get("/v1/system/version", deadline=time.monotonic() - 1)
    assert stub.requests == []


def test_auth_failure_is_transient_and_names_provider(stub: OMStub) -> None:
    config = make_config(stub.url)
    client = OpenMetadataClient(config, Failing(config))
    with pytest.raises(TransientError, match="no token from failing: failing: token endpoint"):
        client.get("/v1/system/version")
    assert stub.requests == []


def test_connection_refused_is_transient() -> None:
    client = OpenMetadataClient(make_config("http://127.0.0.1:9/api"), Tokens(make_config("x"), [None]))
    with pytest.raises(TransientError, match=r"cannot connect to 127\.0\.0\.1:9"):
        client.get("/v1/system/version")


def test_malformed_json_is_transient(stub: OMStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stub, "handle", lambda *args: (200, b'{"version": '))
    client, _ = client_for(stub, [None])
    with pytest.raises(TransientError, match="HTTP 200 with a body that is not JSON"):
        client.get("/v1/system/version")


def test_empty_success_is_none(stub: OMStub) -> None:
    stub.seed_tables("s.d.x.a")
    client, _ = client_for(stub, [None])
    table_id = stub.tables["s.d.x.a"]
    body = {"edge": {"fromEntity": {"id": table_id}, "toEntity": {"id": table_id}, "lineageDetails": {}}}
    assert client.put("/v1/lineage", body) is None


# -- TLS: `verify` must win over REQUESTS_CA_BUNDLE (FACTS.md) -----------------------------------------------


def test_verify_is_passed_per_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cert, key = _self_signed(tmp_path)
    stub = OMStub()
    try:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        stub._server.socket = context.wrap_socket(stub._server.socket, server_side=True)
        url = stub.url.replace("http://127.0.0.1", "https://localhost")
        # The environment names some other CA bundle: only a per-request verify= beats it.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(Path(ssl.get_default_verify_paths().cafile or cert)))
        ok = OpenMetadataClient(make_config(url, verify=str(cert)), Tokens(make_config(url), [None]))
        assert ok.get("/v1/system/version") == {"version": "1.12.14"}
        bad = OpenMetadataClient(make_config(url, verify=True), Tokens(make_config(url), [None]))
        with pytest.raises(TransientError, match="SSLError"):
            bad.get("/v1/system/version")
        # verify_ssl=false: works, says so once in the log, and no urllib3 warning per request
        with caplog.at_level(logging.WARNING, logger="airflow_openmetadata_lineage"):
            unchecked = OpenMetadataClient(make_config(url, verify=False), Tokens(make_config(url), [None]))
        assert "verify_ssl=false" in caplog.text
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            assert unchecked.get("/v1/system/version") == {"version": "1.12.14"}
        assert [w for w in seen if "Unverified HTTPS" in str(w.message)] == []
    finally:
        stub.close()
