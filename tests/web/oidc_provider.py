"""A tiny OpenID Connect provider for the tests: a real HTTP server on 127.0.0.1 that serves
discovery, its keys, an authorization endpoint that approves the user the test chose at once, and a
token endpoint that checks the client's secret, the redirect address and the PKCE verifier before
it hands out an RS256 ID token. `tamper` makes the next ID token wrong in one way, to see it refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "coforms-review-desk"
CLIENT_SECRET = "a client secret: with ~punctuation+"
TAMPERINGS = ("wrong key", "wrong audience", "wrong nonce", "expired", "wrong issuer", "shared secret", "no signature")


@dataclass
class Grant:
    claims: dict
    nonce: str
    challenge: str
    redirect_uri: str


@dataclass
class Provider:
    """Set `user` (the claims of whoever signs in next) and `tamper` (None or one of TAMPERINGS)."""

    user: dict = field(default_factory=lambda: {"sub": "u-1", "preferred_username": "ada@camden.gov.uk"})
    tamper: str | None = None
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "key-1"}))
    other_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "key-1"}))
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: list[dict] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/tenant/v2.0"

    def start(self) -> Provider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                provider.answer_get(self)

            def do_POST(self) -> None:
                provider.answer_post(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- HTTP

    def answer_get(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        base = "/tenant/v2.0"
        if url.path == f"{base}/.well-known/openid-configuration":
            return _json(handler, 200, self.discovery())
        if url.path == f"{base}/jwks":
            return _json(handler, 200, KeySet([self.key]).as_dict(private=False))
        if url.path == f"{base}/authorize":
            return self.authorize(handler, query)
        return _json(handler, 404, {"error": "not_found"})

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def authorize(self, handler: BaseHTTPRequestHandler, query: dict) -> None:
        wanted = {"response_type": "code", "client_id": CLIENT_ID, "code_challenge_method": "S256"}
        if any(query.get(key) != value for key, value in wanted.items()) or "openid" not in query.get("scope", ""):
            return _json(handler, 400, {"error": "invalid_request", "query": query})
        if not all(query.get(key) for key in ("state", "nonce", "code_challenge", "redirect_uri")):
            return _json(handler, 400, {"error": "invalid_request", "query": query})
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(dict(self.user), query["nonce"], query["code_challenge"], query["redirect_uri"])
        back = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
        handler.send_response(302)
        handler.send_header("Location", back)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def answer_post(self, handler: BaseHTTPRequestHandler) -> None:
        if urlsplit(handler.path).path != "/tenant/v2.0/token":
            return _json(handler, 404, {"error": "not_found"})
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0))).decode()
        form = {key: values[0] for key, values in parse_qs(body).items()}
        self.token_requests.append(form)
        if not self.client_authenticated(handler.headers.get("Authorization"), form):
            return _json(handler, 401, {"error": "invalid_client"})
        grant = self.grants.pop(form.get("code", ""), None)  # a code is good once
        if grant is None or form.get("grant_type") != "authorization_code":
            return _json(handler, 400, {"error": "invalid_grant"})
        if form.get("redirect_uri") != grant.redirect_uri:
            return _json(handler, 400, {"error": "invalid_grant", "why": "redirect_uri"})
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant.challenge:
            return _json(handler, 400, {"error": "invalid_grant", "why": "code_verifier"})
        return _json(handler, 200, {"token_type": "Bearer", "access_token": "x", "id_token": self.id_token(grant)})

    @staticmethod
    def client_authenticated(authorization: str | None, form: dict) -> bool:
        if authorization and authorization.startswith("Basic "):
            pair = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = pair.partition(":")
            return unquote(client_id) == CLIENT_ID and unquote(secret) == CLIENT_SECRET
        return form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET

    # -- the ID token, signed (or spoiled as the test asked)

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "nonce": grant.nonce,
            **grant.claims,
        }
        key = self.key
        header = {"alg": "RS256", "kid": self.key.kid}
        if self.tamper == "wrong key":
            key = self.other_key  # same key id, another key: the signature does not verify
        elif self.tamper == "wrong audience":
            claims["aud"] = "another-service"
        elif self.tamper == "wrong nonce":
            claims["nonce"] = "not-the-nonce-of-this-sign-in"
        elif self.tamper == "expired":
            claims["iat"], claims["nbf"], claims["exp"] = now - 7200, now - 7200, now - 3600
        elif self.tamper == "wrong issuer":
            claims["iss"] = "https://elsewhere.example/v2.0"
        elif self.tamper == "shared secret":
            # HS256 keyed with the public key's PEM, which anyone has: the classic algorithm confusion
            signed = f"{_part({'alg': 'HS256', 'kid': 'key-1', 'typ': 'JWT'})}.{_part(claims)}"
            mac = hmac.new(self.key.as_pem(private=False), signed.encode(), hashlib.sha256).digest()
            return f"{signed}.{_b64(mac)}"
        elif self.tamper == "no signature":
            return f"{_part({'alg': 'none', 'typ': 'JWT'})}.{_part(claims)}."
        return jwt.encode(header, claims, key, algorithms=["RS256"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _part(data: dict) -> str:
    return _b64(json.dumps(data).encode())


def _json(handler: BaseHTTPRequestHandler, status: int, data: dict) -> None:
    body = json.dumps(data).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
