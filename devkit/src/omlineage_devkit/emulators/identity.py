"""Local identity servers for the SSO auth providers, on 127.0.0.1, over TLS with a self-signed certificate.

One realm per provider, each its own Flask app and port, each with its own RS256 signing key and JWKS:

- `auth0`: authlib `AuthorizationServer`, client_credentials at `/oauth/token` (client_secret_post or
  _basic), JWKS at `/.well-known/jwks.json`.
- `okta`: authlib, client_credentials with `private_key_jwt` client assertions (RFC 7523; audience = the
  token URL, single-use `jti`) at `/oauth2/default/v1/token`, JWKS at `/oauth2/default/v1/keys`.
- `custom-oidc`: authlib, client_credentials at `/token` (client_secret_basic or _post), discovery document
  at `/.well-known/openid-configuration`, JWKS at `/jwks`.
- `google`: authlib `JWTBearerGrant` (RFC 7523 grant) at `/token`, the service-account JSON's `token_uri`:
  checks the assertion signed with the service account's key and answers `{"id_token"}` for its
  `target_audience`, as Google's token endpoint does; JWKS at `/oauth2/v3/certs`.
- `azure`: an MSAL-compatible authority `/<tenant>`: `/<tenant>/v2.0/.well-known/openid-configuration`,
  client_credentials (client_secret_post) at `/<tenant>/oauth2/v2.0/token`, JWKS at
  `/<tenant>/discovery/v2.0/keys`.

Scopes and audiences of client-credentials requests are checked per client the way each vendor does
(`ScopePolicy` and its subclasses; errors with the vendor's error code and status):

- Okta custom authorization server (`OktaAuthorizationServer`): only the server's custom scopes may be
  requested; OIDC scopes (openid, profile, email, address, phone, offline_access, device_sso) are refused with
  `invalid_scope` "Cannot request 'openid' scopes using client credentials"
  (https://support.okta.com/help/s/article/cannot-request-openid-scopes-using-client-credentials,
  https://developer.okta.com/docs/guides/implement-grant-type/clientcreds/main/); an unknown scope is
  `invalid_scope`; no `scope` is allowed only when the server has default scopes.
- Auth0 (`Auth0Tenant`): `audience` (an API identifier) is required unless the tenant has a default audience;
  the client needs a client grant for that API; requested scopes must be in the grant, none requested means
  all granted ones; `access_denied`, HTTP 403
  (https://auth0.com/docs/get-started/authentication-and-authorization-flow/client-credentials-flow/call-your-api-using-the-client-credentials-flow,
  https://auth0.com/docs/get-started/applications/application-access-to-apis-client-credentials-flow).
  The token's `aud` is the requested API.
- Azure / Entra ID v2 (`AzureTenant`): exactly one scope, `<application ID URI>/.default`, of a resource
  registered in the tenant; others are `invalid_scope` AADSTS1002012, an unknown resource `invalid_resource`
  AADSTS500011 (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
- custom-oidc: any scope (the generic server of RFC 6749 §4.4 decides by its own rules).

Tokens are RS256 JWTs (`iss` = the realm, `sub` = the client, `aud` = the realm's audience, the Auth0 API
requested, or Google's target_audience, `exp` = now + ttl, `scp` = the granted scopes). Each realm: `ttl`,
`down` (token endpoint answers 503), `delay` (seconds before answering a token request), `token_requests`
(count), `refusals` (what the scope policy refused), `mint()` (tokens for negative tests).
The same controls are on `GET|POST /__admin` of each realm, for tests in another process.

Start it in-process with `start_identity_servers(workdir)`, or as a process:

    .venvs/driver/bin/python -m omlineage_devkit.emulators.identity --dir D --info-file D/identity.json

writes the `IdentityServers.describe()` JSON (URLs, CA certificate, per-provider `[lineage]` options and env)
then serves.

Not emulated: authorization-code, device-code, refresh-token and on-behalf-of flows; users, consent, MFA;
token introspection and revocation; Okta's org authorization server and its `okta.*` scopes, Okta access
policies and rules (every client may have every custom scope); Auth0 organizations, RBAC permissions, the
tenant flag that lets global clients use the default audience; Azure app roles (`roles` claim), admin
consent, the v2 token's `aud` being the resource's application ID (here the realm's audience), v1
endpoints, instance discovery, multi-tenant `common`, certificate credentials; Google's metadata server, IAM
`generateIdToken` and access tokens; key rotation; rate limits; each vendor's every error text (the ones above
follow the cited pages); id_token claims beyond iss/sub/aud/exp/iat/email.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import jwt
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, OAuth2Error, grants
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion, JWTBearerGrant
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, g, jsonify, request
from joserfc.jwk import RSAKey
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

PROVIDERS = ("google", "auth0", "okta", "azure", "custom-oidc")
AUDIENCE = "openmetadata"
CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
OKTA_CUSTOM_SCOPES = ("openmetadata.lineage", "openmetadata.read")  # the default server's custom scopes
AUTH0_API_SCOPES = (
    "read:lineage",
    "write:lineage",
)  # the OpenMetadata API's scopes, all granted to the client
AZURE_RESOURCE = "api://openmetadata"  # the OpenMetadata app registration's application ID URI


# ------------------------------------------------------------------------------------------------ keys
def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


def self_signed_cert(directory: Path) -> tuple[str, str]:
    """A certificate for localhost / 127.0.0.1 (also usable as the CA bundle that trusts it)."""
    from omlineage_devkit.tls import self_signed_cert as write_cert

    cert_path, key_path = write_cert(directory, prefix="identity-")
    return str(cert_path), str(key_path)


# ------------------------------------------------------------------------------------------------ clients
@dataclass
class Client(ClientMixin):
    client_id: str
    secret: Optional[str] = None
    public_key_pem: Optional[bytes] = None
    auth_methods: tuple[str, ...] = ("client_secret_basic",)
    grant_types: tuple[str, ...] = (CLIENT_CREDENTIALS,)
    email: Optional[str] = None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> Optional[str]:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return self.secret is not None and hmac.compare_digest(self.secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in self.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


# ------------------------------------------------------------------------------------------ scope policies
class Refused(OAuth2Error):
    """A token request the IdP refuses, with the IdP's error code and status."""

    def __init__(self, error: str, description: str, status_code: int = 400) -> None:
        super().__init__(description=description, status_code=status_code)
        self.error = error


@dataclass
class ScopePolicy:
    """Which audience and scopes a client-credentials token for `client` may carry; raises Refused.
    This base class grants what is asked (a generic OAuth 2.0 server)."""

    def grant(self, realm: Realm, client: Client, scopes: list[str], form: Any) -> tuple[str, list[str]]:
        return realm.audience, scopes


OIDC_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access", "device_sso")


@dataclass
class OktaAuthorizationServer(ScopePolicy):
    custom_scopes: tuple[str, ...] = ()
    default_scopes: tuple[str, ...] = ()

    def grant(self, realm: Realm, client: Client, scopes: list[str], form: Any) -> tuple[str, list[str]]:
        oidc = [s for s in scopes if s in OIDC_SCOPES]
        if oidc:
            raise Refused("invalid_scope", f"Cannot request '{oidc[0]}' scopes using client credentials.")
        unknown = [s for s in scopes if s not in self.custom_scopes]
        if unknown:
            raise Refused(
                "invalid_scope",
                "One or more scopes are not configured for the authorization server resource.",
            )
        if not scopes and not self.default_scopes:
            raise Refused(
                "invalid_scope",
                "The authorization server resource does not have any configured default scopes, 'scope' must"
                " be provided.",
            )
        return realm.audience, scopes or list(self.default_scopes)


@dataclass
class Auth0Tenant(ScopePolicy):
    apis: dict[str, tuple[str, ...]] = field(default_factory=dict)  # API identifier -> its scopes
    client_grants: dict[str, dict[str, tuple[str, ...]]] = field(
        default_factory=dict
    )  # client -> API -> scopes
    default_audience: Optional[str] = None

    def grant(self, realm: Realm, client: Client, scopes: list[str], form: Any) -> tuple[str, list[str]]:
        audience = form.get("audience") or self.default_audience
        if not audience:
            raise Refused(
                "access_denied",
                "No audience parameter was provided, and no default audience has been configured",
                403,
            )
        if audience not in self.apis:
            raise Refused("access_denied", f"Service not found: {audience}", 403)
        granted = self.client_grants.get(client.client_id, {}).get(audience)
        if granted is None:
            raise Refused(
                "access_denied",
                # Auth0 quotes with ", which RFC 6749 §5.2 (and authlib) do not allow in error_description
                f"Client is not authorized to access '{audience}'. You need to create a 'client-grant' "
                "associated to this API.",
                403,
            )
        missing = [s for s in scopes if s not in granted]
        if missing:
            raise Refused("access_denied", f"Client has not been granted scopes: {' '.join(missing)}", 403)
        return audience, scopes or list(granted)


@dataclass
class AzureTenant(ScopePolicy):
    tenant: str = ""
    resources: tuple[str, ...] = ()  # application ID URIs registered in the tenant

    def grant(self, realm: Realm, client: Client, scopes: list[str], form: Any) -> tuple[str, list[str]]:
        wrong = [s for s in scopes if not s.endswith("/.default")]
        if wrong or len(scopes) != 1:
            shown = wrong[0] if wrong else " ".join(scopes)
            raise Refused(
                "invalid_scope",
                f"AADSTS1002012: The provided value for scope {shown} is not valid. Client credential flows"
                " must have a scope value with /.default suffixed to the resource identifier (application ID"
                " URI).",
            )
        resource = scopes[0].removesuffix("/.default")
        if resource not in self.resources:
            raise Refused(
                "invalid_resource",
                f"AADSTS500011: The resource principal named {resource} was not found in the tenant named"
                f" {self.tenant}.",
            )
        return realm.audience, []


# ------------------------------------------------------------------------------------------------ realm
@dataclass
class Realm:
    """One identity provider: its signing key, clients, counters and switches."""

    name: str
    key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key, repr=False)
    kid: str = field(default_factory=lambda: uuid.uuid4().hex)
    ttl: int = 3600
    down: bool = False
    delay: float = 0.0
    audience: str = AUDIENCE
    url: str = ""  # https://127.0.0.1:<port>, set when serving
    issuer: str = ""
    token_path: str = ""
    jwks_path: str = ""
    token_requests: int = 0
    auth_methods_seen: list[str] = field(default_factory=list)
    clients: dict[str, Client] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # provider-specific credentials
    policy: ScopePolicy = field(default_factory=ScopePolicy)
    refusals: list[str] = field(default_factory=list)  # error descriptions of refused token requests
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def token_url(self) -> str:
        return self.url + self.token_path

    @property
    def jwks_url(self) -> str:
        return self.url + self.jwks_path

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.key, self.kid)]}

    def mint(
        self,
        sub: str,
        audience: Optional[str] = None,
        ttl: Optional[int] = None,
        key: Optional[rsa.RSAPrivateKey] = None,
        **claims: Any,
    ) -> str:
        """An RS256 JWT from this realm; `ttl` < 0 gives an expired token, `key` a foreign signature."""
        now = int(time.time())
        life = self.ttl if ttl is None else ttl
        body = {
            "iss": self.issuer,
            "sub": sub,
            "aud": audience or self.audience,
            "iat": min(now, now + life - 60),
            "exp": now + life,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    def count(self, method: str) -> None:
        with self._lock:
            self.token_requests += 1
            self.auth_methods_seen.append(method)

    def reset(self) -> None:
        with self._lock:
            self.ttl, self.down, self.delay = 3600, False, 0.0
            self.token_requests = 0
            self.auth_methods_seen.clear()
            self.refusals.clear()

    def admin(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if body.get("reset"):
                self.ttl, self.down, self.delay = 3600, False, 0.0
                self.token_requests = 0
                self.auth_methods_seen.clear()
                self.refusals.clear()
            if "ttl" in body:
                self.ttl = int(body["ttl"])
            if "down" in body:
                self.down = bool(body["down"])
            if "delay" in body:
                self.delay = float(body["delay"])
            return {
                "token_requests": self.token_requests,
                "ttl": self.ttl,
                "down": self.down,
                "delay": self.delay,
                "refusals": list(self.refusals),
            }


def _client_method() -> str:
    form = request.form
    if form.get("client_assertion"):
        return "private_key_jwt"
    if form.get("assertion"):
        return "jwt-bearer"
    if request.authorization is not None:
        return "client_secret_basic"
    return "client_secret_post" if form.get("client_secret") else "none"


def _token_generator(realm: Realm):
    def generate(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
        audience, scopes = getattr(g, "granted", (realm.audience, scope.split() if scope else []))
        claims: dict[str, Any] = {"client_id": client.client_id}
        if scopes:
            claims["scp"] = scopes
        if client.email:
            claims["email"] = client.email
        token = {
            "token_type": "Bearer",
            "access_token": realm.mint(client.client_id, audience=audience, **claims),
            "expires_in": realm.ttl,
        }
        if scopes:
            token["scope"] = " ".join(scopes)
        return token

    return generate


def _base_app(realm: Realm) -> Flask:
    app = Flask(f"identity-{realm.name}")

    @app.get("/__admin")
    def admin_get() -> Response:
        return jsonify(realm.admin({}))

    @app.post("/__admin")
    def admin_post() -> Response:
        return jsonify(realm.admin(request.get_json(force=True, silent=True) or {}))

    @app.get(realm.jwks_path)
    def jwks() -> Response:
        return jsonify(realm.jwks())

    return app


def _gate(realm: Realm) -> Optional[Response]:
    """Count the token request; answer 503 when the realm is down; wait `delay` first."""
    realm.count(_client_method())
    if realm.delay:
        time.sleep(realm.delay)
    if realm.down:
        resp = jsonify({"error": "temporarily_unavailable"})
        resp.status_code = 503
        return resp
    return None


# ------------------------------------------------------------------------------------------------ realms
def _oauth_realm(realm: Realm, auth_methods: list[str]) -> Flask:
    """client_credentials with the given client authentication methods, on authlib's AuthorizationServer."""
    app = _base_app(realm)
    server = AuthorizationServer(app, query_client=realm.clients.get, save_token=lambda token, req: None)
    server.register_token_generator("default", _token_generator(realm))

    class Grant(grants.ClientCredentialsGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = auth_methods

        def validate_token_request(self) -> None:
            super().validate_token_request()  # the client authenticates first, as at every vendor
            scopes = (self.request.payload.scope or "").split()
            try:
                g.granted = realm.policy.grant(realm, self.request.client, scopes, request.form)
            except Refused as refused:
                with realm._lock:
                    realm.refusals.append(f"{refused.error}: {refused.description}")
                raise

    if "private_key_jwt" in auth_methods:
        server.register_client_auth_method("private_key_jwt", _PrivateKeyJWT(realm))
    server.register_grant(Grant)

    @app.post(realm.token_path)
    def token() -> Response:
        return _gate(realm) or server.create_token_response()

    return app


class _PrivateKeyJWT(JWTBearerClientAssertion):
    """RFC 7523 client authentication: the assertion must be signed by the client's registered public key."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, realm: Realm) -> None:
        super().__init__(validate_jti=True)
        self.realm = realm
        self.seen: set[str] = set()

    def get_audiences(self) -> list[str]:
        return [self.realm.token_url]

    def validate_jti(self, claims: Any, jti: str) -> bool:
        if jti in self.seen:
            return False
        self.seen.add(jti)
        return True

    def resolve_client_public_key(self, client: Client) -> RSAKey:
        return RSAKey.import_key(client.public_key_pem)


def _google_realm(realm: Realm) -> Flask:
    """Google's token endpoint for service accounts: JWT-bearer assertion in, id_token out."""
    app = _base_app(realm)
    server = AuthorizationServer(app, query_client=realm.clients.get, save_token=lambda token, req: None)
    server.register_token_generator("default", _token_generator(realm))
    by_email = realm.extra["clients_by_email"]

    class GoogleGrant(JWTBearerGrant):
        def get_audiences(self) -> list[str]:
            # google-auth signs for Google's token URL whatever token_uri says; Google accepts both.
            return [realm.token_url, GOOGLE_TOKEN_AUDIENCE]

        def resolve_issuer_client(self, issuer: str) -> Optional[Client]:
            return by_email.get(issuer)

        def resolve_client_public_key(self, client: Client) -> RSAKey:
            return RSAKey.import_key(client.public_key_pem)

        def authenticate_user(self, subject: str) -> Any:
            # A plain service account signs with sub = its own email (no domain-wide delegation here).
            return subject if subject in by_email else None

        def has_granted_permission(self, client: Client, user: Any) -> bool:
            return True

        def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
            _, claims = self.extract_assertion(self.request.form["assertion"])  # verified above
            audience = claims.get("target_audience")
            if not isinstance(audience, str) or not audience:
                raise InvalidRequestError("this emulator answers id_token requests only: set target_audience")
            client = self.request.client
            id_token = realm.mint(client.email, audience=audience, email=client.email, email_verified=True)
            return 200, {"id_token": id_token}, self.TOKEN_RESPONSE_HEADER

    server.register_grant(GoogleGrant)

    @app.post(realm.token_path)
    def token() -> Response:
        return _gate(realm) or server.create_token_response()

    return app


def _azure_realm(realm: Realm, tenant: str) -> Flask:
    app = _oauth_realm(realm, ["client_secret_post"])

    @app.get(f"/{tenant}/v2.0/.well-known/openid-configuration")
    def openid_configuration() -> Response:
        base = f"{realm.url}/{tenant}"
        return jsonify(
            {
                "issuer": realm.issuer,
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": realm.token_url,
                "jwks_uri": realm.jwks_url,
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "response_types_supported": ["code"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    return app


# ------------------------------------------------------------------------------------------------ servers
class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class IdentityServers:
    """The running realms. `options(p)` / `lineage_env(p)` give the `[lineage]` settings for provider p."""

    ca_cert: str
    realms: dict[str, Realm]
    _servers: list[BaseWSGIServer] = field(default_factory=list, repr=False)

    @property
    def jwks_urls(self) -> list[str]:
        return [r.jwks_url for r in self.realms.values()]

    def options(self, provider: str) -> dict[str, str]:
        """Decoded `[lineage]` keys for `provider` (as `LineageConfig.options` holds them) + type and CA."""
        r = self.realms[provider]
        common = {"auth_provider_type": provider, "ca_bundle": self.ca_cert}
        if provider == "google":
            return {**common, "secret_key": json.dumps(r.extra["service_account"]), "audience": r.audience}
        if provider == "auth0":
            host = r.url.split("://", 1)[1]
            c = r.clients[r.extra["client_id"]]
            return {
                **common,
                "client_id": c.client_id,
                "secret_key": c.secret or "",
                "domain": host,
                "audience": r.audience,
            }
        if provider == "okta":
            return {
                **common,
                "client_id": r.extra["client_id"],
                "org_url": r.url,
                "private_key": r.extra["private_key"],
                "email": r.extra["email"],
                "scopes": f"[{', '.join(OKTA_CUSTOM_SCOPES)}]",
            }
        if provider == "azure":
            c = r.clients[r.extra["client_id"]]
            return {
                **common,
                "client_id": c.client_id,
                "client_secret": c.secret or "",
                "authority": r.extra["authority"],
                "scopes": f"[{AZURE_RESOURCE}/.default]",
            }
        if provider == "custom-oidc":
            c = r.clients[r.extra["client_id"]]
            return {
                **common,
                "client_id": c.client_id,
                "secret_key": c.secret or "",
                "token_endpoint": r.token_url,
                "scopes": "openmetadata",
            }
        raise KeyError(f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")

    def lineage_env(self, provider: str) -> dict[str, str]:
        """`AIRFLOW__LINEAGE__*` env vars as the module writes them: `%` doubled, multi-line as base64:."""
        env = {}
        for key, value in self.options(provider).items():
            if "\n" in value:
                value = "base64:" + base64.b64encode(value.encode()).decode()
            env[f"AIRFLOW__LINEAGE__{key.upper()}"] = value.replace("%", "%%")
        return env

    def secrets(self, provider: str) -> list[str]:
        """The secret strings of a provider's options, for asserting they never appear in output."""
        opts = self.options(provider)
        values = [opts[k] for k in ("secret_key", "client_secret", "private_key") if k in opts]
        if provider == "google":
            values.append(self.realms["google"].extra["service_account"]["private_key"])
        return values

    def om_auth(self) -> dict[str, Any]:
        """The body for the OpenMetadata emulator's `POST /__admin/auth` that trusts every realm."""
        return {"enabled": True, "jwks_urls": self.jwks_urls, "ca_bundle": self.ca_cert, "audience": AUDIENCE}

    def reset(self) -> None:
        for realm in self.realms.values():
            realm.reset()

    def describe(self) -> dict[str, Any]:
        return {
            "ca_cert": self.ca_cert,
            "jwks_urls": self.jwks_urls,
            "audience": AUDIENCE,
            "realms": {
                name: {
                    "url": r.url,
                    "token_url": r.token_url,
                    "jwks_url": r.jwks_url,
                    "admin_url": r.url + "/__admin",
                }
                for name, r in self.realms.items()
            },
            "options": {p: self.options(p) for p in PROVIDERS},
            "lineage_env": {p: self.lineage_env(p) for p in PROVIDERS},
        }

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()


def _serve(app: Flask, cert: str, key: str) -> tuple[BaseWSGIServer, str]:
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, ssl_context=(cert, key), request_handler=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name=f"{app.name}", daemon=True).start()
    return server, f"https://127.0.0.1:{server.socket.getsockname()[1]}"


def start_identity_servers(workdir: str | Path, ttl: int = 3600) -> IdentityServers:
    """Start one realm per provider on loopback (TLS, certificate written to `workdir`) and return them.

    Call `.stop()` when done. Secrets contain `%` on purpose, so every test also exercises the `%%` contract.
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    cert, cert_key = self_signed_cert(Path(workdir))
    realms: dict[str, Realm] = {}
    servers: list[BaseWSGIServer] = []

    def start(realm: Realm, build: Any) -> None:
        # The URL is known only once bound: bind first, then let the app read realm.url at request time.
        server, url = _serve(build(realm), cert, cert_key)
        realm.url = url
        realm.issuer = realm.issuer or url + realm.extra.get("issuer_path", "/")
        realm.ttl = ttl
        realms[realm.name] = realm
        servers.append(server)

    def secret() -> str:
        return "s3cr%t-" + base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")

    # auth0
    r = Realm("auth0", token_path="/oauth/token", jwks_path="/.well-known/jwks.json")
    r.clients["auth0-client"] = Client(
        "auth0-client", secret(), auth_methods=("client_secret_post", "client_secret_basic")
    )
    r.extra["client_id"] = "auth0-client"
    r.policy = Auth0Tenant(
        apis={AUDIENCE: AUTH0_API_SCOPES}, client_grants={"auth0-client": {AUDIENCE: AUTH0_API_SCOPES}}
    )
    start(r, lambda realm: _oauth_realm(realm, ["client_secret_post", "client_secret_basic"]))

    # okta: the app's key pair; Okta keeps the public half, the wheel signs with the private half
    client_key = new_rsa_key()
    r = Realm("okta", token_path="/oauth2/default/v1/token", jwks_path="/oauth2/default/v1/keys")
    r.extra.update(
        client_id="0oa-okta-client",
        email="lineage-bot@example.com",
        private_key=private_pem(client_key),
        issuer_path="/oauth2/default",
    )
    r.policy = OktaAuthorizationServer(custom_scopes=OKTA_CUSTOM_SCOPES)
    r.clients["0oa-okta-client"] = Client(
        "0oa-okta-client",
        public_key_pem=client_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        auth_methods=("private_key_jwt",),
    )
    start(r, lambda realm: _oauth_realm(realm, ["private_key_jwt"]))

    # custom-oidc
    r = Realm("custom-oidc", token_path="/token", jwks_path="/jwks")
    r.clients["oidc-client"] = Client(
        "oidc-client", secret(), auth_methods=("client_secret_basic", "client_secret_post")
    )
    r.extra["client_id"] = "oidc-client"

    def custom(realm: Realm) -> Flask:
        app = _oauth_realm(realm, ["client_secret_basic", "client_secret_post"])

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(
                {
                    "issuer": realm.issuer,
                    "token_endpoint": realm.token_url,
                    "jwks_uri": realm.jwks_url,
                    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                }
            )

        return app

    start(r, custom)

    # google: a service account whose key the realm knows (as Google keeps the public half)
    sa_key = new_rsa_key()
    email = "lineage@local-project.iam.gserviceaccount.com"
    sa_client = Client(
        "100000000000000000001",
        public_key_pem=sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        auth_methods=("none",),
        grant_types=(JWT_BEARER,),
        email=email,
    )
    r = Realm("google", token_path="/token", jwks_path="/oauth2/v3/certs")
    r.extra["clients_by_email"] = {email: sa_client}
    r.clients[sa_client.client_id] = sa_client
    start(r, _google_realm)
    r.extra["service_account"] = {
        "type": "service_account",
        "project_id": "local-project",
        "private_key_id": uuid.uuid4().hex,
        "private_key": private_pem(sa_key),
        "client_email": email,
        "client_id": sa_client.client_id,
        "auth_uri": r.url + "/auth",
        "token_uri": r.token_url,
        # As in real key files: the `%40` makes every google test exercise the `%%` contract.
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + email.replace("@", "%40"),
        "universe_domain": "googleapis.com",
    }

    # azure
    tenant = "00000000-0000-0000-0000-00000000a2e0"
    r = Realm("azure", token_path=f"/{tenant}/oauth2/v2.0/token", jwks_path=f"/{tenant}/discovery/v2.0/keys")
    r.clients["azure-client"] = Client("azure-client", secret(), auth_methods=("client_secret_post",))
    r.extra.update(client_id="azure-client", issuer_path=f"/{tenant}/v2.0")
    r.policy = AzureTenant(tenant=tenant, resources=(AZURE_RESOURCE,))
    start(r, lambda realm: _azure_realm(realm, tenant))
    r.extra["authority"] = f"{r.url}/{tenant}"

    return IdentityServers(ca_cert=cert, realms=realms, _servers=servers)


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Local identity servers for the SSO auth providers")
    parser.add_argument("--dir", required=True, help="where to write the TLS certificate")
    parser.add_argument("--info-file", help="write describe() JSON here (atomically) once serving")
    parser.add_argument("--ttl", type=int, default=3600)
    args = parser.parse_args(argv)
    servers = start_identity_servers(args.dir, ttl=args.ttl)
    info = json.dumps(servers.describe(), indent=2)
    if args.info_file:
        tmp = Path(args.info_file + ".tmp")
        tmp.write_text(info)
        tmp.replace(args.info_file)
    else:
        print(info, flush=True)
    threading.Event().wait()


if __name__ == "__main__":  # python -m omlineage_devkit.emulators.identity
    main()
