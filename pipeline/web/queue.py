"""The queue (GET /queue, admins): open problems grouped by sender and form, the sender heard from
most recently first, each sender's forms newest first, as exceptions.xlsx orders them; files not
read as forms apart. Filters come as query parameters (a GET form, so a filtered queue can be
bookmarked); a value that is not valid is left out with a message, never an error page. Filtering,
counting and paging happen in SQL (pipeline.web.reads), so a page costs the same with 20,000
problems as with 20."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.forms.where import where_in_words
from pipeline.problems import CATALOGUE, ProblemCode
from pipeline.reports.workbook import local_time
from pipeline.web.data import reading
from pipeline.web.guard import require
from pipeline.web.pages import render
from pipeline.web.reads import FORM_TYPES, QueueFilter, open_queue
from pipeline.web.roles import Role

MAX_SENDER_TEXT = 200
NO_SENDER = "No email: files put in the inbox"


def parse_filter(params) -> tuple[QueueFilter, list[str]]:
    """The filter the query asks for, and a message for each value that was left out."""
    left_out = []
    code = (params.get("code") or "").strip() or None
    if code and code not in {c.value for c in ProblemCode}:
        left_out.append(f"There is no problem called “{code[:60]}”: the problem filter was left out.")
        code = None
    form_type = (params.get("form_type") or "").strip() or None
    if form_type and form_type not in FORM_TYPES:
        left_out.append(f"There is no form called “{form_type[:60]}”: the form filter was left out.")
        form_type = None
    sender = (params.get("sender") or "").strip()[:MAX_SENDER_TEXT] or None
    dates = {}
    for name, words in (("received_from", "received from"), ("received_to", "received to")):
        text = (params.get(name) or "").strip()
        dates[name] = _date(text)
        if text and dates[name] is None:
            left_out.append(
                f"“{text[:30]}” is not a date (write it as day/month/year, for example 3/4/2025): "
                f"the {words} filter was left out."
            )
    return QueueFilter(code, form_type, sender, dates["received_from"], dates["received_to"]), left_out


def _date(text: str) -> dt.date | None:
    """A date as a browser's date field sends it (2025-04-03) or as a person types it (3/4/2025)."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            day = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return day if 1900 <= day.year <= 2200 else None
    return None


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and len(text) < 7 else 1


def _query(wanted: QueueFilter, page: int | None = None) -> str:
    """The query string of a filtered queue (for links that keep the filters)."""
    pairs = {
        "code": wanted.code,
        "form_type": wanted.form_type,
        "sender": wanted.sender,
        "received_from": wanted.received_from.isoformat() if wanted.received_from else None,
        "received_to": wanted.received_to.isoformat() if wanted.received_to else None,
        "page": page if page and page > 1 else None,
    }
    return urlencode({k: v for k, v in pairs.items() if v})


def when(moment: dt.datetime | None) -> str:
    """A stored time (UTC) as London's clock shows it, in words: 3 Apr 2025, 14:05."""
    local = local_time(moment)
    return local.strftime("%-d %b %Y, %H:%M") if local else "not known"


def queue_page(request: Request) -> Response:
    require(request, Role.ADMIN)
    wanted, left_out = parse_filter(request.query_params)
    with reading(request.app.state.settings) as warehouse:
        queue = open_queue(warehouse, wanted, _page_number(request.query_params.get("page")))
    groups: list[tuple[str, list]] = []
    for form in queue.forms:  # already in sender order
        name = form.sender or NO_SENDER
        if not groups or groups[-1][0] != name:
            groups.append((name, []))
        groups[-1][1].append(form)
    return render(
        request,
        "queue.html",
        title="Forms to review",
        queue=queue,
        groups=groups,
        wanted=wanted,
        left_out=left_out,
        codes=[(code.value, CATALOGUE[code].meaning) for code in ProblemCode],
        meaning={code.value: CATALOGUE[code].meaning for code in ProblemCode},
        form_types=FORM_TYPES,
        filtered=any(vars(wanted).values()),
        previous_page=_query(wanted, queue.page - 1) if queue.page > 1 else None,
        next_page=_query(wanted, queue.page + 1) if queue.page < queue.pages else None,
        code_link=lambda code: _query(
            QueueFilter(code, wanted.form_type, wanted.sender, wanted.received_from, wanted.received_to)
        ),
        where=where_in_words,
        when=when,
    )


routes = [Route("/queue", queue_page, methods=["GET"])]
