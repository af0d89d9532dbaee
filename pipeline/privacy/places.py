"""Every place in the warehouse where a person can be named, and the rows that name one.

Kept in one list (PLACES) so that subject access (pipeline.privacy.access) and erasure
(pipeline.privacy.erase) look in the same places: what `coforms person` shows is what
`coforms erase` changes. store.raw_forms (each form's kept reading, as JSON) is searched string
by string (`reading_strings`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.privacy.mentions import Person
from pipeline.store.warehouse import Warehouse


@dataclass(frozen=True)
class Place:
    table: str  # in schema store
    column: str
    keys: tuple[str, ...]  # the columns that find the row again (with the value itself)
    what: str  # what the column holds, in words, for the export


PLACES = (
    Place("submissions", "source_file", ("submission_id",), "the file's name"),
    Place("submissions", "container_file", ("submission_id",), "the email file's name"),
    Place("submissions", "sender", ("submission_id",), "the sender's email address"),
    Place("submissions", "subject", ("submission_id",), "the email's subject"),
    Place("submissions", "notes", ("submission_id",), "notes on how the file was read"),
    Place("intake", "file_name", ("intake_id",), "the name of the file taken from the inbox"),
    Place("problems", "message", ("submission_id", "problem_no"), "a problem found on the form"),
    Place("problems", "value", ("submission_id", "problem_no"), "the value a problem is about"),
    Place("problems", "resolution", ("submission_id", "problem_no"), "how a problem was resolved"),
    Place("audit", "reason", ("audit_id",), "the reason given for an action"),
    Place("audit", "actor", ("audit_id",), "who took an action"),
    Place("planning", "residents_involved", ("submission_id",), "residents involved (planning)"),
    *(
        Place("planning", section, ("submission_id",), f"planning answer: {section.replace('_', ' ')}")
        for section in (
            "purpose_and_objectives",
            "stakeholders",
            "coproduction_approach",
            "communication",
            "resources_and_support",
            "timelines_and_milestones",
            "monitoring_and_evaluation",
            "further_involvement",
        )
    ),
    Place("planning_leads", "lead_name", ("submission_id", "position"), "a project lead"),
    Place("evaluation", "completed_by", ("submission_id",), "who completed the evaluation"),
    *(
        Place("evaluation", column, ("submission_id",), f"evaluation answer: {column.replace('_', ' ')}")
        for column in ("what_worked_well", "what_could_be_improved", "wider_learning", "additional_feedback")
    ),
    Place("evaluation_feedback", "feedback", ("submission_id", "principle"), "evaluation feedback on a principle"),
    Place("monitoring", "gender_self_description", ("submission_id",), "gender, in the person's own words"),
    Place("voucher_forms", "completed_by", ("submission_id",), "who completed the voucher sheet"),
    Place("voucher_lines", "name", ("submission_id", "line_no"), "the recipient of a voucher"),
    Place("value_locations", "reading", ("submission_id", "field"), "what text recognition read on a scan"),
    Place(
        "value_corrections", "before", ("submission_id", "audit_id", "field"), "a value before the admin corrected it"
    ),
    Place("value_corrections", "after", ("submission_id", "audit_id", "field"), "a value as the admin corrected it"),
    Place("value_corrections", "reason", ("submission_id", "audit_id", "field"), "why a value was corrected"),
    Place("value_corrections", "actor", ("submission_id", "audit_id", "field"), "who corrected a value"),
)


@dataclass(frozen=True)
class Found:
    """One value that names the person."""

    place: Place
    keys: tuple  # the values of place.keys
    value: str
    submission_id: int | None  # the form it belongs to (None: an action over many forms)


def _submission_of(place: Place, keys: tuple, row) -> int | None:
    if "submission_id" in place.keys:
        return keys[place.keys.index("submission_id")]
    return getattr(row, "sid", None)


def found_in_tables(warehouse: Warehouse, person: Person) -> Iterator[Found]:
    """Every value of PLACES that names the person."""
    for place in PLACES:
        extra = ""
        if place.table == "intake":  # its submissions: the first recorded from it
            extra = ", (SELECT min(s.submission_id) FROM store.submissions s WHERE s.intake_id = t.intake_id) AS sid"
        elif place.table == "audit":
            extra = ", t.submission_id AS sid"
        sql = (
            f"SELECT {', '.join('t.' + k for k in place.keys)}, t.{place.column} AS value{extra} "
            f"FROM store.{place.table} t WHERE t.{place.column} IS NOT NULL"
        )
        for row in warehouse.rows(sql):
            if person.named_in(row.value):
                keys = tuple(row[: len(place.keys)])
                yield Found(place, keys, row.value, _submission_of(place, keys, row))


READING = Place("raw_forms", "raw", ("submission_id",), "the form's reading as the run made it (kept for corrections)")
# a recipient's signature typed or read on a voucher line ("G Adeyemi"): theirs, though it may not
# hold their whole name; only whether the line is signed matters to the pipeline
SIGNATURE = Place("raw_forms", "raw", ("submission_id",), "a signature on a voucher line, as read")
SIGNED = "(signed)"  # what a signature becomes: still a signature to validation (any text but No, N, -)
_NOT_A_NAME = frozenset(["", "no", "n", "-", "yes", "y", "x", "signed", "ok", "true", "false", SIGNED])


def strings_of(tree: object) -> Iterator[str]:
    """Every string value in a JSON tree (not the keys)."""
    if isinstance(tree, str):
        yield tree
    elif isinstance(tree, list):
        for item in tree:
            yield from strings_of(item)
    elif isinstance(tree, dict):
        for item in tree.values():
            yield from strings_of(item)


def replace_strings(tree: object, change) -> object:
    """The JSON tree with `change` applied to every string value (the keys as they were)."""
    if isinstance(tree, str):
        return change(tree)
    if isinstance(tree, list):
        return [replace_strings(item, change) for item in tree]
    if isinstance(tree, dict):
        return {key: replace_strings(item, change) for key, item in tree.items()}
    return tree


def as_json(tree: object) -> str:
    """As pipeline.store.raw_forms writes a reading."""
    return json.dumps(tree, ensure_ascii=False, separators=(",", ":"))


def signatures(tree: object) -> Iterator[tuple[str, dict]]:
    """(the line's name as read, its Signed cell) of each voucher line in a kept reading."""
    if isinstance(tree, list):
        for item in tree:
            yield from signatures(item)
    elif isinstance(tree, dict):
        if tree.get("$class") == "RawRow":
            cells = tree.get("cells", {}).get("$dict", {})
            name, signed = cells.get("name"), cells.get("signed")
            if isinstance(signed, dict):
                yield (name.get("text", "") if isinstance(name, dict) else ""), signed
            return
        for item in tree.values():
            yield from signatures(item)


def is_a_name(signature: str | None) -> bool:
    """A signature that may say who signed (not a tick, "Yes" or "(signed)")."""
    return isinstance(signature, str) and signature.strip().casefold() not in _NOT_A_NAME


def without_signatures(tree: object, of_line) -> object:
    """The reading with the signatures of the lines `of_line(name)` picks made SIGNED (the OCR
    readings of them too). Changed in place, and returned."""
    for name, signed in signatures(tree):
        if of_line(name) and is_a_name(signed.get("text")):
            signed["text"] = SIGNED
            signed.pop("second_text", None)
            signed.pop("reading", None)
    return tree


def found_in_readings(warehouse: Warehouse, person: Person) -> Iterator[Found]:
    """Each string of a kept reading (store.raw_forms) that names the person, and the signatures on
    the voucher lines that name them."""
    for sid, raw in warehouse.rows("SELECT submission_id, raw FROM store.raw_forms"):
        tree = json.loads(raw)
        for text in dict.fromkeys(strings_of(tree)):
            if person.named_in(text):
                yield Found(READING, (sid,), text, sid)
        for name, signed in signatures(tree):
            text = signed.get("text")
            if person.named_in(name) and is_a_name(text) and not person.named_in(text):
                yield Found(SIGNATURE, (sid,), text, sid)


def found_everywhere(warehouse: Warehouse, person: Person) -> list[Found]:
    return [*found_in_tables(warehouse, person), *found_in_readings(warehouse, person)]
