"""The admin corrects a value, or confirms what OCR read, and the form is validated again.

`coforms correct ID FIELD VALUE` and `coforms confirm ID FIELD` (pipeline.cli.correct) and the
review desk (pipeline.web.corrections) call the functions here; nothing else changes a value.

A correction is data. It is kept in store.value_corrections (the value before and after, who,
why, when, and its `correct` action in the audit table); the archived original is never changed.
The form is then validated again by the pipeline's own code, as if it had arrived so:
the form's raw reading (what extraction found, pipeline.forms.raw.RawForm) with every correction
in force applied to it -> pipeline.validate.form.validate_form -> pipeline.history.decide (the
forms before it: claims made already, the project named by the email) -> the warehouse rewrites
the submission in place (Warehouse.rerecord: same id; values, problems and voucher lines replaced
in one transaction; loaded when no open error is left, else held).

Why the reading kept at parse time (store.raw_forms), not the original read again: reading a
typed file again gives the same values, but a scan does not. Its OCR takes seconds a page and a
second reading may differ (another engine's guess for a faint digit, a tick box found or not),
so values the admin never touched could change, or problems come and go, under a correction of
one amount. The kept reading is exactly what the run validated, for every format. Forms recorded
before the readings were kept (schema 0006) are read again from the archive when they are typed
files; a scan among them cannot be corrected here (the admin accepts, rejects, or asks again).

An answer given by ticking boxes (a monitoring question, an evaluation statement) is corrected
with the answer the paper means, in the form's own words ("25-34", "Strongly agree"; several
separated by ';' where several may be ticked): the boxes read are replaced by it.

Confirming an OCR reading (a value held `ocr_unconfirmed`) is a correction whose value is the
reading: the admin has looked at the picture, so the value is taken as trusted (it is no longer
OCR's to check), and its readings stay on record in value_sources.

Undo: a correction is taken back by validating the form again without it (`undo_correction`),
audited as `undo`; `run_undo` takes any action's undo (a correction here, the others in
pipeline.admin.actions).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.admin.actions import AdminError, default_actor, run_admin_action
from pipeline.admin.actions import undo as undo_status_action
from pipeline.admin.effects import Effect, Snapshot, snapshot
from pipeline.document import HANDWRITTEN, Location
from pipeline.forms.raw import RawChoice, RawForm, RawValue, Tick
from pipeline.forms.spec import FormSpec, Option, all_specs
from pipeline.forms.where import where_in_words
from pipeline.history.decide import decide
from pipeline.intake.archive import archive_path
from pipeline.records import EarlierForm, ParsedFile, Provenance, crops_folder
from pipeline.settings import Settings
from pipeline.store.raw_forms import outward_only, raw_form_from_json
from pipeline.store.warehouse import Warehouse
from pipeline.validate.form import Context, validate_form
from pipeline.validate.ocr import describe_reading

CORRECTABLE = ("held", "loaded")  # a form out of the warehouse (rejected, superseded, duplicate) is not corrected
__all__ = ["AdminError", "Correcting", "confirm", "correct", "correcting", "run_correction", "run_undo", "undo_any"]


class _Preview(Exception):
    """Raised inside the transaction of a dry run, so that it is rolled back."""


@dataclass(frozen=True)
class Correcting:
    """What validating again needs besides the warehouse: the day and limits (as a run has them)
    and the archive of originals (for forms recorded before readings were kept)."""

    ctx: Context
    archive_dir: Path


def correcting(settings: Settings, today: dt.date | None = None) -> Correcting:
    ctx = Context(today=today or dt.date.today(), voucher_line_cap=settings.voucher_line_cap)
    return Correcting(ctx, settings.archive_dir)


@dataclass(frozen=True)
class _Change:
    field: str
    after: str | None  # None: confirm the reading as it is
    reason: str


# ---------------------------------------------------------------- the form as recorded


@dataclass(frozen=True)
class _Submission:
    submission_id: int
    status: str
    form_type: str | None
    sha256: str
    provenance: Provenance


def _submission(warehouse: Warehouse, submission_id: int) -> _Submission:
    row = warehouse.one(
        "SELECT status, form_type, sha256, source_file, container_file, sender, subject, received_at, message_id "
        "FROM store.submissions WHERE submission_id = :id",
        id=submission_id,
    )
    if row is None:
        raise AdminError(f"There is no submission {submission_id}.")
    provenance = Provenance(
        row.source_file, row.container_file, row.sender, row.subject, row.received_at, row.message_id
    )
    return _Submission(submission_id, row.status, row.form_type, row.sha256, provenance)


def _correctable(sub: _Submission) -> None:
    if sub.status not in CORRECTABLE or sub.form_type is None:
        raise AdminError(
            f"Submission {sub.submission_id} is {sub.status}: "
            "only the values of a held or loaded form can be corrected."
        )


def _reading(warehouse: Warehouse, sub: _Submission, how: Correcting) -> tuple[RawForm, str | None]:
    """The form's raw reading as the run made it, and the reader's format."""
    kept = warehouse.one("SELECT format, raw FROM store.raw_forms WHERE submission_id = :id", id=sub.submission_id)
    if kept is not None:
        return raw_form_from_json(kept.raw), kept.format
    # recorded before readings were kept: a typed file reads the same again, a scan does not
    from_scan = warehouse.one(
        "SELECT count(*) FROM store.value_locations WHERE submission_id = :id AND source = 'ocr'", id=sub.submission_id
    )[0]
    path = archive_path(how.archive_dir, sub.sha256)
    if from_scan or not path.is_file():
        why = "it was read from a scan" if from_scan else "its original is not in the archive"
        raise AdminError(
            f"Submission {sub.submission_id} was recorded before corrections were possible and {why}, so its values "
            "cannot be corrected here: accept or reject it, or ask the sender for a corrected form."
        )
    from pipeline.runtime.parse import parse_file

    parsed = parse_file(path.read_bytes(), how.ctx)
    if not isinstance(parsed.raw, RawForm) or parsed.form_type != sub.form_type:
        raise AdminError(f"Submission {sub.submission_id} could not be read again from the archive to correct it.")
    return parsed.raw, parsed.format


def _in_force(warehouse: Warehouse, submission_id: int, leaving_out: int | None = None) -> list[tuple[str, str, bool]]:
    """The corrections of a submission still applied, oldest first: (field, after, confirmed)."""
    return [
        (row.field, row.after, row.confirmed)
        for row in warehouse.rows(
            "SELECT field, after, confirmed, audit_id FROM value_corrections WHERE submission_id = :id "
            "AND undone_by_audit_id IS NULL ORDER BY audit_id",
            id=submission_id,
        )
        if row.audit_id != leaving_out
    ]


# ---------------------------------------------------------------- a value in the reading


def _no_such_field(spec: FormSpec, path: str) -> AdminError:
    examples = ", ".join([f.name for f in spec.header][:3] + (["lines.1.amount", "total"] if spec.columns else []))
    return AdminError(
        f"The {spec.form_type} form has no value '{path}' that can be corrected (for example: {examples})."
    )


def _slot(raw: RawForm, spec: FormSpec, path: str) -> tuple[dict[str, RawValue] | None, str]:
    """Where a value lives in the reading: (the dict holding it, its key); (None, 'total') for a
    voucher sheet's total. AdminError in words for a path the form does not have."""
    parts = path.split(".")
    if len(parts) == 1 and parts[0] in {f.name for f in spec.header} | {s.name for s in spec.sections}:
        return raw.fields, parts[0]
    if len(parts) == 1 and parts[0] == "total" and spec.columns:
        return None, "total"
    if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
        row = next((r for r in raw.rows if r.row_no == int(parts[1])), None)
        if row is not None and parts[2] in {c.name for c in spec.columns}:
            return row.cells, parts[2]
    raise _no_such_field(spec, path)


def _get(raw: RawForm, holder: dict[str, RawValue] | None, key: str) -> RawValue | None:
    return raw.total if holder is None else holder.get(key)


def _put(raw: RawForm, holder: dict[str, RawValue] | None, key: str, value: RawValue) -> None:
    if holder is None:
        raw.total = value
    else:
        holder[key] = value
    if value.location is not None:  # a mark the reader was unsure of, where the admin has now said what is there
        raw.unsure_marks = [m for m in raw.unsure_marks if m.location != value.location]


def _choice_options(spec: FormSpec, path: str) -> tuple[tuple[Option, ...], bool] | None:
    """The answers of a question answered by ticking boxes, and whether several may be ticked."""
    for question in spec.questions:
        if question.name == path:
            return spec.question_options(question), question.multiple
    name, _, number = path.partition(".")
    if number in ("1", "2") and any(p.name == name for p in spec.principles):
        return spec.likert_options, False
    return None


def _same_words(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _apply_choice(raw: RawForm, path: str, after: str | None, options: tuple[Option, ...], multiple: bool) -> RawValue:
    """The boxes the admin says are ticked (`after`: the answer, or answers split by ';'), in
    place of those read; the answer it replaces, as text."""
    found = raw.choices.get(path)
    location = found.location if found is not None else None
    before = RawValue("; ".join(t.option for t in found.ticks) if found is not None else "", location)
    if after is None:
        raise AdminError(
            f"'{path}' is answered by ticking boxes, so there is no reading to confirm: correct it with the "
            "answer the paper shows."
        )
    chosen = []
    for wanted in [w for w in (after.split(";") if multiple else [after]) if w.strip()]:
        option = next((o for o in options if any(_same_words(wanted, label) for label in o.labels)), None)
        if option is None:
            answers = "; ".join(o.value for o in options)
            raise AdminError(f"'{wanted.strip()}' is not an answer to '{path}'. The answers are: {answers}.")
        chosen.append(option.value)
    ticks = [Tick(value, location or Location()) for value in dict.fromkeys(chosen)]
    raw.choices[path] = RawChoice(ticks, location, found.options_seen if found is not None else 0)
    return before


def _apply(raw: RawForm, spec: FormSpec, path: str, after: str | None) -> RawValue | None:
    """Put one correction (`after`), or a confirmation (`after` None), into the reading; the value
    it replaces. A value keyed in or confirmed is the admin's: no longer OCR's to check."""
    choice = _choice_options(spec, path)
    if choice is not None:
        return _apply_choice(raw, path, after, *choice)
    holder, key = _slot(raw, spec, path)
    found = _get(raw, holder, key)
    if after is None:
        if found is None or found.source != "ocr":
            raise AdminError(
                f"'{path}' was not read from a scan, so there is no reading to confirm: correct it instead."
            )
        if found.text == HANDWRITTEN or (found.reading is not None and found.reading.handwritten):
            raise AdminError(f"'{path}' is handwriting that could not be read: key the value in (correct it) instead.")
        _put(raw, holder, key, dataclasses.replace(found, source="text", reading=None, second_text=None))
    else:
        location = found.location if found is not None else raw.location_of(key) if holder is raw.fields else None
        _put(raw, holder, key, RawValue(after, location))
    return found


# ---------------------------------------------------------------- validating again


class _HistoryWithout:
    """The forms before this one, as decide asks about them, leaving this submission out (it is
    being recorded again: it is not a copy of itself, nor its own earlier version or claim)."""

    def __init__(self, warehouse: Warehouse, submission_id: int):
        self._warehouse, self._id = warehouse, submission_id

    def first_with_sha256(self, sha256: str) -> int | None:
        first = self._warehouse.first_with_sha256(sha256)
        return None if first == self._id else first

    def known_projects(self) -> frozenset[str]:
        return self._warehouse.known_projects()

    def loaded_claims(self, keys: Iterable[str], excluding: Iterable[int] = ()) -> dict[str, tuple[int, str]]:
        return self._warehouse.loaded_claims(keys, [*excluding, self._id])

    def replaceable_with_key(self, key: str) -> list[EarlierForm]:
        return [e for e in self._warehouse.replaceable_with_key(key) if e.submission_id != self._id]

    def replaceable_of_project(self, form_type: str, project: str) -> list[EarlierForm]:
        return [e for e in self._warehouse.replaceable_of_project(form_type, project) if e.submission_id != self._id]


@dataclass
class _Redone:
    parsed: ParsedFile
    problems: list
    corrected: set[str]  # paths whose value the admin keyed in
    before: RawValue | None  # the value the new change replaces
    notes: list[str]  # what decide saw that a correction does not act on


def _validate_again(
    warehouse: Warehouse,
    sub: _Submission,
    how: Correcting,
    corrections: list[tuple[str, str | None, bool]],
) -> _Redone:
    """The form validated again with `corrections` (field, after, confirmed) applied in order."""
    raw, reader_format = _reading(warehouse, sub, how)
    spec = all_specs()[sub.form_type]
    corrected: set[str] = set()
    confirmed_readings: dict[str, str] = {}
    before = None
    for path, after, confirmed in corrections:
        before = _apply(raw, spec, path, None if confirmed else after)
        if confirmed and before is not None:
            confirmed_readings[path] = describe_reading(before)
            corrected.discard(path)
        else:
            corrected.add(path)
            confirmed_readings.pop(path, None)
    validated = validate_form(raw, spec, how.ctx, crops_folder(sub.sha256))
    readings = {**validated.readings, **confirmed_readings}  # a confirmed value's readings stay on record
    parsed = ParsedFile(
        sub.form_type, validated.model, validated.problems, [], validated.locations, reader_format, readings=readings
    )
    now = dt.datetime.now(dt.UTC)
    decision = decide(parsed, sub.provenance, sub.sha256, _HistoryWithout(warehouse, sub.submission_id), now)
    notes = [
        f"Its project now matches submission {old}, an earlier version: to link them, coforms supersede {old} "
        f"{sub.submission_id}"
        for old in decision.supersedes
    ]
    if decision.superseded_by:
        new = decision.superseded_by[0]
        notes.append(
            f"Submission {new} looks like a later version of it: to link them, coforms supersede {sub.submission_id} "
            f"{new}"
        )
    return _Redone(decision.parsed, decision.problems, corrected, before, notes)


# ---------------------------------------------------------------- the actions


def _shown(value: RawValue | str | None) -> str:
    text = value.text if isinstance(value, RawValue) else value
    return f"'{' '.join(text.split())}'" if text and text.strip() else "(blank)"


def _rerecord(
    warehouse: Warehouse,
    sub: _Submission,
    redone: _Redone,
    actor: str,
    action: str,
    reason: str,
    dry_run: bool,
    headline: str,
    kept: Iterable[tuple[str, str | None, str, bool]] = (),
    undoes: int | None = None,
) -> str:
    """Write the form as validated again (in one transaction, rolled back for a dry run), and say
    what changed: the value, the status, the problems that go, stay and come, the £."""
    try:
        with warehouse.transaction():
            before = snapshot(warehouse, [sub.submission_id])
            warehouse.rerecord(
                sub.submission_id,
                redone.parsed,
                redone.problems,
                actor,
                action,
                reason,
                corrections=kept,
                corrected_paths=redone.corrected,
                undoes=undoes,
            )
            after = snapshot(warehouse, [sub.submission_id])
            lines = [headline, *_describe(before, after), *redone.notes]
            if dry_run:
                raise _Preview
    except _Preview:
        return "\n".join(
            [
                "Dry run: nothing was changed. The correction would do this:",
                *lines,
                "To do it, run the same command without --dry-run.",
            ]
        )
    audit_id = warehouse.last_audit_id
    then = (
        f"To take it back: coforms undo {audit_id}"
        if action == "correct"
        else "An undo is not undone: to correct the value again, correct it again."
    )
    return "\n".join([*lines, f"Done (action {audit_id}). {then}"])


def _describe(before: Snapshot, after: Snapshot) -> list[str]:
    """Status and £ as every action says them (pipeline.admin.effects), then the problems that go,
    stay and come (a problem found again keeps its number in the warehouse)."""
    quiet = Effect(dataclasses.replace(before, open_problems={}), dataclasses.replace(after, open_problems={}))
    lines = quiet.describe()
    status_lines = [line for line in lines if line.startswith("Submission ")]
    finance_lines = [line for line in lines if not line.startswith("Submission ")]
    gone = sorted(before.open_problems.keys() - after.open_problems.keys())
    stay = sorted(before.open_problems.keys() & after.open_problems.keys())
    new = sorted(after.open_problems.keys() - before.open_problems.keys())
    out = list(status_lines)
    for label, keys, problems in (
        ("Problems that go", gone, before.open_problems),
        ("Problems that stay", stay, after.open_problems),
        ("New problems", new, after.open_problems),
    ):
        if keys:
            out.append(f"{label}: {len(keys)}")
            out.extend(f"  {problems[key]}" for key in keys)
    return out + finance_lines


def correct(
    warehouse: Warehouse,
    submission_id: int,
    field: str,
    value: str,
    reason: str,
    actor: str,
    how: Correcting,
    dry_run: bool = False,
) -> str:
    """Set one value of a held or loaded form to `value` and validate the form again."""
    return _change(warehouse, submission_id, _Change(field, value, reason), actor, how, dry_run)


def confirm(
    warehouse: Warehouse,
    submission_id: int,
    field: str,
    reason: str,
    actor: str,
    how: Correcting,
    dry_run: bool = False,
) -> str:
    """Say that what OCR read for one value is what the picture shows, and validate the form again."""
    return _change(warehouse, submission_id, _Change(field, None, reason), actor, how, dry_run)


def _change(
    warehouse: Warehouse,
    submission_id: int,
    change: _Change,
    actor: str,
    how: Correcting,
    dry_run: bool,
) -> str:
    if not change.reason.strip():
        raise AdminError("Say why (a reason is kept with every correction).")
    if change.after is not None and not change.after.strip():
        raise AdminError("The new value is blank: type the value as it should read.")
    sub = _submission(warehouse, submission_id)
    _correctable(sub)
    confirming = change.after is None
    earlier = _in_force(warehouse, submission_id)
    redone = _validate_again(warehouse, sub, how, [*earlier, (change.field, change.after, confirming)])
    before = redone.before
    after = before.text if confirming else change.after
    where = where_in_words(sub.form_type, change.field, str(before.location) if before and before.location else None)
    if not confirming and before is not None and before.text == change.after and before.source != "ocr":
        raise AdminError(f"Submission {submission_id}, {where} reads {_shown(before)} already: nothing to correct.")
    headline = (
        f"Submission {submission_id}, {where}: {_shown(before)} confirmed as what the scan shows"
        if confirming
        else f"Submission {submission_id}, {where}: {_shown(before)} -> {_shown(change.after)}"
    )
    before_text = before.text if before else None
    if any(f.name == change.field and f.type == "PostcodeDistrict" for f in all_specs()[sub.form_type].header):
        before_text, after = outward_only(before_text), outward_only(after)  # an address is never kept
    kept = [(change.field, before_text, after, confirming)]
    return _rerecord(warehouse, sub, redone, actor, "correct", change.reason, dry_run, headline, kept)


def undo_correction(
    warehouse: Warehouse, audit_id: int, reason: str, actor: str, how: Correcting, dry_run: bool = False
) -> str:
    """Take back the correction made by audited action `audit_id`: the form is validated again
    without it (and with the corrections before it), audited as `undo`."""
    audit = warehouse.one(
        "SELECT submission_id, action, undone_by_audit_id, can_undo FROM audit WHERE audit_id = :id", id=audit_id
    )
    if audit is None or audit.action != "correct":
        raise AdminError(f"Action {audit_id} is not a correction of a value.")
    if audit.undone_by_audit_id is not None:
        raise AdminError(f"Action {audit_id} was undone already, by action {audit.undone_by_audit_id}.")
    if not audit.can_undo:
        raise AdminError(
            f"Submission {audit.submission_id} was changed again after action {audit_id}: undo the later actions "
            "first, then this one."
        )
    sub = _submission(warehouse, audit.submission_id)
    _correctable(sub)
    redone = _validate_again(warehouse, sub, how, _in_force(warehouse, sub.submission_id, leaving_out=audit_id))
    taken_back = warehouse.rows(
        "SELECT field, before, after, confirmed FROM value_corrections WHERE audit_id = :id ORDER BY field",
        id=audit_id,
    )
    headline = "; ".join(
        f"Submission {sub.submission_id}, {where_in_words(sub.form_type, row.field, None)}: "
        + (
            f"{_shown(row.after)} no longer confirmed"
            if row.confirmed
            else f"{_shown(row.after)} -> {_shown(row.before)} again"
        )
        for row in taken_back
    )
    return _rerecord(
        warehouse,
        sub,
        redone,
        actor,
        "undo",
        reason or f"undo of action {audit_id}",
        dry_run,
        headline,
        undoes=audit_id,
    )


# ---------------------------------------------------------------- under the run lock


def run_correction(
    settings: Settings, action, *args, dry_run: bool = False, check: Callable[[Warehouse], None] | None = None
) -> str:
    """`correct`, `confirm` or `undo_correction` (with its arguments up to `how`, which is made
    here from the settings) under the run lock, then the reports that are out of date rewritten,
    as for every admin action (pipeline.admin.actions.run_admin_action; `check` is called first,
    under the lock: the review desk's "is the form still as the admin saw it")."""
    how = correcting(settings)

    def with_how(warehouse: Warehouse, *given, dry_run: bool = False, **named) -> str:
        return action(warehouse, *given, how=how, dry_run=dry_run, **named)

    return run_admin_action(settings, with_how, *args, dry_run=dry_run, check=check)


def is_correction(warehouse: Warehouse, audit_id: int) -> bool:
    row = warehouse.one("SELECT action FROM audit WHERE audit_id = :id", id=audit_id)
    return row is not None and row.action == "correct"


def undo_any(
    warehouse: Warehouse, audit_id: int, reason: str, actor: str, dry_run: bool = False, *, how: Correcting
) -> str:
    """Any audited action taken back: a correction by validating the form again without it, the
    others by pipeline.admin.actions.undo. For run_admin_action (and `coforms undo`, the desk's
    Undo): functools.partial(undo_any, how=correcting(settings))."""
    if is_correction(warehouse, audit_id):
        return undo_correction(warehouse, audit_id, reason, actor, how, dry_run)
    return undo_status_action(warehouse, audit_id, reason, actor, dry_run)


def run_undo(settings: Settings, audit_id: int, reason: str = "", actor: str | None = None, dry_run: bool = False):
    """`coforms undo`: any audited action taken back, a correction by validating again without it."""
    return run_correction(settings, undo_any, audit_id, reason, actor or default_actor(), dry_run=dry_run)
