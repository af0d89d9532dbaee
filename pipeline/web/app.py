"""The review desk's application: its routes, the session and security-header middleware, and
failures turned into plain pages (sign in, not allowed, a run is going...)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from pipeline.settings import Settings
from pipeline.web import corrections, decide, finance, form_page, oidc, queue, replies, signin, summary
from pipeline.web.accounts import Accounts
from pipeline.web.data import NoWarehouse, RunGoing
from pipeline.web.guard import BadFormPost, NotAllowed, SignInNeeded
from pipeline.web.middleware import SessionsAndHeaders
from pipeline.web.pages import STATIC, problem_page


def accounts_for(settings: Settings) -> Accounts:
    return Accounts(settings.outputs / "web" / "accounts.sqlite", settings.web_session_hours * 3600)


def create_app(settings: Settings) -> Starlette:
    accounts = accounts_for(settings)
    app = Starlette(
        routes=[
            *signin.routes,
            *oidc.routes,
            *queue.routes,
            *form_page.routes,
            *decide.routes,
            *corrections.routes,
            *finance.routes,
            *replies.routes,
            *summary.routes,
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(SessionsAndHeaders, accounts=accounts, https_only=settings.web_secure_cookies)],
        exception_handlers={
            SignInNeeded: _sign_in_first,
            NotAllowed: _not_allowed,
            BadFormPost: _bad_form_post,
            RunGoing: _run_going,
            NoWarehouse: _no_warehouse,
            404: _not_found,
        },
    )
    app.state.settings = settings
    app.state.accounts = accounts
    return app


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    if request.method != "GET":
        return problem_page(request, 401, "Signed out", "Your session has ended. Sign in again, then try again.")
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={_quoted(path)}", status_code=303)


def _quoted(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return problem_page(request, 403, "Not allowed", "Your account may not open this page or do this.")


async def _bad_form_post(request: Request, exc: Exception) -> Response:
    return problem_page(
        request,
        403,
        "Form out of date",
        "This form was out of date or not sent from this site. Go back, reload the page and try again.",
    )


async def _run_going(request: Request, exc: Exception) -> Response:
    response = problem_page(
        request,
        503,
        "A run is loading forms",
        "A run is loading new forms into the warehouse right now. Try again in a minute.",
    )
    response.headers["Retry-After"] = "60"
    return response


async def _no_warehouse(request: Request, exc: Exception) -> Response:
    return problem_page(request, 404, "Nothing loaded yet", "No forms have been loaded yet: the first run loads them.")


async def _not_found(request: Request, exc: Exception) -> Response:
    return problem_page(request, 404, "Page not found", "There is nothing at this address.")
