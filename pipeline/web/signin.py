"""Signing in and out with a local account. The sign-in form carries a CSRF token of its own (a
cookie and a field that must match), since there is no session yet; failed attempts are counted
per name and per address, and the form refuses to try again for a while after too many. Every
sign-in, with a password or single sign-on (pipeline.web.oidc), ends the browser's old session
and starts a new one (`signed_in_response`)."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipeline.web.accounts import User
from pipeline.web.guard import BadFormPost, checked_form
from pipeline.web.middleware import SESSION_COOKIE
from pipeline.web.pages import render
from pipeline.web.roles import HOME, Role

LOGIN_CSRF_COOKIE = "coforms_signin"
ATTEMPTS = 5  # failed sign-ins for one name before a pause
# failed sign-ins from one address (any names) before a pause: higher, as an office's computers may
# all reach the desk from one address, and one person's typos must not stop the others
ADDRESS_ATTEMPTS = 20
ATTEMPT_WINDOW_SECONDS = 15 * 60


def safe_next(target: str | None) -> str | None:
    """Where to go after signing in: a path of this app only (never another site: no open redirect).

    Browsers read "/\\evil" as "//evil" (another host) and drop tabs and line breaks ("/<tab>/evil"),
    so only visible ASCII is kept, and nothing whose second character could start a host name."""
    if not target or len(target) > 2000 or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return None
    if any(not 0x21 <= ord(character) < 0x7F or character == "\\" for character in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def sso_enabled(settings) -> bool:
    """Single sign-on is on when the identity provider and this service's id there are set."""
    return bool(settings.web_oidc_issuer and settings.web_oidc_client_id)


def _cookie_args(request: Request, samesite: str = "strict") -> dict:
    settings = request.app.state.settings
    return {"httponly": True, "samesite": samesite, "secure": settings.web_secure_cookies, "path": "/"}


async def signed_in_response(request: Request, user: User, target: str | None) -> Response:
    """The answer to a sign-in that succeeded: the browser's old session ends (no fixation), a new
    one starts, and the browser goes on to where it was going or to the role's home page."""
    accounts = request.app.state.accounts
    await run_in_threadpool(accounts.end_session, request.cookies.get(SESSION_COOKIE))
    token = await run_in_threadpool(accounts.start_session, user)
    response = RedirectResponse(target or HOME[user.role], status_code=303)
    # Lax, not Strict: a link to a form from an email must open it for a signed-in admin (with
    # Strict the browser leaves the cookie out of any visit that starts on another site). Posts
    # stay safe: each carries the session's CSRF token, and the middleware refuses cross-site ones.
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(accounts.longest_session_seconds), **_cookie_args(request, "lax")
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def sign_in_page(request: Request) -> Response:
    if request.state.user is not None:
        return RedirectResponse(HOME[request.state.user.role], status_code=303)
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "signin.html",
        form_csrf=token,
        next=safe_next(request.query_params.get("next")),
        sso=sso_enabled(request.app.state.settings),
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, **_cookie_args(request))
    return response


def _signin_again(request: Request, status: int, csrf: str, target: str | None, name: str, error: str) -> Response:
    """The sign-in page once more, with the name kept and what went wrong."""
    return render(
        request,
        "signin.html",
        status_code=status,
        form_csrf=csrf,
        sso=sso_enabled(request.app.state.settings),
        next=target,
        name=name,
        error=error,
    )


async def sign_in(request: Request) -> Response:
    accounts = request.app.state.accounts
    form = await request.form()
    sent, expected = form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise BadFormPost()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    address = request.client.host if request.client else "unknown"
    keys = (f"name:{name.casefold()}", f"address:{address}")
    counts = [await run_in_threadpool(accounts.failed_attempts, key, ATTEMPT_WINDOW_SECONDS) for key in keys]
    if counts[0] >= ATTEMPTS or counts[1] >= ADDRESS_ATTEMPTS:
        return _signin_again(
            request, 429, expected, target, name, "Too many attempts to sign in. Wait 15 minutes, then try again."
        )
    user = await run_in_threadpool(accounts.check_password, name, password)
    if user is None:
        for key in keys:
            await run_in_threadpool(accounts.record_failure, key)
        return _signin_again(request, 400, expected, target, name, "The name or the password is not right.")
    await run_in_threadpool(accounts.clear_failures, keys[0])
    return await signed_in_response(request, user, target)


async def sign_out(request: Request) -> Response:
    await checked_form(request, *Role)
    await run_in_threadpool(request.app.state.accounts.end_session, request.state.session_token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def home(request: Request) -> Response:
    user = request.state.user
    return RedirectResponse(HOME[user.role] if user else "/login", status_code=303)


routes = [
    Route("/", home),
    Route("/login", sign_in_page, methods=["GET"]),
    Route("/login", sign_in, methods=["POST"]),
    Route("/logout", sign_out, methods=["POST"]),
]
