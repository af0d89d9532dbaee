"""One form (GET /forms/{id}): the original beside the values, each problem next to its field and
marked at its place on the original.

Admins see everything, the original included (its page pictures, GET /forms/{id}/original/{n}.png,
and the pictures of doubtful spots on a scan, GET /forms/{id}/crop/{name}); finance may open a
voucher sheet's values read-only, never the original (originals are served to admins only). The
file is always found by the submission's SHA-256, never by a name or path from the request.

The page leaves two slots for the actions of other modules: `form_actions.html` (accept, reject,
supersede: pipeline.web.decide) for admins, and `value_correction.html` beside each value (correct
a value, confirm an OCR reading), given `field`, `value`, `submission_id`, `version`, `from_scan`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.forms.spec import all_specs
from pipeline.forms.where import where_in_words
from pipeline.problems import CATALOGUE, ProblemCode
from pipeline.records import crops_folder
from pipeline.web.data import reading
from pipeline.web.guard import NotAllowed, require
from pipeline.web.originals import Original, normal_location, original_of, page_picture
from pipeline.web.pages import problem_page, render
from pipeline.web.queue import when
from pipeline.web.reads import FormProblem, StoredForm, form_version, stored_form
from pipeline.web.roles import Role

# a picture of a doubtful spot, as the run names it in a problem's message (pipeline.validate.ocr)
_CROP_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}\.png$")
_CROP_IN_MESSAGE = re.compile(r"\bocr-crops/(?P<folder>[0-9a-f]{16})/(?P<name>[A-Za-z0-9_-]{1,80}\.png)\b")
NO_VALUE = "Nothing read"
MONEY_FIELDS = ("amount", "total")


@dataclass
class ShownProblem:
    """An open problem as the page shows it: numbered, placed in words, linked both ways."""

    number: int
    problem: FormProblem
    where: str
    ask_sender: str
    field_anchor: str | None = None  # the value's id on the page, when the value is shown
    place_anchor: str | None = None  # its mark on the original, when it can be marked
    crop: str | None = None  # the picture of the spot on a scan, by name

    @property
    def message(self) -> str:
        """The message without the picture's path (the picture is shown beside it)."""
        return _CROP_IN_MESSAGE.sub("the picture beside this", self.problem.message)


@dataclass
class ShownValue:
    field: str
    label: str
    text: str
    anchor: str
    from_scan: bool = False
    reading: str | None = None
    problems: list[ShownProblem] = field(default_factory=list)


def anchor_of(path: str) -> str:
    return "field-" + re.sub(r"[^A-Za-z0-9_-]", "-", path)


def shown_text(name: str, value: object) -> str:
    """A stored value as the admin reads it."""
    if value is None or value == "":
        return NO_VALUE
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal) and name.split(".")[-1] in MONEY_FIELDS:
        return f"£{value:,.2f}"
    if isinstance(value, dt.date):
        return value.strftime("%-d %B %Y")
    if name.split(".")[-1] == "time_spent" and isinstance(value, int):
        hours, minutes = divmod(value, 60)
        return f"{hours}h{minutes:02d}" if hours else f"{minutes} minutes"
    return str(value)


def _label(form_type: str | None, path: str) -> str:
    words = where_in_words(form_type, path, None)
    return words[:1].upper() + words[1:]


class _Layout:
    """The page's values and problems, each problem attached to its value and to its place."""

    def __init__(self, form: StoredForm, original: Original | None, crops: set[str]):
        self.form = form
        self.problems = [
            ShownProblem(
                n,
                p,
                where_in_words(form.form_type, p.field, p.location),
                _ask_sender(p.code),
                crop=_crop_of(p.message, form.sha256, crops),
            )
            for n, p in enumerate(form.open_problems, start=1)
        ]
        self.by_field: dict[str, list[ShownProblem]] = {}
        for shown in self.problems:
            if shown.problem.field:
                self.by_field.setdefault(shown.problem.field, []).append(shown)
        self.marks: dict[str, list[int]] = {}  # a place on the original -> the problems marked there
        self.page_marks: dict[int, list[tuple[int, list[float]]]] = {}
        if original is not None:
            self._place(original)

    def _place(self, original: Original) -> None:
        for shown in self.problems:
            location = normal_location(shown.problem.location)
            if not location:
                continue
            if original.kind == "pages":
                page = original.page_of(location)
                if page is None:
                    continue
                shown.place_anchor = f"page-{page}"
                if location in original.boxes:
                    self.page_marks.setdefault(page, []).append((shown.number, original.boxes[location]))
            else:
                self.marks.setdefault(location, []).append(shown.number)
        if original.kind in ("word", "excel"):
            present = _places_of(original)
            for shown in self.problems:
                location = normal_location(shown.problem.location)
                if location in present:
                    shown.place_anchor = f"place-{self.marks[location][0]}"

    def value(self, path: str, raw: object) -> ShownValue:
        place = self.form.places.get(path)
        shown = ShownValue(
            path,
            _label(self.form.form_type, path),
            shown_text(path, raw),
            anchor_of(path),
            from_scan=bool(place and place.source == "ocr"),
            reading=place.reading if place else None,
            problems=self.by_field.get(path, []),
        )
        for p in shown.problems:
            p.field_anchor = shown.anchor
        return shown


def _places_of(original: Original) -> set[str]:
    if original.kind == "excel":
        return {cell["where"] for sheet in original.sheets for row in sheet["rows"] for cell in row["cells"]}
    places = set()
    for block in original.blocks:
        if block["type"] == "p":
            places.add(block["where"])
        else:
            for row in block["rows"]:
                for col in range(1, block["columns"] + 1):
                    places.add(f"table {block['no']}, row {row['no']}, column {col}")
    return places


def _ask_sender(code: str) -> str:
    try:
        return CATALOGUE[ProblemCode(code)].ask_sender
    except ValueError:
        return ""


def _crop_of(message: str, sha256: str, crops: set[str]) -> str | None:
    """The picture a problem names, if it is one of this file's (by its folder and its listing)."""
    found = _CROP_IN_MESSAGE.search(message or "")
    if found and found["folder"] == sha256[:16] and found["name"] in crops:
        return found["name"]
    return None


def _crops_listed(request: Request, sha256: str) -> set[str]:
    folder = request.app.state.settings.outputs / crops_folder(sha256)
    try:
        return {p.name for p in folder.iterdir() if p.is_file() and _CROP_NAME.match(p.name)}
    except OSError:
        return set()


def _voucher_lines(layout: _Layout) -> tuple[list[dict], list[dict]]:
    """The columns (name, header) and each line: its values and the problems of the line."""
    columns = [{"name": c.name, "header": c.header} for c in all_specs()["voucher"].columns]
    lines = []
    for line in layout.form.lines:
        n = line["line_no"]
        cells = [layout.value(f"lines.{n}.{c['name']}", line.get(c["name"])) for c in columns]
        whole_line = layout.by_field.get(f"lines.{n}", [])
        for p in whole_line:
            p.field_anchor = f"line-{n}"
        lines.append({"no": n, "anchor": f"line-{n}", "cells": cells, "problems": whole_line})
    return columns, lines


def form_page(request: Request) -> Response:
    user = require(request, Role.ADMIN, Role.FINANCE)
    submission_id = request.path_params["submission_id"]
    settings = request.app.state.settings
    with reading(settings) as warehouse:
        form = stored_form(warehouse, submission_id)
        version = form_version(warehouse, submission_id) if form else None
        deleted = warehouse.one(
            "SELECT original_deleted_at FROM submissions WHERE submission_id = :id", id=submission_id
        )
    if form is None:
        return problem_page(request, 404, "No such form", f"There is no submission {submission_id}.")
    is_admin = user.role == Role.ADMIN
    if not is_admin and form.form_type != "voucher":
        raise NotAllowed()  # finance reads voucher sheets only
    original = original_of(settings.outputs, form.sha256) if is_admin else None
    if original is not None and deleted is not None and deleted[0] is not None:  # coforms retention or erase
        original = Original(
            "none",
            note=f"The original file was deleted on {when(deleted[0])} for data protection; its values are kept.",
        )
    layout = _Layout(form, original, _crops_listed(request, form.sha256) if is_admin else set())
    sections = [(heading, [layout.value(path, raw) for path, raw in rows]) for heading, rows in form.sections]
    columns, lines = _voucher_lines(layout) if form.form_type == "voucher" else ([], [])
    shown_fields = {v.field for _, values in sections for v in values}
    shown_fields |= {c.field for line in lines for c in line["cells"]} | {f"lines.{line['no']}" for line in lines}
    elsewhere = [p for p in layout.problems if p.problem.field not in shown_fields]
    return render(
        request,
        "form.html",
        title=f"{form.source_file} (submission {form.submission_id})",
        form=form,
        version=version,
        submission_id=form.submission_id,
        status=form.status,
        form_type=form.form_type,
        is_admin=is_admin,
        original=original,
        problems=layout.problems,
        resolved=[p for p in form.problems if p.state != "open"],
        marks=layout.marks,
        page_marks={page: [n for n, _ in marks] for page, marks in layout.page_marks.items()},
        sections=sections,
        columns=columns,
        lines=lines,
        elsewhere=elsewhere,
        received=when(form.received_at),
        where=where_in_words,
    )


def original_page(request: Request) -> Response:
    """A page of the original as a picture, each open problem's place boxed and numbered (admins)."""
    require(request, Role.ADMIN)
    submission_id, page = request.path_params["submission_id"], request.path_params["page"]
    settings = request.app.state.settings
    with reading(settings) as warehouse:
        form = stored_form(warehouse, submission_id)
    if form is None:
        return problem_page(request, 404, "No such page", "There is no such page of an original.")
    original = original_of(settings.outputs, form.sha256)
    layout = _Layout(form, original, set())
    png = page_picture(settings.outputs, form.sha256, page, layout.page_marks.get(page, []))
    if png is None:
        return problem_page(request, 404, "No such page", "There is no such page of an original.")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


def crop_picture(request: Request) -> Response:
    """The picture of a doubtful spot on a scan (admins), by a name in this file's crops folder."""
    require(request, Role.ADMIN)
    submission_id, name = request.path_params["submission_id"], request.path_params["name"]
    settings = request.app.state.settings
    with reading(settings) as warehouse:
        form = stored_form(warehouse, submission_id)
    if form is None or not _CROP_NAME.match(name) or name not in _crops_listed(request, form.sha256):
        return problem_page(request, 404, "No such picture", "There is no such picture of this form.")
    path = settings.outputs / crops_folder(form.sha256) / name
    return Response(path.read_bytes(), media_type="image/png", headers={"Cache-Control": "private, no-store"})


routes = [
    Route("/forms/{submission_id:int}", form_page, methods=["GET"]),
    Route("/forms/{submission_id:int}/original/{page:int}.png", original_page, methods=["GET"]),
    Route("/forms/{submission_id:int}/crop/{name:str}", crop_picture, methods=["GET"]),
]
