"""RawForm -> typed form (pydantic) + Problems, following the rules of FORMS.md.

Pydantic checks each value (schemas/); the spec says which model field each value fills, its
type, and which values are required (pipeline/forms/specs). The few rules that span fields
(totals, claims repeated on a sheet, the project from the email subject) are here. A form with
errors still yields every value that was valid, with failed values left as None.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from pipeline.forms.raw import RawForm, RawValue
from pipeline.forms.spec import Column, FormSpec
from pipeline.problems import Problem, ProblemCode, Severity, make_problem
from pipeline.validate.ocr import check_ocr, settle_readings
from schemas import MODELS, VoucherLine
from schemas.values import duration_unit_is_assumed, is_signed


@dataclass(frozen=True)
class Context:
    today: dt.date
    voucher_line_cap: Decimal = Decimal("100")


@dataclass
class ValidatedForm:
    form_type: str
    model: BaseModel
    problems: list[Problem] = field(default_factory=list)
    locations: dict[str, str] = field(default_factory=dict)  # field path -> where it was found
    readings: dict[str, str] = field(default_factory=dict)  # field path -> what OCR read there (scans only)
    crops: set[str] = field(default_factory=set)  # pictures of spots on a scan that problems point to


class _Collector:
    """Problems for one form, with the location and label of each field filled in."""

    def __init__(self, spec: FormSpec, raw: RawForm):
        self.spec = spec
        self.raw = raw
        self.problems: list[Problem] = []
        self.failed: set[str] = set()
        self.locations: dict[str, Any] = {}
        self.blank_places: dict[str, Any] = {}  # blank table cells: where a problem about one points
        self.values: dict[str, str] = {}
        for name, value in raw.fields.items():
            self.locations[name] = value.location
            self.values[name] = value.text
        for name, choice in raw.choices.items():
            self.locations[name] = choice.location

    def add(
        self,
        code: ProblemCode,
        message: str,
        field_path: str | None,
        severity: Severity | None = None,
        value: object | None = None,
        location: object | None = None,
    ) -> None:
        if value is None and field_path is not None:
            value = self.values.get(field_path) or None
        if location is None and field_path is not None:
            location = self.blank_places.get(field_path)
        path = field_path
        while location is None and path:  # a blank cell has no place of its own: use its row's
            location = self.locations.get(path)
            path = path.rpartition(".")[0]
        self.problems.append(
            make_problem(code, message, field=field_path, location=location, value=value, severity=severity)
        )
        if field_path is not None:
            self.failed.add(field_path)

    def label(self, path: str) -> str:
        for f in self.spec.header:
            if f.name == path:
                return f.label
        for s in self.spec.sections:
            if s.name == path:
                return s.heading
        for q in self.spec.questions:
            if q.name == path:
                return q.question
        for p in self.spec.principles:
            for i, st in enumerate(p.statements, start=1):
                if path == f"{p.name}.{i}":
                    return f"{p.heading}, statement {i} ('{st}')"
        for c in self.spec.columns:
            if path.endswith("." + c.name):
                return c.header
        return path.replace("_", " ")


_KNOWN_CODES = {code.value: code for code in ProblemCode}
_CODE_FOR_PYDANTIC_TYPE = {"literal_error": ProblemCode.INVALID_OPTION, "enum": ProblemCode.INVALID_OPTION}


def _set_none(data: Any, loc: tuple) -> None:
    target = data
    for key in loc[:-1]:
        try:
            target = target[key]
        except (KeyError, IndexError, TypeError):
            return
    last = loc[-1]
    if isinstance(target, list) and isinstance(last, int) and last < len(target):
        target.pop(last)
    elif isinstance(target, dict):
        target[last] = None


def _validate(
    model_cls: type[BaseModel],
    data: dict,
    ctx: Context,
    out: _Collector,
    path_of=lambda loc: ".".join(str(p) for p in loc),
) -> BaseModel:
    context = {"today": ctx.today}
    try:
        return model_cls.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors()
    for err in errors:
        loc = tuple(err["loc"])
        # pydantic adds the Annotated wrapper's name (e.g. "function-before[...]") to dict/list locs
        loc = tuple(p for p in loc if not (isinstance(p, str) and "[" in p and "]" in p and p.endswith("]")))
        path = path_of(loc)
        code = _KNOWN_CODES.get(err["type"]) or _CODE_FOR_PYDANTIC_TYPE.get(err["type"], ProblemCode.INVALID_OPTION)
        out.add(code, f"{out.label(path)}: {err['msg']}", path)
        _set_none(data, loc)
    return model_cls.model_validate(data, context=context)


def _raw_input(raw: RawValue | None) -> object:
    if raw is None:
        return None
    if raw.value is not None and not isinstance(raw.value, str):
        return raw.value  # a typed Excel cell: a real date or number
    return raw.text


def _duration_input(raw: RawValue | None) -> object:
    """A numeric cell is a count of hours, as written: pass it as text (ints mean minutes to the model)."""
    value = _raw_input(raw)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return raw.text
    return value


def _signed_input(raw: RawValue | None) -> bool:
    return is_signed(raw.text, raw.value, raw.has_image) if raw else False


# How a raw value becomes the model's input, by the type its spec names; any other type takes
# the text (or a typed Excel cell) as it is.
_INPUT_BY_TYPE = {"Minutes": _duration_input, "Signed": _signed_input}


def _model_input(type_name: str, raw: RawValue | None) -> object:
    return _INPUT_BY_TYPE.get(type_name, _raw_input)(raw)


def _check_header(spec: FormSpec, model: BaseModel, out: _Collector, skip: tuple[str, ...] = ()) -> None:
    """The spec's rules for header values: an invalid value that only warns, and required values."""
    softened = {f.name for f in spec.header if f.invalid_is_warning}
    out.problems = [
        p.model_copy(update={"severity": Severity.WARNING}) if p.field in softened else p for p in out.problems
    ]
    for f in spec.header:
        if f.required and f.name not in skip and f.name not in out.failed and not getattr(model, f.name, None):
            where = "" if f.name in out.raw.fields else " (the label was not found on the form)"
            out.add(ProblemCode.MISSING_REQUIRED, f"{f.label} is blank{where}.", f.name)


def _check_sections(spec: FormSpec, model: BaseModel, out: _Collector) -> None:
    for s in spec.sections:
        if getattr(model, s.name, None) or s.name in out.failed or s.if_blank == "ignore":
            continue
        if s.required or s.if_blank == "error":
            out.add(ProblemCode.MISSING_REQUIRED, f"'{s.heading}' has no answer; it must be filled in.", s.name)
        else:
            out.add(ProblemCode.BLANK_SECTION, f"'{s.heading}' has no answer.", s.name)
    for group in spec.section_groups:
        if not any(getattr(model, name, None) for name in group.sections):
            code = ProblemCode.MISSING_REQUIRED if group.if_blank == "error" else ProblemCode.BLANK_SECTION
            out.add(code, f"{group.label} is blank.", group.sections[0])


# ---------------------------------------------------------------- per form


def _header(spec: FormSpec, raw: RawForm) -> dict:
    return {f.name: _model_input(f.type, raw.fields.get(f.name)) for f in spec.header}


def _header_and_sections(spec: FormSpec, raw: RawForm) -> dict:
    data = _header(spec, raw)
    data.update({s.name: _model_input(s.type, raw.fields.get(s.name)) for s in spec.sections})
    return data


def _validate_planning(spec: FormSpec, raw: RawForm, ctx: Context, out: _Collector) -> BaseModel:
    model = _validate(MODELS["planning"], _header_and_sections(spec, raw), ctx, out)
    _check_header(spec, model, out)
    _check_sections(spec, model, out)
    return model


def _validate_evaluation(spec: FormSpec, raw: RawForm, ctx: Context, out: _Collector) -> BaseModel:
    data = _header_and_sections(spec, raw)
    data["statements"] = {}
    for p in spec.principles:
        for i in range(1, len(p.statements) + 1):
            choice = raw.choices.get(f"{p.name}.{i}")
            data["statements"][f"{p.name}.{i}"] = {"answer": [t.option for t in choice.ticks] if choice else []}
    data["feedback"] = {
        p.name: raw.text(f"feedback.{p.name}") for p in spec.principles if raw.text(f"feedback.{p.name}").strip()
    }
    themes = raw.choices.get("themes")
    data["themes"] = list(dict.fromkeys(t.option for t in themes.ticks)) if themes else []

    def path_of(loc: tuple) -> str:
        if loc and loc[0] == "statements" and len(loc) >= 2:
            return str(loc[1])  # "relationships.1"
        return ".".join(str(p) for p in loc)

    model = _validate(MODELS["evaluation"], data, ctx, out, path_of)
    if not model.project_name and "project_name" not in out.failed:
        # what the form alone says; the email subject may still name the project, which needs
        # the forms before it: decided once when the form is recorded (pipeline.history.decide)
        out.add(
            ProblemCode.PROJECT_UNKNOWN,
            "The form has no project name, and the email subject does not name exactly one known project.",
            "project_name",
        )
    _check_header(spec, model, out, skip=("project_name",))
    _check_sections(spec, model, out)
    for key, answer in model.statements.items():
        if answer.answer is None and key not in out.failed:
            choice = raw.choices.get(key)
            found = "" if choice else " (the statement was not found on the form)"
            out.add(ProblemCode.NOT_ANSWERED, f"{out.label(key)}: no box is ticked{found}.", key)
    return model


def _validate_monitoring(spec: FormSpec, raw: RawForm, ctx: Context, out: _Collector) -> BaseModel:
    data = _header(spec, raw)
    for q in spec.questions:
        choice = raw.choices.get(q.name)
        ticks = choice.ticks if choice else []
        data[q.name] = list(dict.fromkeys(t.option for t in ticks)) if q.multiple else [t.option for t in ticks]
        if q.free_text_field:
            data[q.free_text_field] = " ".join(t.free_text for t in ticks if t.free_text) or None
    model = _validate(MODELS["monitoring"], data, ctx, out)
    _check_header(spec, model, out)
    return model


def _unit_assumed(
    columns: tuple[Column, ...], row_no: int, line: VoucherLine, data: dict, prefix: str, out: _Collector
) -> None:
    """A bare number in a Minutes column was read as hours: the sender should confirm it."""
    for c in (c for c in columns if c.type == "Minutes"):
        minutes = getattr(line, c.field)
        if minutes is not None and duration_unit_is_assumed(data[c.field]):
            out.add(
                ProblemCode.UNIT_ASSUMED,
                f"Row {row_no}: {c.header.lower()} '{out.values.get(f'{prefix}.{c.name}')}' has no unit; "
                f"read as {minutes // 60}h{minutes % 60:02d}.",
                f"{prefix}.{c.name}",
            )


def _validate_voucher(spec: FormSpec, raw: RawForm, ctx: Context, out: _Collector) -> BaseModel:
    header_model = _validate(MODELS["voucher"], _header(spec, raw), ctx, out)
    _check_header(spec, header_model, out)
    column_of_field = {c.field: c.name for c in spec.columns}
    lines: list[VoucherLine] = []
    seen_claims: dict[str, int] = {}
    all_amounts_valid = True
    for row in raw.rows:
        prefix = f"lines.{row.row_no}"
        out.locations[prefix] = row.location
        for name, cell in row.cells.items():
            out.locations[f"{prefix}.{name}"] = cell.location
            out.values[f"{prefix}.{name}"] = cell.text
        for name, place in row.blank_places.items():
            out.blank_places[f"{prefix}.{name}"] = place
        data: dict[str, object] = {"line_no": row.row_no}
        data.update({c.field: _model_input(c.type, row.cells.get(c.name)) for c in spec.columns})
        before = len(out.problems)
        line = _validate(
            VoucherLine, data, ctx, out, lambda loc, prefix=prefix: f"{prefix}.{column_of_field.get(loc[0], loc[0])}"
        ).found_at(row.location)
        for p in out.problems[before:]:
            out.problems[out.problems.index(p)] = p.model_copy(update={"message": f"Row {row.row_no}: {p.message}"})
        missing = [
            c.header
            for c in spec.columns
            if c.required and (row.cells.get(c.name) is None or row.cells[c.name].is_blank)
        ]
        if missing:
            out.add(
                ProblemCode.INCOMPLETE_ROW,
                f"Row {row.row_no} is missing: {', '.join(missing)}.",
                f"{prefix}",
                location=row.location,
                value=" | ".join(c.text for c in row.cells.values()),
            )
        if line.amount is None:
            all_amounts_valid = False
        _unit_assumed(spec.columns, row.row_no, line, data, prefix, out)
        if line.amount is not None and line.amount > ctx.voucher_line_cap:
            out.add(
                ProblemCode.OVER_CAP,
                f"Row {row.row_no}: £{line.amount} is above the £{ctx.voucher_line_cap} limit for one line.",
                f"{prefix}.amount",
            )
        if not line.signed and not missing:
            out.add(ProblemCode.UNSIGNED, f"Row {row.row_no}: not signed by the recipient.", f"{prefix}.signed")
        key = line.claim_key
        if key is not None:
            if key in seen_claims:
                out.add(
                    ProblemCode.POSSIBLE_DUPLICATE_CLAIM,
                    f"Row {row.row_no} repeats row {seen_claims[key]} (same name, date and activity).",
                    f"{prefix}",
                )
            else:
                seen_claims[key] = row.row_no
        lines.append(line)
    if not raw.rows:
        out.add(ProblemCode.MISSING_REQUIRED, "The voucher table has no filled-in rows.", "lines")
    model = header_model.model_copy(update={"lines": lines})
    if raw.total is not None and not raw.total.is_blank:
        out.locations["total"] = raw.total.location
        out.values["total"] = raw.total.text
        total_model = _validate(MODELS["voucher"], {"total": _raw_input(raw.total)}, ctx, out)
        model = model.model_copy(update={"total": total_model.total})
        if total_model.total is not None and all_amounts_valid and total_model.total != model.amount_sum:
            out.add(
                ProblemCode.TOTAL_MISMATCH,
                f"The sheet's total is £{total_model.total} but the amounts add up to £{model.amount_sum}.",
                "total",
            )
    return model


def _warn_disputed_ticks(raw: RawForm, out: _Collector) -> None:
    """Word tick boxes whose glyph and recorded state disagree were read as they look on the page
    (pipeline.read.docx): the admin is told which answer that decided."""
    for name, choice in raw.choices.items():
        for box in choice.disputed:
            if box.shows_tick:
                what = "shows a tick, but Word records it as not ticked; it was read as ticked"
            else:
                what = "shows an empty box, but Word records it as ticked; it was read as not ticked"
            out.add(
                ProblemCode.TICK_MISMATCH,
                f"{out.label(name)}: the box for '{box.option}' {what}, as it looks on the page.",
                name,
                value=box.option,
                location=box.location,
            )


_VALIDATORS = {
    "planning": _validate_planning,
    "evaluation": _validate_evaluation,
    "monitoring": _validate_monitoring,
    "voucher": _validate_voucher,
}


def validate_form(raw: RawForm, spec: FormSpec, ctx: Context, crops_folder: str = "ocr-crops") -> ValidatedForm:
    """`crops_folder`: where the run keeps this file's pictures of spots on a scan (problems name them)."""
    settle_readings(raw)
    out = _Collector(spec, raw)
    model = _VALIDATORS[spec.form_type](spec, raw, ctx, out)
    ocr = check_ocr(spec, raw, out.label, crops_folder)
    for problem in ocr.problems:
        out.add(problem.code, problem.message, problem.path, value=problem.value, location=problem.location)
    _warn_disputed_ticks(raw, out)
    locations = {path: str(loc) for path, loc in out.locations.items() if loc is not None}
    return ValidatedForm(spec.form_type, model, out.problems, locations, ocr.readings, ocr.crops)
