"""Correcting a value, or confirming what OCR read, from the review desk (admins only).

Beside each value of the form page (templates/value_correction.html) the admin types the value as
it should read, or confirms a scan's reading, with a reason. Each goes in two steps, as every
decision does (pipeline.web.decide): a preview (the value before and after, the status, the
problems that go, stay and come, the £ in finance's totals), then "Confirm". Both steps call
pipeline.runtime.correct.run_correction, as `coforms correct` and `coforms confirm` do: the form is
validated again by the pipeline's own code; nothing here decides anything.

Safe beside runs and other admins as the decisions are: the run lock is waited for a few seconds
only, and under it the form's version (from the page) must still be the form's, else nothing is
done and the page says the form has changed (409)."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.admin.actions import ActionDoneReportsNot, AdminError, ChangedMeanwhile
from pipeline.runtime.correct import confirm, correct, run_correction
from pipeline.settings import Settings
from pipeline.store.database import WarehouseBusy
from pipeline.store.lock import RunInProgress
from pipeline.web.decide import outcome_of, unchanged_since
from pipeline.web.guard import checked_form
from pipeline.web.pages import render
from pipeline.web.roles import Role

WEB_LOCK_WAIT_SECONDS = 5  # a person is waiting for the page
MAX_REASON = 500  # characters kept in the audit table's reason
MAX_VALUE = 2000  # a value typed in: longer than any answer on the four forms
FIELD_PATH = re.compile(r"[a-z][a-z0-9_]{0,60}(?:\.[a-z0-9_]{1,60}){0,3}")  # "date", "lines.3.amount"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings.model_copy(update={"lock_wait_seconds": min(settings.lock_wait_seconds, WEB_LOCK_WAIT_SECONDS)})


def _refused(request: Request, status: int, title: str, message: str, submission_id: int | None) -> Response:
    return render(
        request, "decide_refused.html", status_code=status, title=title, message=message, submission_id=submission_id
    )


def _plain(message: str) -> str:
    """The CLI's words for the desk: its commands are buttons here."""
    message = re.sub(r"coforms undo (\d+)", r"undo action \1 (on the list of actions taken on the form)", message)
    return re.sub(r"coforms supersede (\d+) (\d+)", r"replace submission \1 with submission \2", message)


def _words(field: str) -> str:
    """A field path as the page says it: "lines.3.amount" -> "row 3, amount"."""
    parts = field.split(".")
    if parts[0] == "lines" and len(parts) == 3:
        return f"row {parts[1]}, {parts[2].replace('_', ' ')}"
    return field.replace("_", " ").replace(".", ", ")


async def correct_value(request: Request) -> Response:
    return await _correction(request, confirming=False)


async def confirm_reading(request: Request) -> Response:
    return await _correction(request, confirming=True)


async def _correction(request: Request, confirming: bool) -> Response:
    user, fields = await checked_form(request, Role.ADMIN)
    submission_id = request.path_params["submission_id"]
    field = fields.get("field", "").strip()
    value = fields.get("value", "").strip()
    reason = " ".join(fields.get("reason", "").split())[:MAX_REASON]
    version = fields.get("version", "")
    if not FIELD_PATH.fullmatch(field):
        return _refused(request, 400, "No such value", "The form has no such value to correct.", submission_id)
    errors = {}
    if not confirming and not value:
        errors["value"] = "Type the value as it should read"
    elif len(value) > MAX_VALUE:
        errors["value"] = f"The value can be at most {MAX_VALUE} characters long"
    if not reason:
        errors["reason"] = "Say why (the reason is kept with the correction)"
    if errors:
        return render(
            request,
            "value_correction_ask.html",
            status_code=400,
            title=f"{'Confirm the reading of' if confirming else 'Correct'} {_words(field)}",
            errors=errors,
            field=field,
            words=_words(field),
            value=value,
            reason=reason,
            submission_id=submission_id,
            version=version,
            confirming=confirming,
        )
    dry_run = fields.get("step") != "confirm"
    action, args = (confirm, (field, reason)) if confirming else (correct, (field, value, reason))
    try:
        message = await run_in_threadpool(
            run_correction,
            _settings(request),
            action,
            submission_id,
            *args,
            user.name,
            dry_run=dry_run,
            check=unchanged_since(submission_id, version),
        )
    except (RunInProgress, WarehouseBusy):
        response = _refused(
            request,
            503,
            "A run is loading forms",
            "A run is loading forms into the warehouse right now. Nothing was done: try again in a minute.",
            submission_id,
        )
        response.headers["Retry-After"] = "60"
        return response
    except ChangedMeanwhile as exc:
        return _refused(request, 409, "This form has changed", str(exc), submission_id)
    except AdminError as exc:
        return _refused(request, 400, "Not done", _plain(str(exc)), submission_id)
    except ActionDoneReportsNot as exc:  # the correction stands: say both
        message = str(exc)
    outcome = outcome_of(_plain(message))
    what = "the reading of" if confirming else ""
    if dry_run:
        return render(
            request,
            "decide_preview.html",
            title=f"Check before you {'confirm' if confirming else 'correct'} {what} {_words(field)}".replace(
                "  ", " "
            ),
            action="correct",
            verb="Keep the reading" if confirming else "Correct the value",
            post_to=request.url.path,
            submission_id=submission_id,
            outcome=outcome,
            reason=reason,
            hidden={"field": field, "value": value, "reason": reason, "version": version, "step": "confirm"},
        )
    title = f"Submission {submission_id}: {_words(field)} {'confirmed' if confirming else 'corrected'}"
    return render(request, "decide_done.html", title=title, submission_id=submission_id, outcome=outcome)


routes = [
    Route("/forms/{submission_id:int}/correct", correct_value, methods=["POST"]),
    Route("/forms/{submission_id:int}/confirm", confirm_reading, methods=["POST"]),
]
