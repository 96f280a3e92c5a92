"""Okta service app: client-credentials grant with a private-key JWT client assertion (RFC 7523,
`private_key_jwt`).

Token endpoint, from `org_url`:
- `https://acme.okta.com` → `https://acme.okta.com/oauth2/default/v1/token` (the "default" custom
  authorization server: only custom authorization servers issue access tokens that a third party such as
  OpenMetadata can verify against their `/v1/keys`; the org authorization server's tokens are for Okta's own
  APIs);
- `https://acme.okta.com/oauth2/<server-id>` → that server's `/v1/token` (also `/oauth2/v1` for the org
  server);
- a URL already ending in `/v1/token` is used as is.

`private_key`: an unencrypted PEM (RSA -> RS256, EC -> ES256/384/512) or the private JWK (JSON) that Okta's
key generator shows; a JWK's `kid` goes into the assertion header, which Okta needs when the app has several
keys.

`email` (required) is added as an `email` claim of the client assertion, as OpenMetadata 0.10's client
did. Okta ignores it; it does not change who the token is for (the access token's `sub` is the client
id), so OpenMetadata's bot mapping must use the token's claims. It is kept for compatibility and audit.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, ClassVar, Optional

from . import oauth2
from .base import AuthError, CachedTokenProvider, Token

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_TTL = 300  # Okta accepts assertions valid for at most one hour; short is safer


def token_endpoint(org_url: str) -> str:
    url = org_url.strip().rstrip("/")
    if url.endswith("/v1/token"):
        return url
    if url.endswith("/v1"):
        return url + "/token"
    if "/oauth2" in url.split("://", 1)[-1]:
        return url + "/v1/token"
    return url + "/oauth2/default/v1/token"


def pem_text(value: str) -> str:
    """The PEM with real newlines: accepts the `\\n`-escaped one-line form (config decodes `base64:`)."""
    text = value.strip()
    if "\\n" in text:
        text = text.replace("\\r\\n", "\n").replace("\\n", "\n")
    return text


class OktaProvider(CachedTokenProvider):
    name: ClassVar[str] = "okta"
    required_keys: ClassVar[tuple[str, ...]] = ("client_id", "org_url", "private_key", "email")

    def _fetch(self, deadline: Optional[float]) -> Token:
        cfg = self.config
        client_id = oauth2.setting(cfg, self.name, "client_id") or ""
        url = token_endpoint(oauth2.setting(cfg, self.name, "org_url") or "")
        data = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.client_assertion(client_id, url),
        }
        # Without scopes Okta falls back to the authorization server's default scopes, if it has any.
        scope = " ".join(oauth2.scopes(cfg, self.name))
        if scope:
            data["scope"] = scope
        return oauth2.post_form(self.name, url, data, cfg, deadline)

    def client_assertion(self, client_id: str, audience: str) -> str:
        """A JWT signed with the app's private key: iss = sub = client id, aud = the token endpoint."""
        try:
            import cryptography  # noqa: F401 - PyJWT needs it for RS256/ES256
            import jwt
        except ImportError:
            raise AuthError(
                "okta: PyJWT and cryptography are not installed; install airflow-openmetadata-lineage[okta]"
            ) from None
        key, algorithm, kid = signing_key(oauth2.setting(self.config, self.name, "private_key") or "")
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + ASSERTION_TTL,
            "jti": str(uuid.uuid4()),
        }
        email = oauth2.setting(self.config, self.name, "email", required=False)
        if email:
            claims["email"] = email
        try:
            return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid} if kid else None)
        except Exception:  # any signing failure is a key problem; its text could quote the key
            raise AuthError(f"okta: [lineage] private_key cannot sign {algorithm}") from None


def signing_key(value: str) -> tuple[Any, str, Optional[str]]:
    """(key, JWS algorithm, kid) from `private_key`: a PEM (RSA -> RS256, EC -> ES256/384/512) or the private
    JWK (JSON) Okta's key generator gives, whose `kid` Okta needs when the app has several keys."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    text = pem_text(value)
    if text.startswith("{"):
        try:
            jwk = jwt.PyJWK(json.loads(text))
        except (ValueError, jwt.PyJWTError):
            raise AuthError(
                "okta: [lineage] private_key looks like a JWK but is not a usable private JWK (kty, d, ...)"
            ) from None
        if not hasattr(jwk.key, "sign"):
            raise AuthError("okta: [lineage] private_key is a public JWK; give the private one (with d)")
        return jwk.key, jwk.algorithm_name, jwk.key_id
    try:
        key = load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise AuthError(
            "okta: [lineage] private_key is not an unencrypted PEM private key; write it as "
            "base64:<base64 of the PEM> or on one line with \\n in place of newlines"
        ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        return key, "RS256", None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key, {256: "ES256", 384: "ES384", 521: "ES512"}.get(key.curve.key_size, "ES256"), None
    raise AuthError("okta: [lineage] private_key must be an RSA or EC key (Okta signs nothing else)")
