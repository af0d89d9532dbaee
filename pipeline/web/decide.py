"""The admin's decisions from the review desk: accept, reject, replace with a correction
(supersede), and undo. Every decision goes in two steps: a preview (what the CLI's --dry-run
prints: statuses, exceptions, the £ in and out of finance's totals), then "Confirm". Both steps
call pipeline.admin.actions through run_admin_action, as the CLI does: no rule lives here.

Safe beside runs and other admins: run_admin_action takes the run lock (waiting a few seconds
only: a person is waiting for the page) and, under it, checks that the form is still as the admin
saw it (its version, from pipeline.web.reads.form_version, carried by the page): if another admin
or a run changed it meanwhile, nothing is done and the page says to look again."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.admin import actions
from pipeline.admin.actions import ActionDoneReportsNot, AdminError, ChangedMeanwhile, run_admin_action
from pipeline.runtime.correct import correcting, undo_any
from pipeline.settings import Settings
from pipeline.store.database import WarehouseBusy
from pipeline.store.lock import RunInProgress
from pipeline.store.warehouse import Warehouse
from pipeline.web.data import reading
from pipeline.web.guard import checked_form, require
from pipeline.web.pages import render
from pipeline.web.reads import form_version
from pipeline.web.roles import Role

WEB_LOCK_WAIT_SECONDS = 5  # a person is waiting for the page: a run that holds the lock longer is said so
MAX_REASON = 500  # characters kept in the audit table's reason
SUPERSEDE_CHOICES = 50  # submissions offered as the correction (the same project's first, newest first)

DECISIONS = {"accept": actions.accept, "reject": actions.reject}
# what the buttons and headings call each action
VERBS = {
    "accept": ("Accept", "accepted"),
    "reject": ("Reject", "rejected"),
    "supersede": ("Replace", "replaced"),
    "undo": ("Undo", "undone"),
}


# ------------------------------------------------------------ what an action changes, for a page


@dataclass
class Change:
    """One line of an action's effect (pipeline.admin.effects.Effect.describe), as a summary-list row."""

    label: str
    value: str
    details: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    changes: list[Change]
    audit_id: int | None = None  # the action's audit row (what undo takes); None for a preview or an undo
    reports_warning: str | None = None  # done, but a report could not be rewritten


_DONE = re.compile(r"^Done \(action (\d+)\)\.")
_PREVIEW_FRAME = ("Dry run: nothing was changed.", "To do it, run the same command")


def _in_words(text: str) -> str:
    """The CLI's "held -> loaded" as "held to loaded" (a screen reader reads an arrow as a symbol)."""
    return text.replace(" -> ", " to ")


def outcome_of(message: str, undo: bool = False) -> Outcome:
    """The lines run_admin_action returns, as rows: the CLI's own framing lines (how to run the
    command, which command undoes it) are left out, the page offers those as buttons."""
    outcome = Outcome([])
    for line in message.splitlines():
        if not line.strip() or line.startswith(_PREVIEW_FRAME):
            continue
        if done := _DONE.match(line):
            outcome.audit_id = None if undo else int(done.group(1))
        elif line.startswith("But some reports were not written:"):
            outcome.reports_warning = line
        elif line.startswith("  ") and outcome.changes:
            outcome.changes[-1].details.append(_in_words(line.strip()))
        elif ": " in line:
            label, value = line.split(": ", 1)
            outcome.changes.append(Change(label, _in_words(value)))
        else:
            outcome.changes.append(Change("", _in_words(line)))
    return outcome


def _plain(message: str) -> str:
    """A refusal's words for the desk: the CLI's command to undo is an action here."""
    return re.sub(r"coforms undo (\d+)", r"undo action \1 (on the list of actions taken on the form)", message)


# ------------------------------------------------------------ carrying an action out


def _web_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings.model_copy(update={"lock_wait_seconds": min(settings.lock_wait_seconds, WEB_LOCK_WAIT_SECONDS)})


def unchanged_since(submission_id: int, version: str) -> Callable[[Warehouse], None]:
    """The check run under the run lock before acting: the form is as the admin last saw it."""

    def check(warehouse: Warehouse) -> None:
        if not version or form_version(warehouse, submission_id) != version:
            raise ChangedMeanwhile(
                f"Submission {submission_id} has changed since you opened it: someone else acted on it, or a "
                "run recorded a correction. Nothing was done. Open the form again to see it as it is now, "
                "then decide."
            )

    return check


def _opened_here_to_read(exc: sa.exc.OperationalError) -> bool:
    """DuckDB refuses to open its file for writing while another request of this process has it
    open to read (a page being shown): the action did not start, and can be tried again."""
    return "different configuration" in str(exc)


def act_when_free(settings: Settings, action, *args, **kwargs) -> str:
    """run_admin_action, tried again for a few seconds while other requests of this process are
    reading the embedded warehouse; after that, WarehouseBusy (nothing was done)."""
    deadline = time.monotonic() + WEB_LOCK_WAIT_SECONDS
    while True:
        try:
            return run_admin_action(settings, action, *args, **kwargs)
        except sa.exc.OperationalError as exc:
            if not _opened_here_to_read(exc):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(str(settings.warehouse)) from exc
        time.sleep(0.2)


class Refused(Exception):
    """An action that was not done; `response` is the page that says why."""

    def __init__(self, response: Response):
        self.response = response


async def _run(
    request: Request, submission_id: int | None, action, *args, dry_run: bool, check=None, undo: bool = False
) -> Outcome:
    try:
        message = await run_in_threadpool(
            act_when_free, _web_settings(request), action, *args, dry_run=dry_run, check=check
        )
    except RunInProgress as exc:
        raise Refused(
            _busy(
                request, "A run is loading forms into the warehouse right now. Nothing was done: try again in a minute."
            )
        ) from exc
    except WarehouseBusy as exc:
        raise Refused(
            _busy(
                request, "The warehouse is busy (other pages are reading it). Nothing was done: try again in a minute."
            )
        ) from exc
    except ChangedMeanwhile as exc:
        raise Refused(_refused(request, 409, "This form has changed", str(exc), submission_id)) from exc
    except AdminError as exc:
        raise Refused(_refused(request, 409, "Not done", _plain(str(exc)), submission_id)) from exc
    except ActionDoneReportsNot as exc:  # the action stands: say both
        message = str(exc)
    return outcome_of(message, undo=undo)


def _busy(request: Request, message: str) -> Response:
    response = render(request, "decide_refused.html", status_code=503, title="Busy: try again", message=message)
    response.headers["Retry-After"] = "60"
    return response


def _refused(request: Request, status: int, title: str, message: str, submission_id: int | None) -> Response:
    return render(
        request, "decide_refused.html", status_code=status, title=title, message=message, submission_id=submission_id
    )


def _reason(fields: dict[str, str]) -> str:
    return " ".join(fields.get("reason", "").split())[:MAX_REASON]


def _submission_id_of(fields: dict[str, str], name: str) -> int | None:
    value = fields.get(name, "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


# ------------------------------------------------------------ accept and reject


def _status_of(request: Request, submission_id: int) -> tuple[str, str | None] | None:
    with reading(request.app.state.settings) as warehouse:
        row = warehouse.one("SELECT status, form_type FROM submissions WHERE submission_id = :id", id=submission_id)
    return (row[0], row[1]) if row else None


def _ask_again(request: Request, submission_id: int, fields: dict[str, str], error: str) -> Response:
    """The decision form on a page of its own, with what was missing said at the top."""
    known = _status_of(request, submission_id)
    if known is None:
        return _refused(request, 404, "No such submission", f"There is no submission {submission_id}.", None)
    return render(
        request,
        "decide_reason.html",
        status_code=400,
        title="Give a reason",
        error=error,
        decide_error=error,
        submission_id=submission_id,
        status=known[0],
        form_type=known[1],
        version=fields.get("version", ""),
        decide_reason=fields.get("reason", ""),
    )


async def decision_preview(request: Request) -> Response:
    user, fields = await checked_form(request, Role.ADMIN)
    submission_id = request.path_params["submission_id"]
    action, reason, version = fields.get("action", ""), _reason(fields), fields.get("version", "")
    if action not in DECISIONS:
        return _refused(request, 400, "Choose what to do", "Choose accept or reject.", submission_id)
    if not reason:
        return _ask_again(request, submission_id, fields, "Say why (the reason is kept with the decision)")
    try:
        outcome = await _run(
            request,
            submission_id,
            DECISIONS[action],
            submission_id,
            reason,
            user.name,
            dry_run=True,
            check=unchanged_since(submission_id, version),
        )
    except Refused as refused:
        return refused.response
    return render(
        request,
        "decide_preview.html",
        title=f"Check before you {action} submission {submission_id}",
        action=action,
        verb=VERBS[action][0],
        post_to=f"/forms/{submission_id}/decide/confirm",
        submission_id=submission_id,
        outcome=outcome,
        reason=reason,
        hidden={"action": action, "reason": reason, "version": version},
    )


async def decision_confirm(request: Request) -> Response:
    user, fields = await checked_form(request, Role.ADMIN)
    submission_id = request.path_params["submission_id"]
    action, reason, version = fields.get("action", ""), _reason(fields), fields.get("version", "")
    if action not in DECISIONS or not reason:
        return _refused(request, 400, "Not done", "The decision was incomplete: start again from the form.", None)
    try:
        outcome = await _run(
            request,
            submission_id,
            DECISIONS[action],
            submission_id,
            reason,
            user.name,
            dry_run=False,
            check=unchanged_since(submission_id, version),
        )
    except Refused as refused:
        return refused.response
    return _done(request, f"Submission {submission_id} {VERBS[action][1]}", submission_id, outcome)


def _done(request: Request, title: str, submission_id: int, outcome: Outcome) -> Response:
    return render(request, "decide_done.html", title=title, submission_id=submission_id, outcome=outcome)


# ------------------------------------------------------------ supersede: a later submission corrects this one


def _candidates(warehouse: Warehouse, submission_id: int):
    """The submissions that may be this one's correction: of its form type (any, for a file that was
    not read as a form), not duplicates or replaced themselves; the same project's first, newest first."""
    me = warehouse.one(
        "SELECT submission_id, form_type, project_name, status, source_file FROM submissions WHERE submission_id = :id",
        id=submission_id,
    )
    if me is None:
        return None, []
    rows = warehouse.rows(
        "SELECT submission_id, source_file, status, project_name, sender, received_at FROM submissions "
        "WHERE submission_id <> :id AND status IN ('loaded', 'held', 'rejected') "
        "AND (CAST(:form_type AS VARCHAR) IS NULL OR form_type = :form_type) "
        "ORDER BY (project_name IS NOT DISTINCT FROM :project) DESC, received_at DESC NULLS LAST, "
        "submission_id DESC LIMIT :limit",
        id=submission_id,
        form_type=me.form_type,
        project=me.project_name,
        limit=SUPERSEDE_CHOICES,
    )
    return me, rows


def _choose_page(request: Request, submission_id: int, version: str, status_code: int = 200, **extra) -> Response:
    with reading(request.app.state.settings) as warehouse:
        me, candidates = _candidates(warehouse, submission_id)
    if me is None:
        return _refused(request, 404, "No such submission", f"There is no submission {submission_id}.", None)
    return render(
        request,
        "decide_supersede.html",
        status_code=status_code,
        title=f"Replace submission {submission_id} with its correction",
        me=me,
        candidates=candidates,
        submission_id=submission_id,
        version=version,
        **extra,
    )


async def supersede_choose(request: Request) -> Response:
    require(request, Role.ADMIN)
    submission_id = request.path_params["submission_id"]
    version = request.query_params.get("version", "")
    if not version:  # opened without the form page: the form as it is now is what the admin sees
        with reading(request.app.state.settings) as warehouse:
            version = form_version(warehouse, submission_id)
    return _choose_page(request, submission_id, version)


def _supersede_fields(fields: dict[str, str]) -> tuple[int | None, dict[str, str]]:
    """The correction's number (typed, else chosen) and the errors of the form, by field."""
    typed, chosen = fields.get("new_number", "").strip(), _submission_id_of(fields, "new")
    errors = {}
    new = chosen
    if typed:
        new = _submission_id_of(fields, "new_number")
        if new is None:
            errors["new_number"] = "Type the submission's number, for example 12"
    elif chosen is None:
        errors["new"] = "Choose the submission that corrects this one"
    if not _reason(fields):
        errors["reason"] = "Say why (the reason is kept with the decision)"
    return new, errors


async def _supersede(
    request: Request, submission_id, new: int, reason: str, actor: str, version: str, *, dry_run: bool
):
    return await _run(
        request,
        submission_id,
        actions.supersede,
        submission_id,
        new,
        reason,
        actor,
        dry_run=dry_run,
        check=unchanged_since(submission_id, version),
    )


async def supersede_preview(request: Request) -> Response:
    user, fields = await checked_form(request, Role.ADMIN)
    submission_id = request.path_params["submission_id"]
    version, reason = fields.get("version", ""), _reason(fields)
    new, errors = _supersede_fields(fields)
    if errors:
        return _choose_page(
            request, submission_id, version, 400, errors=errors, chosen=fields.get("new", ""), reason=reason,
            typed=fields.get("new_number", ""),
        )  # fmt: skip
    try:
        outcome = await _supersede(request, submission_id, new, reason, user.name, version, dry_run=True)
    except Refused as refused:
        return refused.response
    return render(
        request,
        "decide_preview.html",
        title=f"Check before you replace submission {submission_id} with submission {new}",
        action="supersede",
        verb=VERBS["supersede"][0],
        post_to=f"/forms/{submission_id}/supersede/confirm",
        submission_id=submission_id,
        outcome=outcome,
        reason=reason,
        hidden={"new": str(new), "reason": reason, "version": version},
    )


async def supersede_confirm(request: Request) -> Response:
    user, fields = await checked_form(request, Role.ADMIN)
    submission_id = request.path_params["submission_id"]
    new, reason, version = _submission_id_of(fields, "new"), _reason(fields), fields.get("version", "")
    if new is None or not reason:
        return _refused(request, 400, "Not done", "The decision was incomplete: start again from the form.", None)
    try:
        outcome = await _supersede(request, submission_id, new, reason, user.name, version, dry_run=False)
    except Refused as refused:
        return refused.response
    return _done(request, f"Submission {submission_id} replaced by submission {new}", submission_id, outcome)


# ------------------------------------------------------------ the actions taken on a form, and undo


def _submission_of_action(request: Request, audit_id: int) -> int | None:
    with reading(request.app.state.settings) as warehouse:
        row = warehouse.one("SELECT submission_id FROM audit WHERE audit_id = :id", id=audit_id)
    return row[0] if row else None


async def actions_taken(request: Request) -> Response:
    """Every audited action on a form (or naming it as the correction), latest first; the one that
    can be undone now has an Undo button."""
    require(request, Role.ADMIN)
    submission_id = request.path_params["submission_id"]
    with reading(request.app.state.settings) as warehouse:
        known = warehouse.one("SELECT status FROM submissions WHERE submission_id = :id", id=submission_id)
        taken = warehouse.rows(
            "SELECT audit_id, acted_at, actor, action, submission_id, related_submission_id, old_status, "
            "new_status, reason, undoes_audit_id, undone_by_audit_id, can_undo FROM audit "
            "WHERE submission_id = :id OR related_submission_id = :id ORDER BY audit_id DESC",
            id=submission_id,
        )
    if known is None:
        return _refused(request, 404, "No such submission", f"There is no submission {submission_id}.", None)
    return render(
        request,
        "decide_actions.html",
        title=f"Actions taken on submission {submission_id}",
        submission_id=submission_id,
        status=known[0],
        taken=taken,
    )


async def undo_preview(request: Request) -> Response:
    user, fields = await checked_form(request, Role.ADMIN)
    audit_id = request.path_params["audit_id"]
    submission_id = _submission_of_action(request, audit_id)
    reason = _reason(fields)
    try:
        outcome = await _run(
            request, submission_id, _undoing(request), audit_id, reason, user.name, dry_run=True, undo=True
        )
    except Refused as refused:
        return refused.response
    return render(
        request,
        "decide_preview.html",
        title=f"Check before you undo action {audit_id}",
        action="undo",
        verb=VERBS["undo"][0],
        post_to=f"/actions/{audit_id}/undo/confirm",
        submission_id=submission_id,
        outcome=outcome,
        reason=reason,
        hidden={"reason": reason},
    )


async def undo_confirm(request: Request) -> Response:
    """An undo needs no version: the action it takes back must still be the latest on its form, and
    pipeline.admin.actions refuses it otherwise (under the run lock)."""
    user, fields = await checked_form(request, Role.ADMIN)
    audit_id = request.path_params["audit_id"]
    submission_id = _submission_of_action(request, audit_id)
    try:
        outcome = await _run(
            request, submission_id, _undoing(request), audit_id, _reason(fields), user.name, dry_run=False, undo=True
        )
    except Refused as refused:
        return refused.response
    return _done(request, f"Action {audit_id} undone", submission_id, outcome)


def _undoing(request: Request) -> Callable:
    """Undo of any audited action, as `coforms undo` does it: a correction of a value by validating
    the form again without it (pipeline.runtime.correct), the others by their status."""
    return functools.partial(undo_any, how=correcting(request.app.state.settings))


routes = [
    Route("/forms/{submission_id:int}/decide", decision_preview, methods=["POST"]),
    Route("/forms/{submission_id:int}/decide/confirm", decision_confirm, methods=["POST"]),
    Route("/forms/{submission_id:int}/supersede", supersede_choose, methods=["GET"]),
    Route("/forms/{submission_id:int}/supersede", supersede_preview, methods=["POST"]),
    Route("/forms/{submission_id:int}/supersede/confirm", supersede_confirm, methods=["POST"]),
    Route("/forms/{submission_id:int}/actions", actions_taken, methods=["GET"]),
    Route("/actions/{audit_id:int}/undo", undo_preview, methods=["POST"]),
    Route("/actions/{audit_id:int}/undo/confirm", undo_confirm, methods=["POST"]),
]
