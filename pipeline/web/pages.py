"""Rendering pages: one Jinja2 environment (autoescaped: every value a sender controls, names, file
names, subjects, is text on the page, never markup), the layout's shared values, plain error pages."""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True))


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """A page, with what the layout needs: the signed-in user and the session's CSRF token."""
    context.setdefault("user", getattr(request.state, "user", None))
    context.setdefault("csrf", getattr(request.state, "csrf", None))
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def problem_page(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    """An error as a page that says what happened and what to do, in plain words."""
    return render(request, "problem.html", status_code=status_code, title=title, message=message)
