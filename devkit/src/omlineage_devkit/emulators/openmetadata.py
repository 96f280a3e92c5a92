"""OpenMetadata 1.x REST API emulator for tests (run it from `.venvs/oracle`).

    .venvs/oracle/bin/python -m omlineage_devkit.emulators.openmetadata --port 0 --port-file /tmp/om.port

Every request body is validated with the official generated pydantic models of openmetadata-ingestion
(the schema oracle); errors are answered like the real server, `{"code": N, "message": "..."}`:
400 (invalid body, invalid task name, invalid field, invalid patch), 415 (body not application/json; a PATCH
not application/json-patch+json), 401 (missing, malformed, foreign-signed or expired token; a bot token that
is not the bot's current one), 404 (`"<entity> instance for <fqn> not found"`), 409 (POST of an existing
entity).

Update rules, as the real server applies them (openmetadata-service, cited by class):
- Auth is on (there is no no-auth mode since 1.0). A bot's JWT must be the bot's current token
  (`JwtFilter` checks bot tokens against the one stored for the bot; minting one here makes it current).
  An SSO token whose principal is no user gets 404 "user instance for <name> not found" on every
  authorized call (`DefaultAuthorizer` -> `SubjectContext` looks the user up); the principal is the first of
  the claims email, preferred_username, sub, cut at "@" (`SecurityUtil.findUserNameFromClaims`).
  `/v1/system/version` needs no token.
- `PUT /v1/services/pipelineServices` on an existing service replaces its connection
  (`ServiceEntityRepository.ServiceUpdater.updateConnection`).
- `PUT /v1/pipelines` on an existing pipeline: by a non-bot the description and display name become the
  request's (cleared when absent); by a bot a non-empty stored description / display name / task
  description is kept (`EntityRepository.EntityUpdater.updateDescription`/`updateDisplayName`,
  `PipelineRepository.PipelineUpdater.updateTaskDescription`: "Revert the non-empty task description if
  being updated by a bot"); owners are not removed by a PUT that names none; tags are merged
  (`EntityUpdater.updateTags`: a PUT merges the request's tags with the stored ones); domains and data
  products a PUT does not name are kept (not confirmed from source: assumed like owners).
- `PATCH /v1/pipelines/{id}` applies a JSON Patch (RFC 6902) to the stored entity; id, name, FQN and
  service cannot change; the result must be a valid Pipeline.
- `PUT /v1/lineage` replaces the stored `lineageDetails` of the edge (`LineageRepository.addLineage`
  inserts the request's details over the stored row and sets createdAt/createdBy again; both ends and
  `lineageDetails.pipeline` are resolved with `Entity.getEntityReferenceById(..., NON_DELETED)` first, so
  an unknown or deleted one is a 404);
  `GET /v1/lineage/getLineageEdge/{fromId}/{toId}` answers `{"edge": <lineageDetails>}` or 404 "Lineage
  edge not found between ..."; `PATCH /v1/lineage/{fromEntity}/{fromId}/{toEntity}/{toId}` applies a JSON
  Patch to the stored details (`LineageRepository.patchLineageEdge`). On every write, column lineage naming
  columns the tables lack is dropped silently (`LineageRepository.validateLineageDetails`).
- A pipeline status PUT replaces the record at that timestamp; task names must exist (400 "Invalid task
  name"); the status list of an unknown pipeline reads as 200 with no data.

Latency model (emulators/latency.py; off unless set): every /api/ answer waits `fixed_ms` +
`per_kind_ms[kind]` + uniform [0, `jitter_ms`] after the request was handled, and with `drip_bytes_per_s`
its body is sent at that rate. Kinds: `read` (GET), `status_put` (PUT .../pipelines/{fqn}/status),
`lineage_put` (PUT /v1/lineage, PATCH /v1/lineage/...), `write` (any other PUT/POST/PATCH). The request
log entry carries its `kind` and the `latency_ms` slept. Why status and lineage PUTs are the slow kinds on a
real server: they update the search index synchronously inside the request. `LineageRepository.addLineage`
inserts the relationship and then calls `addLineageToSearch` (an Elasticsearch/OpenSearch update of both
entities' lineage documents) before it answers; `PipelineRepository.addPipelineStatus` writes the time-series
row and re-indexes the pipeline (the entity's search document carries its latest status), where a GET is one
cached DB read (openmetadata-service, org.openmetadata.service.jdbi3). Faults still apply first (a `delay`
fault adds to the model, a `status` fault answer is delayed like any other answer; a `reset` is not).

Emulated, in memory: pipeline services; pipelines with tasks (FQNs `service.pipeline[.task]`, names
with dots quoted), version bump on a write that changes something; statuses per timestamp; tables with
columns (seeded through the admin API); lineage edges keyed by (from, to); users and bots;
`GET /v1/system/version` (version settable); `GET /v1/users/loggedInUser`.

Not emulated: search / Elasticsearch, list endpoints and pagination, DELETE, soft delete, change events,
owners/tags/domains resolution (accepted as sent, not checked), roles and policies (any known principal may
do anything), lineage depth > 1 and service/domain lineage, issuer checks on SSO tokens, entity types other
than pipeline services, pipelines and tables. Request bodies are checked against the models of the server
line the emulator reports (`POST /__admin/server {"version"}`): 1.3, 1.6, 1.9, 1.12 (the oracle venv), 2.0
(omlineage_devkit/emulators/schema_lines.py); only the routes and rules above are emulated for every line.

Test-only admin API under `/__admin/` (no auth): `POST reset`, `POST tables {"fqns": [...], "columns":
{fqn: [name, ...]}}`, `GET state`, `GET|DELETE requests`, `POST auth {"enabled", "jwks_urls", "ca_bundle",
"audience", "users"}`, `POST token {"sub", "ttl", "bot"}` (a bot token becomes that bot's current one),
`POST server {"version", "edge_api"}` (`edge_api: false`: a server without getLineageEdge and lineage
PATCH), `POST faults {"rules": [...]}` (modes: status, delay, reset, malformed, retry_after, trickle = a
200 whose body drips one byte per delay_ms for `chunks` bytes), `POST latency {"fixed_ms", "per_kind_ms":
{"read", "status_put", "lineage_put", "write"}, "jitter_ms", "drip_bytes_per_s", "seed"}` / `GET latency`
(the latency model below; `--latency JSON` or env OM_EMULATOR_LATENCY sets it at start-up, and `reset`
goes back to that start-up model). Audience is checked on SSO (JWKS) tokens
only: bot tokens carry none. Bot and user tokens minted here survive `reset` (they are identities).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonpatch
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, g, request

# Imported up front (several seconds): readiness means the schema oracle is loaded.
from metadata.generated.schema.api.data.createPipeline import CreatePipelineRequest
from metadata.generated.schema.api.lineage.addLineage import AddLineageRequest
from metadata.generated.schema.api.services.createPipelineService import (
    CreatePipelineServiceRequest,
)
from metadata.generated.schema.entity.data.pipeline import Pipeline, PipelineStatus
from metadata.generated.schema.type.entityLineage import LineageDetails
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from omlineage_devkit.emulators.latency import LatencyModel, kind_of
from omlineage_devkit.emulators.schema_lines import LINES  # the one list of lines

SERVER_VERSION = "1.12.14"
BOT_ISSUER = "open-metadata.org"


class InjectedReset(Exception):
    """The connection is already gone; werkzeug's failing write is silenced (see serve())."""


class ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------------------------------------- FQN helpers
def quote_name(name: str) -> str:
    """Like FullyQualifiedName.quoteName: a name containing a dot is wrapped in double quotes."""
    if name.startswith('"') and name.endswith('"') and len(name) > 1:
        return name
    if '"' in name:
        raise ApiError(400, f"Invalid name {name}")
    return f'"{name}"' if "." in name else name


def build_fqn(*parts: str) -> str:
    return ".".join(quote_name(p) for p in parts)


def split_fqn(fqn: str) -> list[str]:
    """Split on dots outside double quotes; quotes are removed from the parts."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in fqn:
        if ch == '"':
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quoted:
        raise ApiError(400, f"Invalid fully qualified name {fqn}")
    parts.append("".join(current))
    return parts


def now_ms() -> int:
    return int(time.time() * 1000)


def validation_message(exc: ValidationError) -> str:
    items = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        items.append(f"{loc} {err.get('msg', 'is invalid')}".strip())
    return "[" + ", ".join(items) + "]"


# ---------------------------------------------------------------------------------------------- state
@dataclass
class FaultRule:
    path_regex: str
    method: str | None
    mode: str
    status: int = 500
    delay_ms: int = 0
    count: int | None = None
    retry_after: int = 1
    chunks: int = 20

    def matches(self, method: str, path: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.method and self.method.upper() != method:
            return False
        return re.search(self.path_regex, path) is not None


@dataclass
class AuthConfig:
    enabled: bool = True
    jwks_urls: list[str] = field(default_factory=list)
    ca_bundle: str | None = None
    audience: str | None = None
    users: list[str] = field(default_factory=list)  # SSO principals that are users in OpenMetadata


class Store:
    """All entities, keyed by FQN; one lock guards everything (requests are tiny)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.services: dict[str, dict[str, Any]] = {}
            self.pipelines: dict[str, dict[str, Any]] = {}
            self.statuses: dict[str, dict[int, dict[str, Any]]] = {}
            self.tables: dict[str, dict[str, Any]] = {}
            self.containers: dict[str, dict[str, Any]] = {}  # database services, databases, schemas
            self.edges: dict[tuple[str, str], dict[str, Any]] = {}
            self.requests: list[dict[str, Any]] = []
            self.faults: list[FaultRule] = []
            # reset() restores the start-up model (--latency), not "none": a loaded server stays loaded
            self.latency = LatencyModel.from_json(getattr(self, "startup_latency", None))
            self.auth = AuthConfig()
            self.server_version = SERVER_VERSION
            self.edge_api = True
            # identities survive a reset: bot name -> its current token; users minted here
            self.bot_tokens: dict[str, str] = getattr(self, "bot_tokens", {})
            self.minted_users: set[str] = getattr(self, "minted_users", set())
            # Bumped by reset: a request still sleeping in a delay fault must not write into the next test.
            self.generation = getattr(self, "generation", 0) + 1

    def by_id(self, entity_type: str, entity_id: str) -> dict[str, Any] | None:
        pool = {"table": self.tables, "pipeline": self.pipelines}.get(entity_type, {})
        for entity in pool.values():
            if entity["id"] == entity_id:
                return entity
        return None


def reference(entity: dict[str, Any], entity_type: str) -> dict[str, Any]:
    return {
        "id": entity["id"],
        "type": entity_type,
        "name": entity["name"],
        "fullyQualifiedName": entity["fullyQualifiedName"],
        "deleted": False,
    }


# ---------------------------------------------------------------------------------------------- auth
class TokenVerifier:
    """Checks bearer tokens: RS256 signed by our own bot key, or by a key from a trusted JWKS URL."""

    def __init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self.private_key.public_key()
        self.kid = uuid.uuid4().hex
        self._jwks_cache: dict[str, tuple[float, jwt.PyJWKSet]] = {}
        self._lock = threading.Lock()

    def mint(self, sub: str, ttl: int | None, bot: bool = True) -> str:
        claims: dict[str, Any] = {
            "iss": BOT_ISSUER,
            "sub": sub,
            "email": f"{sub}@openmetadata.org",
            "isBot": bot,
            "tokenType": "BOT" if bot else "PERSONAL_ACCESS",
            "iat": int(time.time()),
            "jti": uuid.uuid4().hex,  # two tokens minted in the same second differ
        }
        if ttl is not None:
            claims["exp"] = int(time.time()) + int(ttl)
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})

    def _jwks(self, url: str, ca_bundle: str | None) -> jwt.PyJWKSet:
        with self._lock:
            cached = self._jwks_cache.get(url)
            if cached and time.monotonic() - cached[0] < 30:
                return cached[1]
        ctx = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
        with urllib.request.urlopen(url, timeout=5, context=ctx) as resp:  # loopback test IdPs
            keyset = jwt.PyJWKSet.from_dict(json.loads(resp.read()))
        with self._lock:
            self._jwks_cache[url] = (time.monotonic(), keyset)
        return keyset

    def verify(self, token: str, cfg: AuthConfig) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise ApiError(401, "Invalid token: not a JWT") from exc
        if header.get("alg") != "RS256":
            raise ApiError(401, f"Invalid token: algorithm {header.get('alg')} not allowed")
        candidates: list[tuple[Any, bool]] = [(self.public_key, False)]
        # (key, external): external keys come from an IdP's JWKS (SSO tokens)
        for url in cfg.jwks_urls:
            try:
                keyset = self._jwks(url, cfg.ca_bundle)
            except Exception as exc:  # an unreachable IdP must not turn into a 500
                print(f"openmetadata-emulator: JWKS {url} unreachable: {exc}", file=sys.stderr)
                continue
            for key in keyset.keys:
                if header.get("kid") in (None, key.key_id):
                    candidates.append((key.key, True))
        for key, external in candidates:
            options = {"verify_aud": bool(external and cfg.audience)}
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["RS256"],
                    audience=cfg.audience if external and cfg.audience else None,
                    options=options,
                )
                claims["_external"] = external
                return claims
            except jwt.ExpiredSignatureError as exc:
                raise ApiError(401, "Expired token!") from exc
            except jwt.InvalidAudienceError as exc:
                raise ApiError(401, "Invalid token: wrong audience") from exc
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as exc:
                raise ApiError(401, f"Invalid token: {exc}") from exc
        raise ApiError(401, "Invalid token: signature does not verify against any trusted key")


def principal_name(claims: dict[str, Any]) -> str:
    """SecurityUtil.findUserNameFromClaims with the default jwtPrincipalClaims: email, preferred_username,
    sub; the first present, cut at '@'."""
    for claim in ("email", "preferred_username", "sub"):
        value = claims.get(claim)
        if isinstance(value, str) and value:
            return value.split("@", 1)[0]
    raise ApiError(401, "Invalid token: no principal claim")


# ---------------------------------------------------------------------------------------------- app
def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def error(code: int, message: str) -> Response:
    return json_response({"code": code, "message": message}, code)


class SchemaLines:
    """Bodies checked against the request models of the emulated server's line (schema_lines.py beside this
    file): the newest line not newer than the reported version. The oracle venv's own models stand for 1.12
    (in process); other lines run as workers in `.venvs/om-<line>` (schema_lines.py by path: no kit there)."""

    IN_PROCESS = (1, 12)

    def __init__(self, venvs: str | None) -> None:
        self.venvs = venvs
        self.workers: dict[str, tuple[Any, threading.Lock]] = {}
        self.lock = threading.Lock()
        here = os.path.dirname(os.path.abspath(__file__))
        self.lines = {tuple(int(p) for p in line.split(".")): line for line in LINES}
        self.script = os.path.join(here, "schema_lines.py")

    def warm_up(self) -> None:
        """Start every available line's worker in the background (1.9 / 2.0 import for many seconds)."""
        for line in self.lines.values():
            if os.path.exists(os.path.join(self.venvs or "", f"om-{line}", "bin", "python")):
                threading.Thread(target=self._worker, args=(line,), daemon=True).start()

    def line_for(self, version: str) -> str | None:
        try:
            wanted = tuple(int(p) for p in version.split(".")[:2])
        except ValueError:
            return None
        known = sorted([*self.lines, self.IN_PROCESS])
        older = [v for v in known if v <= wanted] or known[:1]
        return None if older[-1] == self.IN_PROCESS else self.lines[older[-1]]

    def _worker(self, line: str) -> tuple[Any, threading.Lock]:
        import subprocess

        with self.lock:
            starting = self.workers.get(line)
            if starting is None:
                self.workers[line] = starting = (None, threading.Lock())
        with starting[1]:  # one start per line; callers of a line still starting wait here
            if self.workers[line][0] is None:
                python = os.path.join(self.venvs or "", f"om-{line}", "bin", "python")
                if not self.venvs or not os.path.exists(python):
                    raise ApiError(
                        500, f"emulator: no request models for server line {line}: {python} missing"
                    )
                proc = subprocess.Popen(
                    [python, self.script, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
                )
                proc.stdout.readline()  # {"ready": true}: the models are imported
                self.workers[line] = (proc, threading.Lock())
        return self.workers[line]

    def error(self, model: str, body: Any, version: str) -> str | None:
        """None when `body` is a valid `model` on that server line, else the models' message."""
        line = self.line_for(version)
        if line is None:
            return "in-process"
        proc, lock = self._worker(line)
        with lock:
            proc.stdin.write(json.dumps({"model": model, "body": body}) + "\n")
            proc.stdin.flush()
            answer = json.loads(proc.stdout.readline())
        return None if answer["ok"] else answer["error"]


SCHEMAS = SchemaLines(None)


def check_model(model: type[BaseModel], body: Any, version: str) -> None:
    """Validate with the models of the emulated server's line; 400 with the models' message."""
    other = SCHEMAS.error(model.__name__, body, version)
    if other == "in-process":
        try:
            model.model_validate(body)
        except ValidationError as exc:
            raise ApiError(400, validation_message(exc)) from exc
    elif other is not None:
        raise ApiError(400, other)


def parse_body(model: type[BaseModel], version: str = SERVER_VERSION) -> dict[str, Any]:
    if request.mimetype != "application/json":  # Jersey answers a wrong Content-Type before reading the body
        raise ApiError(415, "HTTP 415 Unsupported Media Type")
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        raise ApiError(400, f"Unable to process JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "Unable to process JSON: request body must be a JSON object")
    check_model(model, body, version)
    return body


def parse_patch() -> list[dict[str, Any]]:
    """A JSON Patch body: OpenMetadata's PATCH endpoints consume application/json-patch+json only."""
    if request.mimetype != "application/json-patch+json":
        raise ApiError(415, "HTTP 415 Unsupported Media Type")
    try:
        ops = json.loads(request.get_data(cache=True) or b"null")
    except ValueError as exc:
        raise ApiError(400, f"Unable to process JSON: {exc}") from exc
    if not isinstance(ops, list):
        raise ApiError(400, "Unable to process JSON: a JSON Patch is a list of operations")
    return ops


def apply_json_patch(document: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        return jsonpatch.JsonPatch(ops).apply(json.loads(json.dumps(document)))
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
        raise ApiError(400, f"Invalid JSON Patch: {exc}") from exc


def trickle(delay_ms: int, chunks: int) -> Iterator[bytes]:
    """A 200 whose JSON body arrives one space every `delay_ms`: each read is quick, the whole is slow."""
    yield b"{"
    for _ in range(chunks):
        time.sleep(delay_ms / 1000)
        yield b" "
    yield b'"version": "trickled"}'


def reset_connection() -> None:
    """Drop the client's TCP connection with a RST (SO_LINGER 0) and make the server's write fail fast."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        raise ApiError(500, "connection reset fault needs werkzeug's dev server")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    fd = sock.detach()
    socket.socket(fileno=fd).close()
    raise InjectedReset()


def create_app(store: Store, verifier: TokenVerifier) -> Flask:
    app = Flask("openmetadata-emulator")
    app.json.sort_keys = False  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ request log, faults, auth
    @app.before_request
    def _before() -> Response | None:
        g.start = time.monotonic()
        g.subject = None
        g.generation = store.generation
        path = request.path
        if path.startswith("/__admin/"):
            return None
        _open_log_entry()
        rule: FaultRule | None = None
        with store.lock:
            for candidate in store.faults:
                if candidate.matches(request.method, path):
                    if candidate.count is not None:
                        candidate.count -= 1
                    rule = candidate
                    break
        if rule is not None:
            g.fault = rule.mode
            if rule.mode == "delay":
                time.sleep(rule.delay_ms / 1000)
                if store.generation != g.generation:
                    return error(503, "Emulator was reset during an injected delay")
            elif rule.mode == "status":
                return error(rule.status, f"Injected fault: HTTP {rule.status}")
            elif rule.mode == "retry_after":
                resp = error(429, "Too many requests")
                resp.headers["Retry-After"] = str(rule.retry_after)
                return resp
            elif rule.mode == "malformed":
                return Response('{"id": "', status=200, mimetype="application/json")
            elif rule.mode == "trickle":
                return Response(trickle(rule.delay_ms, rule.chunks), status=200, mimetype="application/json")
            elif rule.mode == "reset":
                _log(0)  # the client sees no status at all
                reset_connection()
        with store.lock:
            auth = AuthConfig(**vars(store.auth))
        if auth.enabled and path.startswith("/api/") and path != "/api/v1/system/version":
            header = request.headers.get("Authorization", "")
            if not header:
                raise ApiError(401, "Not Authorized! Token not present")
            if not header.startswith("Bearer ") or not header[7:].strip():
                raise ApiError(401, "Not Authorized! Token not present")
            token = header[7:].strip()
            claims = verifier.verify(token, auth)
            name = principal_name(claims)
            if claims.pop("_external"):
                if name not in auth.users:  # DefaultAuthorizer: the principal must be a user
                    raise ApiError(404, f"user instance for {name} not found")
                g.is_bot = False
            elif claims.get("isBot") is True:
                with store.lock:
                    current = store.bot_tokens.get(claims.get("sub") or "")
                if current != token:  # revoked or regenerated: only the bot's current token works
                    raise ApiError(401, "Not Authorized! Invalid Token")
                g.is_bot = True
            else:
                g.is_bot = False
            g.subject = name
        return None

    def _open_log_entry() -> None:
        """Log the request as it arrives (status None while in flight: a client may give up first)."""
        raw = request.get_data(cache=True)
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        g.entry = {
            "method": request.method,
            "path": request.path,
            "query": request.query_string.decode(),
            "status": None,
            "duration_ms": None,
            "subject": None,
            "fault": None,
            "kind": kind_of(request.method, request.path),
            "latency_ms": None,
            "body": body,
            "time": time.time(),
        }
        with store.lock:
            store.requests.append(g.entry)

    def _log(status: int) -> None:
        entry = g.get("entry")
        if entry is None or entry["status"] is not None:
            return  # admin call, or already final (an injected reset is logged as status 0)
        with store.lock:
            entry.update(
                status=status,
                duration_ms=round((time.monotonic() - g.start) * 1000, 1),
                subject=g.get("subject"),
                fault=g.get("fault"),
            )

    @app.after_request
    def _after(resp: Response) -> Response:
        if request.path.startswith("/__admin/"):
            return resp
        with store.lock:
            model = store.latency
        if model.active and g.get("entry") is not None and g.get("fault") != "reset":
            # the work is done (state written); the client now waits as on a loaded server (latency.py)
            g.entry["latency_ms"] = model.wait(g.entry["kind"])
            if model.drip_bytes_per_s and not resp.is_streamed:
                body = resp.get_data()
                resp.response = model.drip([body])
                resp.headers["Content-Length"] = str(len(body))
        _log(resp.status_code)
        return resp

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error(exc.code, exc.message)

    @app.errorhandler(InjectedReset)
    def _reset(_: InjectedReset) -> Response:
        return Response(status=500)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return error(exc.code or 500, f"HTTP {exc.code} {exc.name}")

    # ------------------------------------------------------------------ system
    @app.get("/api/v1/system/version")
    def version() -> Response:
        with store.lock:
            version = store.server_version
        return json_response({"version": version, "revision": "emulator", "timestamp": now_ms()})

    @app.get("/api/v1/users/loggedInUser")
    def logged_in_user() -> Response:
        name = g.get("subject") or "anonymous"
        return json_response(
            {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)), "name": name, "isBot": bool(g.get("is_bot"))}
        )

    # ------------------------------------------------------------------ pipeline services
    def upsert_service(create_only: bool) -> Response:
        body = parse_body(CreatePipelineServiceRequest, store.server_version)
        name = body["name"]
        fqn = build_fqn(name)
        with store.lock:
            existing = store.services.get(fqn)
            if existing and create_only:
                raise ApiError(409, "Entity already exists")
            entity = dict(existing or {"id": str(uuid.uuid4()), "version": 0.1})
            before = json.dumps(existing, sort_keys=True) if existing else None
            entity.update({k: v for k, v in body.items()})
            entity.update({"name": name, "fullyQualifiedName": fqn, "deleted": False})
            entity.setdefault("href", f"{request.host_url}api/v1/services/pipelineServices/{entity['id']}")
            if existing and json.dumps(entity, sort_keys=True) != before:
                entity["version"] = round(entity["version"] + 0.1, 1)
                entity["updatedAt"] = now_ms()
            elif not existing:
                entity["updatedAt"] = now_ms()
            entity["updatedBy"] = g.subject or "anonymous"
            store.services[fqn] = entity
        return json_response(entity, 200 if existing else 201)

    @app.route("/api/v1/services/pipelineServices", methods=["PUT"])
    def put_service() -> Response:
        return upsert_service(create_only=False)

    @app.route("/api/v1/services/pipelineServices", methods=["POST"])
    def post_service() -> Response:
        return upsert_service(create_only=True)

    @app.get("/api/v1/services/pipelineServices/name/<path:fqn>")
    def get_service(fqn: str) -> Response:
        with store.lock:
            entity = store.services.get(fqn)
        if entity is None:
            raise ApiError(404, f"pipelineService instance for {fqn} not found")
        return json_response(entity)

    # ------------------------------------------------------------------ pipelines
    optional_pipeline_fields = {"tasks", "owners", "tags", "followers", "pipelineStatus", "domains", "votes"}

    def pipeline_view(entity: dict[str, Any], fields: str | None) -> dict[str, Any]:
        wanted = {f.strip() for f in (fields or "").split(",") if f.strip()}
        if "*" in wanted:  # the real server's EntityRepository.getFields: "*" means every allowed field
            wanted = set(optional_pipeline_fields)
        allowed = set(Pipeline.model_fields) | {"followers", "votes", "extension"}
        for name in wanted:
            if name not in allowed:
                raise ApiError(400, f"Invalid field name {name}")
        view = {k: v for k, v in entity.items() if k not in optional_pipeline_fields or k in wanted}
        if "pipelineStatus" in wanted:
            statuses = store.statuses.get(entity["fullyQualifiedName"], {})
            if statuses:
                view["pipelineStatus"] = statuses[max(statuses)]
        return view

    def upsert_pipeline(create_only: bool) -> Response:
        body = parse_body(CreatePipelineRequest, store.server_version)
        service_fqn = body["service"]
        with store.lock:
            service = store.services.get(service_fqn)
            if service is None:
                raise ApiError(404, f"pipelineService instance for {service_fqn} not found")
            fqn = build_fqn(*split_fqn(service["fullyQualifiedName"]), body["name"])
            existing = store.pipelines.get(fqn)
            if existing and create_only:
                raise ApiError(409, "Entity already exists")
            tasks = []
            for task in body.get("tasks") or []:
                task = dict(task)
                task["fullyQualifiedName"] = build_fqn(*split_fqn(fqn), task["name"])
                task.setdefault("tags", [])
                tasks.append(task)
            entity = {k: v for k, v in body.items() if k != "service"}
            entity.update(
                {
                    "id": existing["id"] if existing else str(uuid.uuid4()),
                    "name": body["name"],
                    "fullyQualifiedName": fqn,
                    "tasks": tasks,
                    "service": reference(service, "pipelineService"),
                    "serviceType": service.get("serviceType"),
                    "deleted": False,
                    "owners": body.get("owners") or [],
                    "tags": body.get("tags") or [],
                }
            )
            entity["href"] = f"{request.host_url}api/v1/pipelines/{entity['id']}"
            if existing:
                apply_put_rules(existing, entity, body)
                changed = _comparable(existing) != _comparable(entity)
                entity["version"] = round(existing["version"] + (0.1 if changed else 0), 1)
                entity["updatedAt"] = now_ms() if changed else existing["updatedAt"]
                entity["updatedBy"] = (g.subject or "anonymous") if changed else existing["updatedBy"]
            else:
                entity.update({"version": 0.1, "updatedAt": now_ms(), "updatedBy": g.subject or "anonymous"})
            store.pipelines[fqn] = entity
            view = pipeline_view(entity, "tasks,owners,tags")
        return json_response(view, 200 if existing else 201)

    def apply_put_rules(stored: dict[str, Any], updated: dict[str, Any], body: dict[str, Any]) -> None:
        """What a PUT over an existing pipeline keeps (see the module docstring for the server classes)."""
        if g.get("is_bot"):
            keep_descriptions_from_bot_put(stored, updated)
        if not body.get("owners"):
            updated["owners"] = stored.get("owners") or []
        tags = {t.get("tagFQN"): t for t in stored.get("tags") or []}
        tags.update({t.get("tagFQN"): t for t in body.get("tags") or []})
        updated["tags"] = list(tags.values())
        for key in ("domains", "dataProducts"):
            if key not in body and stored.get(key):
                updated[key] = stored[key]
        old_tasks = {t["name"]: t for t in stored.get("tasks") or []}
        for task in updated.get("tasks") or []:
            old = old_tasks.get(task["name"])
            if old:
                task_tags = {t.get("tagFQN"): t for t in old.get("tags") or []}
                task_tags.update({t.get("tagFQN"): t for t in task.get("tags") or []})
                task["tags"] = list(task_tags.values())
                if not task.get("owners") and old.get("owners"):
                    task["owners"] = old["owners"]

    def keep_descriptions_from_bot_put(stored: dict[str, Any], updated: dict[str, Any]) -> None:
        """Like EntityRepository / PipelineUpdater: a bot's PUT does not overwrite a non-empty description or
        display name."""
        for key in ("description", "displayName"):
            if stored.get(key):
                updated[key] = stored[key]
        old_tasks = {t["name"]: t for t in stored.get("tasks") or []}
        for task in updated.get("tasks") or []:
            old = old_tasks.get(task["name"])
            if old and old.get("description"):
                task["description"] = old["description"]

    def _comparable(entity: dict[str, Any]) -> str:
        skip = {"version", "updatedAt", "updatedBy", "href"}
        return json.dumps({k: v for k, v in entity.items() if k not in skip}, sort_keys=True)

    @app.route("/api/v1/pipelines", methods=["PUT"])
    def put_pipeline() -> Response:
        return upsert_pipeline(create_only=False)

    @app.route("/api/v1/pipelines", methods=["POST"])
    def post_pipeline() -> Response:
        return upsert_pipeline(create_only=True)

    def find_pipeline(fqn: str) -> dict[str, Any]:
        entity = store.pipelines.get(fqn)
        if entity is None:
            raise ApiError(404, f"pipeline instance for {fqn} not found")
        return entity

    @app.route("/api/v1/pipelines/<entity_id>", methods=["PATCH"])
    def patch_pipeline(entity_id: str) -> Response:
        ops = parse_patch()
        with store.lock:
            stored = store.by_id("pipeline", entity_id)
            if stored is None:
                raise ApiError(404, f"pipeline instance for {entity_id} not found")
            patched = apply_json_patch(stored, ops)
            for key in ("id", "name", "fullyQualifiedName", "service"):
                if patched.get(key) != stored.get(key):
                    raise ApiError(400, f"Field {key} cannot be changed")
            # the emulator's own empty defaults (owners: [] ...) are not part of what an older line stores
            entity = {k: v for k, v in patched.items() if k != "href" and v not in ([], None)}
            check_model(Pipeline, entity, store.server_version)
            for task in patched.get("tasks") or []:
                task["fullyQualifiedName"] = build_fqn(
                    *split_fqn(patched["fullyQualifiedName"]), task["name"]
                )
                task.setdefault("tags", [])
            if _comparable(patched) != _comparable(stored):
                patched["version"] = round(stored["version"] + 0.1, 1)
                patched["updatedAt"] = now_ms()
                patched["updatedBy"] = g.subject or "anonymous"
            store.pipelines[stored["fullyQualifiedName"]] = patched
            view = pipeline_view(patched, "tasks,owners,tags")
        return json_response(view)

    @app.route("/api/v1/pipelines/<path:fqn>/status", methods=["PUT"])
    def put_status(fqn: str) -> Response:
        body = parse_body(PipelineStatus, store.server_version)
        with store.lock:
            entity = find_pipeline(fqn)
            names = {t["name"] for t in entity.get("tasks") or []}
            for status in body.get("taskStatus") or []:
                if status["name"] not in names:
                    raise ApiError(400, f"Invalid task name {status['name']}")
            store.statuses.setdefault(fqn, {})[int(body["timestamp"])] = body
            view = pipeline_view(entity, "tasks")
        view["pipelineStatus"] = body
        return json_response(view)

    @app.get("/api/v1/pipelines/<path:fqn>/status")
    def get_status(fqn: str) -> Response:
        try:
            start = int(request.args["startTs"])
            end = int(request.args["endTs"])
        except (KeyError, ValueError) as exc:
            raise ApiError(400, "query param startTs and endTs must be epoch milliseconds") from exc
        with store.lock:  # an unknown pipeline has no statuses: 200 with no data, like the server's list
            found = [
                s for ts, s in sorted(store.statuses.get(fqn, {}).items(), reverse=True) if start <= ts <= end
            ]
        return json_response({"data": found, "paging": {"total": len(found)}})

    @app.get("/api/v1/pipelines/name/<path:fqn>")
    def get_pipeline(fqn: str) -> Response:
        with store.lock:
            view = pipeline_view(find_pipeline(fqn), request.args.get("fields"))
        return json_response(view)

    # ------------------------------------------------------------------ tables
    @app.get("/api/v1/tables/name/<path:fqn>")
    def get_table(fqn: str) -> Response:
        with store.lock:
            entity = store.tables.get(fqn)
        if entity is None:
            raise ApiError(404, f"table instance for {fqn} not found")
        return json_response(entity)

    # ------------------------------------------------------------------ lineage
    @app.route("/api/v1/lineage", methods=["PUT"])
    def put_lineage() -> Response:
        body = parse_body(AddLineageRequest, store.server_version)
        edge = body["edge"]
        with store.lock:
            ends = []
            for side in ("fromEntity", "toEntity"):
                ref = edge[side]
                entity = store.by_id(ref["type"], ref["id"])
                if entity is None:
                    raise ApiError(404, f"{ref['type']} instance for {ref['id']} not found")
                ends.append(entity)
            details = dict(edge.get("lineageDetails") or {})
            pipe_ref = details.get("pipeline")
            if pipe_ref and store.by_id(pipe_ref["type"], pipe_ref["id"]) is None:
                raise ApiError(404, f"{pipe_ref['type']} instance for {pipe_ref['id']} not found")
            details.setdefault("source", "Manual")
            details["createdAt"] = details["updatedAt"] = now_ms()
            details["createdBy"] = details["updatedBy"] = g.subject or "anonymous"
            valid_columns(details, ends[0], ends[1])
            store.edges[(ends[0]["id"], ends[1]["id"])] = {
                "from": (edge["fromEntity"]["type"], ends[0]["id"]),
                "to": (edge["toEntity"]["type"], ends[1]["id"]),
                "lineageDetails": details,
            }
        return Response(status=200)

    def valid_columns(details: dict[str, Any], src: dict[str, Any], dst: dict[str, Any]) -> None:
        """LineageRepository.validateLineageDetails: column lineage naming unknown columns is dropped."""
        entries = details.get("columnsLineage")
        if not entries:
            return
        src_cols = {c["name"] for c in src.get("columns") or []}
        dst_cols = {c["name"] for c in dst.get("columns") or []}
        kept = []
        for entry in entries:
            if entry.get("toColumn", "").removeprefix(dst["fullyQualifiedName"] + ".") not in dst_cols:
                continue
            sources = [
                c
                for c in entry.get("fromColumns") or []
                if c.removeprefix(src["fullyQualifiedName"] + ".") in src_cols
            ]
            if sources:
                kept.append({**entry, "fromColumns": sources})
        details["columnsLineage"] = kept

    def edge_api_or_404() -> None:
        with store.lock:
            if not store.edge_api:  # an older server: Jersey has no such route
                raise ApiError(404, "HTTP 404 Not Found")

    @app.get("/api/v1/lineage/getLineageEdge/<from_id>/<to_id>")
    def get_lineage_edge(from_id: str, to_id: str) -> Response:
        edge_api_or_404()
        with store.lock:
            edge = store.edges.get((from_id, to_id))
            if edge is None:
                raise ApiError(404, f"Lineage edge not found between {from_id} and  {to_id}")
            return json_response({"edge": edge["lineageDetails"]})

    @app.route("/api/v1/lineage/<from_type>/<from_id>/<to_type>/<to_id>", methods=["PATCH"])
    def patch_lineage_edge(from_type: str, from_id: str, to_type: str, to_id: str) -> Response:
        edge_api_or_404()
        ops = parse_patch()
        with store.lock:
            ends = []
            for kind, ident in ((from_type, from_id), (to_type, to_id)):
                entity = store.by_id(kind, ident)
                if entity is None:
                    raise ApiError(404, f"{kind} instance for {ident} not found")
                ends.append(entity)
            edge = store.edges.get((from_id, to_id))
            if edge is None:
                raise ApiError(
                    404, f"Lineage edge not found between {from_type} {from_id} and {to_type} {to_id}"
                )
            details = apply_json_patch(edge["lineageDetails"], ops)
            check_model(LineageDetails, details, store.server_version)
            pipe_ref = details.get("pipeline")
            if pipe_ref and store.by_id(pipe_ref.get("type", ""), pipe_ref.get("id", "")) is None:
                raise ApiError(404, f"{pipe_ref.get('type')} instance for {pipe_ref.get('id')} not found")
            details["updatedAt"] = now_ms()
            details["updatedBy"] = g.subject or "anonymous"
            valid_columns(details, ends[0], ends[1])
            edge["lineageDetails"] = details
        return json_response(details)

    @app.get("/api/v1/lineage/table/<table_id>")
    def get_lineage_by_id(table_id: str) -> Response:
        with store.lock:
            table = store.by_id("table", table_id)
        if table is None:
            raise ApiError(404, f"table instance for {table_id} not found")
        return lineage_of(table)

    @app.get("/api/v1/lineage/table/name/<path:fqn>")
    def get_lineage(fqn: str) -> Response:
        with store.lock:
            table = store.tables.get(fqn)
        if table is None:
            raise ApiError(404, f"table instance for {fqn} not found")
        return lineage_of(table)

    def lineage_of(table: dict[str, Any]) -> Response:
        with store.lock:
            up, down, nodes = [], [], {}
            for (src, dst), edge in store.edges.items():
                if table["id"] not in (src, dst):
                    continue
                item = {"fromEntity": src, "toEntity": dst, "lineageDetails": edge["lineageDetails"]}
                other = edge["from"] if dst == table["id"] else edge["to"]
                other_entity = store.by_id(*other)
                if other_entity:
                    nodes[other_entity["id"]] = reference(other_entity, other[0])
                (up if dst == table["id"] else down).append(item)
        return json_response(
            {
                "entity": reference(table, "table"),
                "nodes": list(nodes.values()),
                "upstreamEdges": up,
                "downstreamEdges": down,
            }
        )

    # ------------------------------------------------------------------ admin (test-only)
    @app.post("/__admin/reset")
    def admin_reset() -> Response:
        store.reset()
        return json_response({"ok": True})

    @app.post("/__admin/tables")
    def admin_tables() -> Response:
        raw_body = request.get_json(force=True, silent=True) or {}
        fqns = raw_body.get("fqns")
        columns = raw_body.get("columns") or {}
        if not isinstance(fqns, list) or not all(isinstance(f, str) for f in fqns):
            raise ApiError(400, 'admin tables: body must be {"fqns": ["service.db.schema.table", ...]}')
        created = []
        with store.lock:
            for raw in fqns:
                parts = split_fqn(raw)
                if len(parts) != 4 or not all(parts):
                    raise ApiError(400, f"admin tables: {raw!r} is not service.database.schema.table")
                fqn = build_fqn(*parts)
                refs = {}
                for depth, kind in ((1, "databaseService"), (2, "database"), (3, "databaseSchema")):
                    cfqn = build_fqn(*parts[:depth])
                    container = store.containers.setdefault(
                        cfqn, {"id": str(uuid.uuid4()), "name": parts[depth - 1], "fullyQualifiedName": cfqn}
                    )
                    refs[kind] = reference(container, kind)
                table = store.tables.get(fqn) or {
                    "id": str(uuid.uuid4()),
                    "name": parts[3],
                    "fullyQualifiedName": fqn,
                    "tableType": "Regular",
                    "columns": [],
                    "service": refs["databaseService"],
                    "database": refs["database"],
                    "databaseSchema": refs["databaseSchema"],
                    "serviceType": "Mysql",
                    "version": 0.1,
                    "deleted": False,
                }
                if raw in columns or fqn in columns:
                    names = columns.get(raw) or columns.get(fqn) or []
                    table["columns"] = [
                        {
                            "name": n,
                            "dataType": "VARCHAR",
                            "fullyQualifiedName": build_fqn(*parts, n),
                        }
                        for n in names
                    ]
                store.tables[fqn] = table
                created.append({"fqn": fqn, "id": table["id"]})
        return json_response({"tables": created})

    @app.get("/__admin/state")
    def admin_state() -> Response:
        with store.lock:
            names = {
                e["id"]: e["fullyQualifiedName"] for e in [*store.tables.values(), *store.pipelines.values()]
            }
            edges = []
            for edge in store.edges.values():
                pipe = (edge["lineageDetails"].get("pipeline") or {}).get("id")
                edges.append(
                    {
                        "from": names.get(edge["from"][1]),
                        "to": names.get(edge["to"][1]),
                        "pipeline": names.get(pipe) if pipe else None,
                        "lineageDetails": edge["lineageDetails"],
                    }
                )
            state = {
                "services": list(store.services.values()),
                "pipelines": [pipeline_view(p, "tasks,owners,tags") for p in store.pipelines.values()],
                "statuses": {fqn: [s[ts] for ts in sorted(s)] for fqn, s in store.statuses.items()},
                "edges": edges,
                "tables": {fqn: t["id"] for fqn, t in store.tables.items()},
            }
        return json_response(state)

    @app.get("/__admin/requests")
    def admin_requests() -> Response:
        with store.lock:
            return json_response(list(store.requests))

    @app.delete("/__admin/requests")
    def admin_clear_requests() -> Response:
        with store.lock:
            store.requests.clear()
        return json_response({"ok": True})

    @app.post("/__admin/auth")
    def admin_auth() -> Response:
        body = request.get_json(force=True, silent=True) or {}
        unknown = set(body) - {"enabled", "jwks_urls", "ca_bundle", "audience", "users"}
        if unknown:
            raise ApiError(400, f"admin auth: unknown keys {sorted(unknown)}")
        with store.lock:
            store.auth = AuthConfig(
                enabled=bool(body.get("enabled", False)),
                jwks_urls=list(body.get("jwks_urls") or []),
                ca_bundle=body.get("ca_bundle"),
                audience=body.get("audience"),
                users=list(body.get("users") or []),
            )
        return json_response({"ok": True})

    @app.post("/__admin/server")
    def admin_server() -> Response:
        body = request.get_json(force=True, silent=True) or {}
        with store.lock:
            if "version" in body:
                store.server_version = str(body["version"])
            if "edge_api" in body:
                store.edge_api = bool(body["edge_api"])
        return json_response({"ok": True})

    @app.post("/__admin/token")
    def admin_token() -> Response:
        body = request.get_json(force=True, silent=True) or {}
        ttl = body.get("ttl", 3600)
        sub = str(body.get("sub", "ingestion-bot"))
        bot = body.get("bot", True) is not False
        token = verifier.mint(sub, ttl, bot)
        with store.lock:
            if bot:
                store.bot_tokens[sub] = token  # regenerating a bot's token revokes the one before
            else:
                store.minted_users.add(sub)
        return json_response({"token": token})

    @app.post("/__admin/latency")
    def admin_latency() -> Response:
        body = request.get_json(force=True, silent=True) or {}
        try:
            model = LatencyModel.from_json(body)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, f"admin {exc}") from exc
        with store.lock:
            store.latency = model
        return json_response({"ok": True, "latency": model.describe()})

    @app.get("/__admin/latency")
    def admin_get_latency() -> Response:
        with store.lock:
            return json_response(store.latency.describe())

    @app.post("/__admin/faults")
    def admin_faults() -> Response:
        body = request.get_json(force=True, silent=True) or {}
        rules = []
        for raw in body.get("rules") or []:
            mode = raw.get("mode")
            if mode not in ("status", "delay", "reset", "malformed", "retry_after", "trickle"):
                raise ApiError(400, f"admin faults: unknown mode {mode!r}")
            rules.append(
                FaultRule(
                    path_regex=raw.get("path_regex", ".*"),
                    method=raw.get("method"),
                    mode=mode,
                    status=int(raw.get("status", 500)),
                    delay_ms=int(raw.get("delay_ms", 0)),
                    count=raw.get("count"),
                    retry_after=int(raw.get("retry_after", 1)),
                    chunks=int(raw.get("chunks", 20)),
                )
            )
        with store.lock:
            store.faults = rules
        return json_response({"ok": True, "rules": len(rules)})

    return app


# ---------------------------------------------------------------------------------------------- server
class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:  # request log is in /__admin
        pass


class Server(ThreadedWSGIServer):
    request_queue_size = 1024  # ~200 concurrent clients must not see refused connections

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, OSError)):
            return  # injected resets and clients that hang up
        super().handle_error(request, client_address)


def write_port(port_file: str, port: int) -> None:
    tmp = f"{port_file}.tmp"
    with open(tmp, "w") as fh:
        fh.write(str(port))
    os.replace(tmp, port_file)  # atomic: readers never see a partial number


def serve(
    host: str,
    port: int,
    port_file: str | None,
    ssl_context: Any = None,
    tls_context: Any = None,
    tls_port_file: str | None = None,
    latency: str | None = None,
) -> None:
    """Serve on `port` (https when `ssl_context`); with `tls_context`, also https on a second free port, same
    state (so one emulator process serves both plain and TLS clients)."""
    # werkzeug only logs per-request noise here (the failing write after an injected reset); app errors are
    # still logged by Flask's own logger.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    store = Store()
    if latency:
        store.startup_latency = json.loads(latency)
        store.latency = LatencyModel.from_json(store.startup_latency)
    app = create_app(store, TokenVerifier())
    server = Server(host, port, app, handler=QuietHandler, ssl_context=ssl_context)
    server.daemon_threads = True
    if tls_context is not None:
        tls_server = Server(host, 0, app, handler=QuietHandler, ssl_context=tls_context)
        tls_server.daemon_threads = True
        threading.Thread(target=tls_server.serve_forever, daemon=True).start()
        tls_port = tls_server.socket.getsockname()[1]
        if tls_port_file:
            write_port(tls_port_file, tls_port)  # written before --port-file: that one means "ready"
        print(f"openmetadata-emulator listening on https://{host}:{tls_port}", flush=True)
    actual = server.socket.getsockname()[1]
    if port_file:
        write_port(port_file, actual)
    print(f"openmetadata-emulator listening on {host}:{actual}", flush=True)
    server.serve_forever()


def tls_context(certfile: str, keyfile: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--certfile", help="serve https (only) with this certificate (PEM)")
    parser.add_argument("--keyfile", help="private key for --certfile")
    parser.add_argument("--tls-cert", help="also serve https on a second free port with this certificate")
    parser.add_argument("--tls-key", help="private key for --tls-cert")
    parser.add_argument("--tls-port-file", help="where to write the https port of --tls-cert")
    parser.add_argument(
        "--schema-venvs", help="the .venvs folder holding om-<line> venvs (other server lines)"
    )
    parser.add_argument(
        "--latency",
        default=os.environ.get("OM_EMULATOR_LATENCY"),
        help="start-up latency model, JSON as for POST /__admin/latency (env OM_EMULATOR_LATENCY)",
    )
    args = parser.parse_args(argv)
    global SCHEMAS
    SCHEMAS = SchemaLines(args.schema_venvs)
    SCHEMAS.warm_up()
    ctx = tls_context(args.certfile, args.keyfile) if args.certfile else None
    extra = tls_context(args.tls_cert, args.tls_key) if args.tls_cert else None
    serve(args.host, args.port, args.port_file, ctx, extra, args.tls_port_file, args.latency)


if __name__ == "__main__":
    main()
