"""Single sign-on with the council's identity provider (OpenID Connect, e.g. Microsoft Entra ID), on
when the settings web_oidc_issuer and web_oidc_client_id are set.

The authorization code flow with PKCE: /login/sso sends the browser to the identity provider with a
fresh state, nonce and code challenge (kept on the server, tied to this browser by a cookie); the
provider sends it back to /login/sso/callback with a code, which the server exchanges (with its
client secret and the code verifier) for an ID token. The token's signature is checked against the
provider's published keys (JWKS), and its issuer, audience, expiry and nonce; its roles claim must
name one of the app roles coforms.admin, coforms.finance, coforms.viewer. Then the user gets a local
session exactly as after a password sign-in.

The state, nonce and verifier never leave the server; the browser's cookie only says which flow is
its own, so an answer cannot be replayed, nor fed to another browser (login CSRF).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import quote, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipeline.settings import Settings
from pipeline.web.accounts import AccountError, SignInFlow
from pipeline.web.pages import problem_page
from pipeline.web.roles import Role
from pipeline.web.signin import safe_next, signed_in_response, sso_enabled

log = logging.getLogger(__name__)

FLOW_COOKIE = "coforms_sso"
# the identity provider's app role for each of ours; when a user has several, the widest counts
APP_ROLES = {"coforms.admin": Role.ADMIN, "coforms.finance": Role.FINANCE, "coforms.viewer": Role.VIEWER}
_WIDEST_FIRST = (Role.ADMIN, Role.FINANCE, Role.VIEWER)
# signatures by the provider's private key only: never "none", never a shared secret (HS256)
_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
_CLOCK_SKEW_SECONDS = 120
_CACHE_SECONDS = 3600  # the discovery document and the keys; keys are fetched again for an unknown key id


class SignInRefused(Exception):
    """The single sign-on did not give a user of this service; the message says why in plain words."""


@dataclass(frozen=True)
class Vouched:
    """Who the identity provider says signed in, and the role its app roles give them."""

    name: str
    role: Role


def _allowed_address(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine only (a provider the tests start)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def code_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class IdentityProvider:
    """The council's identity provider as the review desk uses it: its discovery document and keys
    (cached), the address to send the browser to, and the code exchanged for a checked ID token."""

    def __init__(self, settings: Settings, clock=time.time):
        self.issuer = (settings.web_oidc_issuer or "").rstrip("/")
        self.client_id = settings.web_oidc_client_id or ""
        secret = settings.web_oidc_client_secret
        self.client_secret = secret.get_secret_value() if secret else None
        self.roles_claim = settings.web_oidc_roles_claim
        self.clock = clock
        self._configuration: tuple[float, dict] | None = None
        self._keys: tuple[float, KeySet] | None = None

    async def _get_json(self, url: str) -> dict:
        if not _allowed_address(url):
            raise SignInRefused("The council's sign-in service is not at an https:// address.")
        try:
            async with httpx.AsyncClient(timeout=10, follow_redirects=False) as client:
                answer = await client.get(url, headers={"Accept": "application/json"})
            answer.raise_for_status()
            return answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("single sign-on: %s did not answer as expected: %s", url, exc)
            raise SignInRefused("The council's sign-in service did not answer. Try again in a few minutes.") from exc

    async def configuration(self) -> dict:
        if self._configuration and self._configuration[0] > self.clock():
            return self._configuration[1]
        document = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        # OpenID Connect Discovery 1.0, 4.3: the document must name the very issuer asked for
        if str(document.get("issuer", "")).rstrip("/") != self.issuer:
            raise SignInRefused("The council's sign-in service names another issuer than the one set.")
        for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(endpoint), str) or not _allowed_address(document[endpoint]):
                raise SignInRefused("The council's sign-in service's settings are incomplete.")
        self._configuration = (self.clock() + _CACHE_SECONDS, document)
        return document

    async def key_set(self, fresh: bool = False) -> KeySet:
        if not fresh and self._keys and self._keys[0] > self.clock():
            return self._keys[1]
        document = await self._get_json((await self.configuration())["jwks_uri"])
        try:
            keys = KeySet.import_key_set(document)
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise SignInRefused("The council's sign-in service published keys this service cannot read.") from exc
        self._keys = (self.clock() + _CACHE_SECONDS, keys)
        return keys

    async def authorization_url(self, flow: SignInFlow, redirect_uri: str) -> str:
        endpoint = (await self.configuration())["authorization_endpoint"]
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": code_challenge(flow.code_verifier),
            "code_challenge_method": "S256",
        }
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"

    async def exchange(self, code: str, flow: SignInFlow, redirect_uri: str) -> Vouched:
        """The user of the ID token the code is exchanged for, once every check has passed."""
        configuration = await self.configuration()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": flow.code_verifier,
            "client_id": self.client_id,
        }
        headers = {"Accept": "application/json"}
        methods = configuration.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if self.client_secret is not None:
            if "client_secret_basic" in methods:  # RFC 6749 2.3.1: each part form-encoded first
                pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
                headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
            else:
                form["client_secret"] = self.client_secret
        try:
            async with httpx.AsyncClient(timeout=10, follow_redirects=False) as client:
                answer = await client.post(configuration["token_endpoint"], data=form, headers=headers)
            tokens = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("single sign-on: the token endpoint did not answer as expected: %s", exc)
            raise SignInRefused("The council's sign-in service did not answer. Try again in a few minutes.") from exc
        if answer.status_code != 200 or not isinstance(tokens.get("id_token"), str):
            log.warning("single sign-on: no ID token (%s %s)", answer.status_code, tokens.get("error"))
            raise SignInRefused("The council's sign-in service did not confirm who you are. Try again.")
        return await self.checked(tokens["id_token"], flow.nonce)

    async def checked(self, id_token: str, nonce: str) -> Vouched:
        """The ID token's user: signed by the provider, for this service, not expired, for this sign-in."""
        configuration = await self.configuration()
        offered = configuration.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [name for name in _ALGORITHMS if name in offered] or ["RS256"]
        try:
            try:
                token = jwt.decode(id_token, await self.key_set(), algorithms=algorithms)
            except JoseError:  # perhaps a key the provider has rolled over to since the keys were read
                token = jwt.decode(id_token, await self.key_set(fresh=True), algorithms=algorithms)
            jwt.JWTClaimsRegistry(
                now=int(self.clock()),
                leeway=_CLOCK_SKEW_SECONDS,
                iss={"essential": True, "value": configuration["issuer"]},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                iat={"essential": True},
                sub={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            log.warning("single sign-on: ID token refused: %s", exc)
            raise SignInRefused("The council's sign-in service's answer could not be trusted. Try again.") from exc
        claims = token.claims
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.client_id:
            raise SignInRefused("The council's sign-in service's answer was for another service.")
        name = next(
            (claims[key] for key in ("preferred_username", "email", "sub") if isinstance(claims.get(key), str)), ""
        )
        return Vouched(name, self.role_of(claims, name))

    def role_of(self, claims: dict, name: str) -> Role:
        given = claims.get(self.roles_claim) or []
        given = [given] if isinstance(given, str) else given
        roles = {APP_ROLES[value] for value in given if isinstance(value, str) and value in APP_ROLES}
        for role in _WIDEST_FIRST:
            if role in roles:
                return role
        raise SignInRefused(
            f"Your council account ({name}) has no role in this service. Ask the service's owner to give you "
            "one of the app roles coforms.admin, coforms.finance or coforms.viewer."
        )


def provider_of(request: Request) -> IdentityProvider:
    """The app's one IdentityProvider (its cached keys live as long as the app)."""
    state = request.app.state
    if getattr(state, "identity_provider", None) is None:
        state.identity_provider = IdentityProvider(state.settings)
    return state.identity_provider


def _redirect_uri(request: Request) -> str:
    return request.app.state.settings.web_oidc_redirect_uri or str(request.url_for("sso_callback"))


def _refused(request: Request, message: str, status_code: int = 403) -> Response:
    response = problem_page(request, status_code, "You could not sign in", message)
    response.delete_cookie(FLOW_COOKIE, path="/login/sso")
    return response


async def start(request: Request) -> Response:
    settings = request.app.state.settings
    if not sso_enabled(settings):
        return problem_page(request, 404, "Page not found", "There is nothing at this address.")
    flow = SignInFlow(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        next=safe_next(request.query_params.get("next")),
    )
    try:
        address = await provider_of(request).authorization_url(flow, _redirect_uri(request))
    except SignInRefused as exc:
        return _refused(request, str(exc), 502)
    browser = await run_in_threadpool(request.app.state.accounts.start_sign_in_flow, flow)
    response = RedirectResponse(address, status_code=303)
    # Lax, not Strict: the provider's answer comes back as a navigation from its own site
    response.set_cookie(
        FLOW_COOKIE,
        browser,
        max_age=600,
        path="/login/sso",
        httponly=True,
        samesite="lax",
        secure=settings.web_secure_cookies,
    )
    return response


async def callback(request: Request) -> Response:
    settings = request.app.state.settings
    if not sso_enabled(settings):
        return problem_page(request, 404, "Page not found", "There is nothing at this address.")
    accounts = request.app.state.accounts
    flow = await run_in_threadpool(accounts.take_sign_in_flow, request.cookies.get(FLOW_COOKIE))
    state = request.query_params.get("state", "")
    if flow is None or not hmac.compare_digest(state.encode(), flow.state.encode()):
        return _refused(
            request,
            "This sign-in was not started here, was already used or took too long. Start again from the sign-in page.",
            400,
        )
    if request.query_params.get("error"):
        log.info("single sign-on: the provider answered %s", request.query_params.get("error"))
        return _refused(request, "The council's sign-in did not finish. Start again from the sign-in page.")
    code = request.query_params.get("code")
    if not code:
        return _refused(request, "The council's sign-in did not finish. Start again from the sign-in page.", 400)
    try:
        vouched = await provider_of(request).exchange(code, flow, _redirect_uri(request))
        user = await run_in_threadpool(accounts.single_sign_on_user, vouched.name, vouched.role)
    except (SignInRefused, AccountError) as exc:
        return _refused(request, str(exc))
    response = await signed_in_response(request, user, flow.next)
    response.delete_cookie(FLOW_COOKIE, path="/login/sso")
    return response


routes = [
    Route("/login/sso", start, methods=["GET"]),
    Route("/login/sso/callback", callback, methods=["GET"], name="sso_callback"),
]
