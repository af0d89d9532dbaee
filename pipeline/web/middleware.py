"""Every request: the session from its cookie (who is asking), a post sent by another site refused
before any route sees it, and the security headers on every response (a Content-Security-Policy that
allows only this app's own files, no framing, no sniffing)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.web.accounts import Accounts
from pipeline.web.pages import problem_page

SESSION_COOKIE = "coforms_session"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


# what the browser says about where a request comes from (Fetch Metadata); old browsers send nothing
_FOREIGN_SITES = {"cross-site", "same-site"}
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class SessionsAndHeaders:
    def __init__(self, app: ASGIApp, accounts: Accounts, https_only: bool = True):
        self.app = app
        self.accounts = accounts
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        token = request.cookies.get(SESSION_COOKIE)
        session = await run_in_threadpool(self.accounts.session, token)
        state = scope.setdefault("state", {})
        state["user"] = session.user if session else None
        state["csrf"] = session.csrf if session else None
        state["session_token"] = token if session else None

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if self.https_only:  # the browser never tries this site over plain HTTP again
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if session is not None:  # pages of a signed-in user are never kept by a shared cache
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        if request.method not in _SAFE_METHODS and request.headers.get("sec-fetch-site") in _FOREIGN_SITES:
            # a form on another site posting here: refused whatever it carries (the CSRF token is
            # the defence for browsers that do not say where a request comes from)
            response = problem_page(
                request,
                403,
                "Form out of date",
                "This form was out of date or not sent from this site. Go back, reload the page and try again.",
            )
            await response(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)
