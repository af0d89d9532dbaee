"""The admin's decisions on recorded submissions: accept, reject, link a correction.

Each takes the run lock (never half-way through a scheduled run), changes the submission in one
transaction with an audit row (who, when, why), and rewrites the reports so exceptions.xlsx
shows the change at once.
"""

from __future__ import annotations

import getpass

from pipeline.settings import Settings
from pipeline.store.warehouse import REPLACEABLE, Warehouse, warehouse_exists


class AdminError(Exception):
    """An action that cannot be done; the message says why in plain words."""


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container): say so rather than guess
        return "unknown"


def _status(warehouse: Warehouse, submission_id: int) -> tuple[str, str | None]:
    row = warehouse.one("SELECT status, form_type FROM submissions WHERE submission_id = :id", id=submission_id)
    if row is None:
        raise AdminError(f"There is no submission {submission_id}.")
    return row


def accept(warehouse: Warehouse, submission_id: int, reason: str, actor: str) -> str:
    """A held form is loaded as it is: its errors are accepted, values that failed stay empty.
    On a loaded form, its open warnings are accepted."""
    status, _ = _status(warehouse, submission_id)
    if status not in ("held", "loaded"):
        raise AdminError(f"Submission {submission_id} is {status}: only a held (or loaded) form can be accepted.")
    with warehouse.transaction():
        warehouse.change_status(submission_id, "loaded", actor, "accept", reason, resolution=f"accepted: {reason}")
    return f"Submission {submission_id} was {status} and is now loaded; its open exceptions are accepted."


def reject(warehouse: Warehouse, submission_id: int, reason: str, actor: str) -> str:
    """The form is kept out of the warehouse for good; its exceptions are closed."""
    status, _ = _status(warehouse, submission_id)
    if status not in REPLACEABLE:
        raise AdminError(
            f"Submission {submission_id} is {status}: only a loaded, held or rejected form can be rejected."
        )
    with warehouse.transaction():
        warehouse.change_status(submission_id, "rejected", actor, "reject", reason, resolution=f"rejected: {reason}")
    return f"Submission {submission_id} was {status} and is now rejected; its open exceptions are closed."


def supersede(warehouse: Warehouse, old: int, new: int, reason: str, actor: str) -> str:
    """The admin says `new` corrects `old` (when the pipeline could not tell)."""
    if old == new:
        raise AdminError("A submission cannot replace itself.")
    old_status, old_type = _status(warehouse, old)
    new_status, new_type = _status(warehouse, new)
    if old_status not in REPLACEABLE:
        raise AdminError(f"Submission {old} is {old_status}: only a loaded, held or rejected form can be replaced.")
    if new_status in ("duplicate", "superseded"):
        raise AdminError(f"Submission {new} is {new_status} itself, so it cannot replace another.")
    if old_type and new_type and old_type != new_type:
        raise AdminError(
            f"Submission {old} is a {old_type} form and {new} a {new_type} form: one cannot correct the other."
        )
    with warehouse.transaction():
        warehouse.supersede(old, new, actor, reason)
    return f"Submission {old} is now superseded by {new}; its open exceptions are resolved."


def run_admin_action(settings: Settings, action, *args) -> str:
    """Run one action under the run lock, then rewrite the reports."""
    from pipeline.reports.write import write_reports
    from pipeline.store.lock import exclusive_run

    with exclusive_run(settings.outputs, settings.lock_wait_seconds, settings.warehouse):
        if not warehouse_exists(settings.warehouse):
            raise AdminError("There is no warehouse yet: run `coforms run` first.")
        with Warehouse(settings.warehouse) as warehouse:
            message = action(warehouse, *args)
            write_reports(warehouse, settings.outputs, settings)
    return message
