"""The admin's decisions on recorded submissions: accept, reject, link a correction, undo.

Each takes the run lock (never half-way through a scheduled run), changes the submission in one
transaction with an audit row (who, when, why), and rewrites the reports so exceptions.xlsx
shows the change at once. Each says what it changed (pipeline.admin.effects: statuses,
exceptions, pounds in and out of finance's totals) and the audit id that `undo` takes.

With `dry_run` an action is carried out inside its transaction, described, and rolled back:
the preview is what the action would do, computed by the same code, and nothing is kept (no
audit row, no report rewritten).

`undo` puts a submission back as it was before one audited action (its status, and the
exceptions that action resolved are open again), and is audited itself as action `undo`. Undo
works like an editor's: the latest action on a submission first; the audit view's `can_undo`
says which actions can be undone now. An undo is not undone in turn: to do the action again,
the admin runs it again (after an undo it is allowed again, as before it).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable

from pipeline.admin.effects import Effect, snapshot
from pipeline.settings import Settings
from pipeline.store.warehouse import REPLACEABLE, Warehouse, warehouse_exists

LISTED_UNDOABLE = 10  # ids named when an undo is refused (the audit view lists them all)


class AdminError(Exception):
    """An action that cannot be done; the message says why in plain words."""


class _Preview(Exception):
    """Raised inside the transaction of a dry run, so that it is rolled back."""


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


def _undo_hint(warehouse: Warehouse, submission_id: int) -> str:
    """How to take back the action that gave a submission its present status, if one can be."""
    row = warehouse.one(
        "SELECT a.audit_id, a.action FROM audit a JOIN submissions s USING (submission_id) "
        "WHERE a.submission_id = :id AND a.can_undo AND a.new_status = s.status",
        id=submission_id,
    )
    action = {"correct": "correction", "confirm": "confirmation"}.get(row.action, row.action) if row else ""
    return f" To take back that {action}: coforms undo {row.audit_id}" if row else ""


def _carry_out(
    warehouse: Warehouse,
    submission_ids: list[int],
    change: Callable[[], None],
    dry_run: bool,
    done: Callable[[int], str] = lambda audit_id: f"To undo: coforms undo {audit_id}",
) -> str:
    """Make the change in one transaction, reading what it changes before and after; kept only
    when this is not a dry run. The effect in words, with the audit id to undo it."""
    try:
        with warehouse.transaction():
            before = snapshot(warehouse, submission_ids)
            change()
            effect = Effect(before, snapshot(warehouse, submission_ids))
            if dry_run:
                raise _Preview
    except _Preview:
        return "\n".join(
            [
                "Dry run: nothing was changed. The action would do this:",
                *effect.describe(),
                "To do it, run the same command without --dry-run.",
            ]
        )
    audit_id = warehouse.last_audit_id
    return "\n".join([*effect.describe(), f"Done (action {audit_id}). {done(audit_id)}"])


def accept(warehouse: Warehouse, submission_id: int, reason: str, actor: str, dry_run: bool = False) -> str:
    """A held form is loaded as it is: its errors are accepted, values that failed stay empty.
    On a loaded form, its open warnings are accepted."""
    status, _ = _status(warehouse, submission_id)
    if status not in ("held", "loaded"):
        raise AdminError(
            f"Submission {submission_id} is {status}: only a held (or loaded) form can be accepted."
            + _undo_hint(warehouse, submission_id)
        )
    return _carry_out(
        warehouse,
        [submission_id],
        lambda: warehouse.change_status(
            submission_id, "loaded", actor, "accept", reason, resolution=f"accepted: {reason}"
        ),
        dry_run,
    )


def reject(warehouse: Warehouse, submission_id: int, reason: str, actor: str, dry_run: bool = False) -> str:
    """The form is kept out of the warehouse; its exceptions are closed."""
    status, _ = _status(warehouse, submission_id)
    if status not in REPLACEABLE:
        raise AdminError(
            f"Submission {submission_id} is {status}: only a loaded, held or rejected form can be rejected."
            + _undo_hint(warehouse, submission_id)
        )
    return _carry_out(
        warehouse,
        [submission_id],
        lambda: warehouse.change_status(
            submission_id, "rejected", actor, "reject", reason, resolution=f"rejected: {reason}"
        ),
        dry_run,
    )


def supersede(warehouse: Warehouse, old: int, new: int, reason: str, actor: str, dry_run: bool = False) -> str:
    """The admin says `new` corrects `old` (when the pipeline could not tell)."""
    if old == new:
        raise AdminError("A submission cannot replace itself.")
    old_status, old_type = _status(warehouse, old)
    new_status, new_type = _status(warehouse, new)
    if old_status not in REPLACEABLE:
        raise AdminError(
            f"Submission {old} is {old_status}: only a loaded, held or rejected form can be replaced."
            + _undo_hint(warehouse, old)
        )
    if new_status in ("duplicate", "superseded"):
        raise AdminError(
            f"Submission {new} is {new_status} itself, so it cannot replace another." + _undo_hint(warehouse, new)
        )
    if old_type and new_type and old_type != new_type:
        raise AdminError(
            f"Submission {old} is a {old_type} form and {new} a {new_type} form: one cannot correct the other."
        )
    return _carry_out(warehouse, [old, new], lambda: warehouse.supersede(old, new, actor, reason), dry_run)


# ---------------------------------------------------------------- undo


def undoable_ids(warehouse: Warehouse) -> list[int]:
    """The actions that can be undone now, the latest first (the audit view's `can_undo`)."""
    return [r[0] for r in warehouse.rows("SELECT audit_id FROM audit WHERE can_undo ORDER BY audit_id DESC")]


def _which_can(warehouse: Warehouse) -> str:
    ids = undoable_ids(warehouse)
    if not ids:
        return "No action can be undone now."
    shown = ", ".join(str(i) for i in ids[:LISTED_UNDOABLE])
    more = f" and {len(ids) - LISTED_UNDOABLE} earlier ones" if len(ids) > LISTED_UNDOABLE else ""
    return f"Actions that can be undone now: {shown}{more} (the audit view's can_undo column lists them)."


def _status_before(warehouse: Warehouse, audit) -> str:
    """What the submission was before the action. A form superseded the moment it was recorded
    (a correction had been taken in first) had no status before: it becomes what it would have
    been without the correction, held if it has errors (as pipeline.history.decide says)."""
    if audit.old_status is not None:
        return audit.old_status
    errors = warehouse.one(
        "SELECT count(*) FROM store.problems WHERE submission_id = :id AND severity = 'error'", id=audit.submission_id
    )[0]
    return "held" if errors else "loaded"


def _command_of(audit) -> str:
    """The command that does an audited action again."""
    if audit.action == "supersede":
        return f"coforms supersede {audit.submission_id} {audit.related_submission_id}"
    return f"coforms {audit.action} {audit.submission_id} --reason ..."


def _undoable(warehouse: Warehouse, audit_id: int):
    """The audit row of an action that can be undone now, or AdminError saying why not."""
    audit = warehouse.one(
        "SELECT audit_id, action, submission_id, related_submission_id, old_status, new_status, undoes_audit_id, "
        "undone_by_audit_id, can_undo FROM audit WHERE audit_id = :id",
        id=audit_id,
    )
    if audit is None:
        raise AdminError(f"There is no action {audit_id} in the audit table. {_which_can(warehouse)}")
    if audit.action in ("retention", "erase"):  # pipeline.privacy: what it deleted is gone
        raise AdminError(
            f"Action {audit_id} was a{'n' if audit.action == 'erase' else ''} {audit.action} of personal data "
            "(coforms retention or erase): it cannot be undone, since what it removed is gone."
        )
    if audit.action == "undo":
        undone = warehouse.one(
            "SELECT action, submission_id, related_submission_id FROM audit WHERE audit_id = :id",
            id=audit.undoes_audit_id,
        )
        raise AdminError(
            f"Action {audit_id} was itself an undo (of action {audit.undoes_audit_id}), and an undo is not undone: "
            f"to do action {audit.undoes_audit_id} again, run it again ({_command_of(undone)})."
        )
    if audit.undone_by_audit_id is not None:
        raise AdminError(f"Action {audit_id} was undone already, by action {audit.undone_by_audit_id}.")
    if not audit.can_undo:
        later = warehouse.one(
            "SELECT audit_id, action FROM audit WHERE submission_id = :sid AND audit_id > :id AND can_undo",
            sid=audit.submission_id,
            id=audit_id,
        )
        first = f"undo action {later.audit_id} ({later.action}) first" if later else "undo the later ones first"
        raise AdminError(
            f"Submission {audit.submission_id} was changed again after action {audit_id}: {first}, then this one."
        )
    current, _ = _status(warehouse, audit.submission_id)
    if current != audit.new_status:  # a change the audit does not explain: do not guess
        raise AdminError(
            f"Submission {audit.submission_id} is {current}, not {audit.new_status} as action {audit_id} left it, "
            "so it cannot be put back safely."
        )
    return audit


def undo(warehouse: Warehouse, audit_id: int, reason: str, actor: str, dry_run: bool = False) -> str:
    """Put the submission of audited action `audit_id` back as it was before it."""
    audit = _undoable(warehouse, audit_id)
    restored = _status_before(warehouse, audit)
    involved = [audit.submission_id] + ([audit.related_submission_id] if audit.related_submission_id else [])
    return _carry_out(
        warehouse,
        involved,
        lambda: warehouse.change_status(
            audit.submission_id, restored, actor, "undo", reason or f"undo of action {audit_id}", undoes=audit_id
        ),
        dry_run,
        done=lambda _undo_id: f"An undo is not undone: to do action {audit_id} again, run {_command_of(audit)}.",
    )


class ChangedMeanwhile(AdminError):
    """The submission changed after the admin looked at it (another admin acted, or a run): nothing
    was done, and the admin should look again before deciding."""


def run_admin_action(
    settings: Settings,
    action,
    *args,
    dry_run: bool = False,
    check: Callable[[Warehouse], None] | None = None,
) -> str:
    """Run one action under the run lock, then rewrite the reports that are out of date (none after
    a dry run: nothing changed). A report that cannot be written does not undo the action: the
    message says both, and the next run writes the report.

    `check` is called first, under the lock, so nothing can change between it and the action: the
    review desk passes one that raises ChangedMeanwhile when the form is no longer as the admin saw
    it (two admins deciding on the same form at once)."""
    from pipeline.reports.write import ReportsNotWritten, refresh_reports
    from pipeline.store.lock import exclusive_run
    from pipeline.workspace import private_tmp

    with exclusive_run(settings.outputs, settings.lock_wait_seconds, settings.warehouse):
        if not warehouse_exists(settings.warehouse):
            raise AdminError("There is no warehouse yet: run `coforms run` first.")
        with Warehouse(settings.warehouse) as warehouse:
            if check is not None:
                check(warehouse)
            if dry_run:
                return action(warehouse, *args, dry_run=True)
            message = action(warehouse, *args)
            try:
                with private_tmp(settings.outputs):
                    refresh_reports(warehouse, settings)
            except ReportsNotWritten as exc:
                raise ActionDoneReportsNot(f"{message}\nBut some reports were not written: {exc}") from exc
    return message


class ActionDoneReportsNot(Exception):
    """The action was done and recorded, but a report could not be written (the message says both)."""
