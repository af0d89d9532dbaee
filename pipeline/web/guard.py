"""Who is asking, and whether they may: every route calls `require` with the roles it allows, and
every form post `checked_form` (its CSRF token must be the session's)."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from pipeline.web.accounts import User
from pipeline.web.roles import Role


class SignInNeeded(Exception):
    """No session: the app sends the browser to the sign-in page (and back here after)."""


class NotAllowed(Exception):
    """Signed in, but this role may not do this."""


class BadFormPost(Exception):
    """A form post without this session's CSRF token (a forged or stale request)."""


def require(request: Request, *roles: Role) -> User:
    user: User | None = getattr(request.state, "user", None)
    if user is None:
        raise SignInNeeded()
    if user.role not in roles:
        raise NotAllowed()
    return user


async def checked_form(request: Request, *roles: Role) -> tuple[User, dict[str, str]]:
    """The signed-in user (one of `roles`) and the posted fields, once the CSRF token is checked."""
    user = require(request, *roles)
    form = await request.form()
    sent = form.get("csrf")
    expected = getattr(request.state, "csrf", None)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise BadFormPost()
    return user, {key: value for key, value in form.items() if isinstance(value, str)}
