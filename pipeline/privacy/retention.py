"""`coforms retention`: personal data kept no longer than the settings say, counted from loading.

- retention_originals_months: original files (emails, attachments, scans) are deleted from the
  archive this long after the last form in them was loaded; the warehouse keeps what was read
  from them, and records that the file is gone (pipeline.privacy.originals).
- retention_names_years: the names on voucher lines this long after loading are replaced by the
  person's stable pseudonym (pipeline.privacy.pseudonyms), there and wherever the same form
  repeats them: its kept reading, its problems' messages, its corrections, what OCR read (and the
  signatures read on its lines become "(signed)": a signature only says a line was signed). Amounts,
  dates and lines stay, so finance's totals are the same (checked), and the lines of one person
  still group as one.
- retention_free_text_months (unset: kept): the free-text answers of planning, evaluation and
  monitoring forms are cleared this long after loading.

A dry run (the default) counts what would be done and names the forms; `--apply` does it under
the run lock, as one audited action (action `retention`, its reason the counts), and rewrites
the reports.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.privacy import changes, originals
from pipeline.privacy.mentions import Person
from pipeline.privacy.places import PLACES, READING, Found, as_json, strings_of, without_signatures
from pipeline.privacy.pseudonyms import is_pseudonym, pseudonym, the_key
from pipeline.settings import Settings
from pipeline.store.warehouse import PLANNING_SECTIONS, Warehouse

# where a voucher form's names are repeated besides its lines (each row found by its submission)
_NAME_ECHOES = tuple(
    p
    for p in PLACES
    if (p.table, p.column)
    in {
        ("problems", "message"),
        ("problems", "value"),
        ("value_locations", "reading"),
        ("value_corrections", "before"),
        ("value_corrections", "after"),
        ("value_corrections", "reason"),
    }
)
# free-text answers: table -> columns cleared (evaluation_feedback's rows are deleted)
FREE_TEXT = {
    "planning": ("residents_involved", *PLANNING_SECTIONS),
    "evaluation": ("what_worked_well", "what_could_be_improved", "wider_learning", "additional_feedback"),
    "monitoring": ("gender_self_description",),
}
# the same answers in a form's kept reading (pipeline.forms.raw: fields by name; a tick's own words)
_FREE_TEXT_FIELDS = frozenset(c for columns in FREE_TEXT.values() for c in columns)


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` calendar months earlier (the month's last day if shorter)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


@dataclass
class Plan:
    """What retention would do now."""

    now: dt.datetime
    originals: dict[str, list[int]] = field(default_factory=dict)  # sha256 -> submissions it holds
    names: list[int] = field(default_factory=list)  # voucher submissions whose names are pseudonymised
    free_text: list[int] = field(default_factory=list)  # submissions whose free text is cleared
    files: dict[int, str] = field(default_factory=dict)  # submission -> its file's name (for the listing)
    settings_used: dict[str, int | None] = field(default_factory=dict)

    @property
    def nothing(self) -> bool:
        return not (self.originals or self.names or self.free_text)


def plan(warehouse: Warehouse, settings: Settings, now: dt.datetime) -> Plan:
    found = Plan(
        now,
        settings_used={
            "retention_originals_months": settings.retention_originals_months,
            "retention_names_years": settings.retention_names_years,
            "retention_free_text_months": settings.retention_free_text_months,
        },
    )
    found.files = dict(warehouse.rows("SELECT submission_id, source_file FROM store.submissions"))
    if settings.retention_originals_months:
        cutoff = months_before(now, settings.retention_originals_months)
        # a file's last loading: an attachment by its submissions, an email (or plain file) by its
        # intake's submissions too; a file received again later is kept for as long as the later one
        latest: dict[str, dt.datetime] = {}
        holds: dict[str, list[int]] = {}
        for sha, sid, loaded in warehouse.rows(
            "SELECT sha256, submission_id, loaded_at FROM store.submissions "
            "UNION ALL SELECT i.item_sha256, s.submission_id, s.loaded_at FROM store.intake i "
            "JOIN store.submissions s USING (intake_id)"
        ):
            latest[sha] = max(latest.get(sha, loaded), loaded)
            holds.setdefault(sha, []).append(sid)
        gone = set(originals.deleted_originals(warehouse))
        found.originals = {
            sha: sorted(set(holds[sha]))
            for sha, loaded in sorted(latest.items())
            if loaded < cutoff and sha not in gone
        }
    if settings.retention_names_years:
        cutoff = months_before(now, 12 * settings.retention_names_years)
        found.names = [
            r[0]
            for r in warehouse.rows(
                "SELECT submission_id FROM store.submissions WHERE form_type = 'voucher' AND loaded_at < :cutoff "
                "AND names_pseudonymised_at IS NULL ORDER BY submission_id",
                cutoff=cutoff,
            )
        ]
    if settings.retention_free_text_months:
        cutoff = months_before(now, settings.retention_free_text_months)
        found.free_text = [
            r[0]
            for r in warehouse.rows(
                "SELECT submission_id FROM store.submissions WHERE form_type IN :types AND loaded_at < :cutoff "
                "AND free_text_cleared_at IS NULL ORDER BY submission_id",
                types=list(FREE_TEXT),
                cutoff=cutoff,
            )
        ]
    return found


# ---------------------------------------------------------------- names


def _names_on(warehouse: Warehouse, sid: int) -> list[str]:
    """The recipients' names of a voucher form: its lines, and its reading's rows (a row held for
    an error may have no line)."""
    names = [r[0] for r in warehouse.rows("SELECT name FROM store.voucher_lines WHERE submission_id = :id", id=sid)]
    row = warehouse.one("SELECT raw FROM store.raw_forms WHERE submission_id = :id", id=sid)
    if row is not None:
        for raw_row in json.loads(row[0]).get("rows", []):
            cell = raw_row.get("cells", {}).get("$dict", {}).get("name")
            if isinstance(cell, dict) and isinstance(cell.get("text"), str):
                names.append(cell["text"])
    return [n for n in dict.fromkeys(names) if n and n.strip() and not is_pseudonym(n)]


def _pseudonymise(warehouse: Warehouse, sid: int, key: bytes) -> Counter:
    names = sorted(_names_on(warehouse, sid), key=lambda n: -len(n.split()))  # a longer name first
    people = [(Person.of([n]), pseudonym(n, key)) for n in names]

    def changed(text: str) -> str:
        for person, alias in people:
            text = person.replaced(text, alias)
        return text

    found: list[Found] = []
    for name_row in warehouse.rows(
        "SELECT line_no, name FROM store.voucher_lines WHERE submission_id = :id AND name IS NOT NULL", id=sid
    ):
        found.append(Found(next(p for p in PLACES if p.table == "voucher_lines"), (sid, name_row[0]), name_row[1], sid))
    for place in _NAME_ECHOES:
        for row in warehouse.rows(
            f"SELECT {', '.join(place.keys)}, {place.column} FROM store.{place.table} "
            f"WHERE submission_id = :id AND {place.column} IS NOT NULL",
            id=sid,
        ):
            found.append(Found(place, tuple(row[:-1]), row[-1], sid))
    reading = warehouse.one("SELECT raw FROM store.raw_forms WHERE submission_id = :id", id=sid)
    if reading is not None:
        found.extend(Found(READING, (sid,), text, sid) for text in dict.fromkeys(strings_of(json.loads(reading[0]))))

    def change(item: Found) -> str:
        if item.place.table == "voucher_lines":  # the whole name, as the person's key reads it
            return item.value if is_pseudonym(item.value) else pseudonym(item.value, key)
        return changed(item.value)

    counts = changes.rewrite(warehouse, found, change)
    # the recipients' signatures ("G Adeyemi"): a signature only says the line was signed
    reading = warehouse.one("SELECT raw FROM store.raw_forms WHERE submission_id = :id", id=sid)
    if reading is not None:
        new = as_json(without_signatures(json.loads(reading[0]), lambda _name: True))
        if new != reading[0]:
            warehouse.execute("UPDATE store.raw_forms SET raw = :raw WHERE submission_id = :id", raw=new, id=sid)
            counts["signatures"] += 1
    return counts


# ---------------------------------------------------------------- free text


def _cleared_reading(tree: object) -> object:
    """A kept reading without its free-text answers (fields by name, a tick's own words)."""
    if isinstance(tree, list):
        return [_cleared_reading(item) for item in tree]
    if not isinstance(tree, dict):
        return tree
    if tree.get("$class") == "Tick" and "free_text" in tree:
        return {k: v for k, v in tree.items() if k != "free_text"}
    if tree.get("$class") == "RawForm" and "fields" in tree:
        fields = tree["fields"].get("$dict", {})
        kept = {}
        for name, value in fields.items():
            if name in _FREE_TEXT_FIELDS or name.startswith("feedback."):
                value = {k: v for k, v in value.items() if k not in ("second_text", "reading")} | {"text": ""}
            kept[name] = value
        tree = tree | {"fields": {"$dict": kept}}
    return {k: _cleared_reading(v) for k, v in tree.items()}


def _clear_free_text(warehouse: Warehouse, sid: int, form_type: str) -> int:
    columns = FREE_TEXT.get(form_type, ())
    cleared = 0
    if columns:
        row = warehouse.one(f"SELECT {', '.join(columns)} FROM store.{form_type} WHERE submission_id = :id", id=sid)
        cleared += sum(1 for value in (row or ()) if value)
        warehouse.execute(
            f"UPDATE store.{form_type} SET {', '.join(f'{c} = NULL' for c in columns)} WHERE submission_id = :id",
            id=sid,
        )
    if form_type == "evaluation":
        cleared += warehouse.one("SELECT count(*) FROM store.evaluation_feedback WHERE submission_id = :id", id=sid)[0]
        warehouse.execute("DELETE FROM store.evaluation_feedback WHERE submission_id = :id", id=sid)
    warehouse.execute(
        "UPDATE store.value_corrections SET before = NULL, after = '' WHERE submission_id = :id AND (field IN :names "
        "OR field LIKE 'feedback.%')",
        id=sid,
        names=sorted(_FREE_TEXT_FIELDS),
    )
    warehouse.execute(  # what OCR read there (a scanned form's answers)
        "UPDATE store.value_locations SET reading = NULL WHERE submission_id = :id AND (field IN :names "
        "OR field LIKE 'feedback.%')",
        id=sid,
        names=sorted(_FREE_TEXT_FIELDS),
    )
    reading = warehouse.one("SELECT raw FROM store.raw_forms WHERE submission_id = :id", id=sid)
    if reading is not None:
        new = as_json(_cleared_reading(json.loads(reading[0])))
        if new != reading[0]:
            warehouse.execute("UPDATE store.raw_forms SET raw = :raw WHERE submission_id = :id", raw=new, id=sid)
    return cleared


# ---------------------------------------------------------------- apply


@dataclass
class Done:
    audit_id: int | None
    originals_deleted: int  # files removed from the archive now
    originals_recorded: int  # originals the warehouse now records as deleted
    names_forms: int
    names_values: int
    free_text_forms: int
    free_text_values: int

    def reason(self) -> str:
        return (
            f"retention: {self.originals_recorded} original files deleted; names pseudonymised on "
            f"{self.names_forms} voucher forms ({self.names_values} values); free text cleared on "
            f"{self.free_text_forms} forms ({self.free_text_values} answers)"
        )


def apply(warehouse: Warehouse, outputs: Path, found: Plan, actor: str) -> Done:
    """Do what the plan says, in one transaction (finance's totals checked before the commit), then
    delete the files."""
    key = the_key(outputs) if found.names else b""
    now = found.now
    with warehouse.transaction():
        before = changes.finance_figures(warehouse, key or b"-")
        names_values = 0
        for sid in found.names:
            names_values += sum(_pseudonymise(warehouse, sid, key).values())
            warehouse.execute(
                "UPDATE store.submissions SET names_pseudonymised_at = :now WHERE submission_id = :id", now=now, id=sid
            )
        free_values = 0
        types = dict(warehouse.rows("SELECT submission_id, form_type FROM store.submissions"))
        for sid in found.free_text:
            free_values += _clear_free_text(warehouse, sid, types[sid])
            warehouse.execute(
                "UPDATE store.submissions SET free_text_cleared_at = :now WHERE submission_id = :id", now=now, id=sid
            )
        recorded = originals.record_deleted(warehouse, list(found.originals), "retention", now)
        changes.check_totals(before, changes.finance_figures(warehouse, key or b"-"))
        done = Done(None, 0, recorded, len(found.names), names_values, len(found.free_text), free_values)
        done.audit_id = changes.audit(warehouse, actor, "retention", done.reason(), now)
    done.originals_deleted = originals.sweep(warehouse, outputs)
    return done


def describe_plan(found: Plan, listed: int = 20) -> list[str]:
    """The dry run's words: counts per kind, and which forms."""
    used = found.settings_used
    lines = []

    def forms(ids: list[int]) -> list[str]:
        shown = [f"  submission {sid}: {found.files.get(sid) or '(no name)'}" for sid in ids[:listed]]
        return shown + ([f"  and {len(ids) - listed} more"] if len(ids) > listed else [])

    if used["retention_originals_months"]:
        holding = sorted({sid for ids in found.originals.values() for sid in ids})
        lines.append(
            f"Original files loaded more than {used['retention_originals_months']} months ago, to delete: "
            f"{len(found.originals)} (holding {len(holding)} forms)"
        )
        lines.extend(forms(holding))
    else:
        lines.append("Original files: kept (the setting retention_originals_months is not set).")
    for setting, what, unit, task, ids, kept in (
        ("retention_names_years", "Voucher forms", "years", "names to replace by pseudonyms", found.names,
         "Names on voucher lines"),
        ("retention_free_text_months", "Forms", "months", "free text to clear", found.free_text,
         "Free-text answers"),
    ):  # fmt: skip
        if not used[setting]:
            lines.append(f"{kept}: kept (the setting {setting} is not set).")
            continue
        lines.append(f"{what} loaded more than {used[setting]} {unit} ago, {task}: {len(ids)}")
        lines.extend(forms(ids))
    return lines


def describe_done(done: Done) -> list[str]:
    return [
        f"Original files deleted: {done.originals_recorded} recorded in the warehouse as deleted, "
        f"{done.originals_deleted} files removed from the archive.",
        f"Names replaced by pseudonyms on {done.names_forms} voucher forms ({done.names_values} values).",
        f"Free text cleared on {done.free_text_forms} forms ({done.free_text_values} answers).",
        "Finance's totals: unchanged (checked).",
        f"Done (action {done.audit_id} in the audit table). This cannot be undone.",
    ]
