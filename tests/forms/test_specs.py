"""Every form spec against its pydantic model and the validator, so labels, options, required
flags and field names (data) and the rules (code) cannot drift: a spec names only model fields,
every model field is filled by its spec, each value's named type is the model field's type,
option lists are the model's, and the validator honours each required flag."""

from __future__ import annotations

import datetime as dt
import sys
import typing

import pytest

import schemas.types
from pipeline.document import Location
from pipeline.forms.raw import RawForm, RawRow, RawValue
from pipeline.forms.spec import FORM_TYPES, FormSpec, all_specs
from pipeline.problems import ProblemCode, Severity
from pipeline.validate.form import Context, validate_form
from schemas import MODELS, VoucherLine
from schemas.evaluation import LIKERT_SCORES, PRINCIPLES, THEME_NAMES, StatementAnswer
from schemas.monitoring import ETHNIC_GROUPS

TODAY = dt.date(2025, 6, 1)


def _literal_values(annotation) -> set[str]:
    found = set()
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            found |= set(typing.get_args(arg))
        else:
            found |= _literal_values(arg)
    return found


def _hints(model) -> dict[str, object]:
    return typing.get_type_hints(model, include_extras=True)


def _named_type(name: str, model) -> object:
    """A spec's type name: a type of schemas.types, else one of the form's own schemas module."""
    if hasattr(schemas.types, name):
        return getattr(schemas.types, name)
    return getattr(sys.modules[model.__module__], name)


# Model fields a part of the spec fills as a whole, rather than one field per label.
_FILLED_AS_A_WHOLE = {
    "principles": "statements",
    "feedback_label": "feedback",
    "columns": "lines",
    "total_labels": "total",
}


def _fields_filled(spec: FormSpec) -> list[str]:
    names = [f.name for f in spec.header] + [s.name for s in spec.sections] + [q.name for q in spec.questions]
    names += [q.free_text_field for q in spec.questions if q.free_text_field]
    names += [field for part, field in _FILLED_AS_A_WHOLE.items() if getattr(spec, part)]
    return names


@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_spec_fills_every_model_field_once_and_names_no_other(form_type):
    filled = _fields_filled(all_specs()[form_type])
    assert len(filled) == len(set(filled)), filled
    assert set(filled) == set(MODELS[form_type].model_fields)


@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_each_value_names_its_model_fields_type(form_type):
    spec, model = all_specs()[form_type], MODELS[form_type]
    named = [(f.name, f.type, model) for f in spec.header] + [(s.name, s.type, model) for s in spec.sections]
    named += [(c.field, c.type, VoucherLine) for c in spec.columns]
    for field, type_name, owner in named:
        assert _hints(owner)[field] == _named_type(type_name, owner), (field, type_name)


@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_header_options_are_exactly_the_model_literals(form_type):
    """Also: a header field without options in its spec has none in its model."""
    spec, model = all_specs()[form_type], MODELS[form_type]
    for f in spec.header:
        assert _literal_values(_hints(model)[f.name]) == set(f.options), f.name


@pytest.mark.parametrize(("form_type", "question"), [(t, q.name) for t in FORM_TYPES for q in all_specs()[t].questions])
def test_question_options_are_exactly_the_model_literals(form_type, question):
    spec = all_specs()[form_type]
    q = next(q for q in spec.questions if q.name == question)
    offered = {o.value for o in spec.question_options(q)}
    assert offered == _literal_values(_hints(MODELS[form_type])[question])


def test_likert_options_are_exactly_the_model_literals():
    offered = {o.value for o in all_specs()["evaluation"].likert_options}
    assert offered == _literal_values(_hints(StatementAnswer)["answer"])


@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_spec_fields_exist_on_the_model(form_type):
    spec, model = all_specs()[form_type], MODELS[form_type]
    names = [f.name for f in spec.header] + [s.name for s in spec.sections]
    names += [q.name for q in spec.questions if form_type != "evaluation"]
    names += [q.free_text_field for q in spec.questions if q.free_text_field]
    assert set(names) <= set(model.model_fields), set(names) - set(model.model_fields)


def test_monitoring_options_are_exactly_the_model_literals():
    spec = all_specs()["monitoring"]
    for question in spec.questions:
        offered = {o.value for o in spec.question_options(question)}
        annotation = MODELS["monitoring"].model_fields[question.name].annotation
        assert offered == _literal_values(annotation), question.name


def test_ethnicity_is_the_19_census_categories_in_their_groups():
    question = next(q for q in all_specs()["monitoring"].questions if q.name == "ethnicity")
    assert len(question.options) == 19
    assert {(o.group, o.value) for o in question.options} == {(g, v) for g, vs in ETHNIC_GROUPS.items() for v in vs}


def test_evaluation_spec_matches_the_model():
    spec = all_specs()["evaluation"]
    assert [p.name for p in spec.principles] == list(PRINCIPLES)
    assert {o.value: o.score for o in spec.likert_options} == LIKERT_SCORES
    themes = next(q for q in spec.questions if q.name == "themes")
    assert [o.value for o in themes.options] == list(THEME_NAMES)


def test_voucher_columns_map_to_line_fields():
    columns = all_specs()["voucher"].columns
    fields = set(VoucherLine.model_fields) - {"line_no"}
    assert [c.field for c in columns] == [c for c in VoucherLine.model_fields if c in fields]


# ---------------------------------------------------------------- required flags, honoured


def _flipped(spec: FormSpec) -> FormSpec:
    """The spec with every required flag (and a section's error/warning) the other way round: the
    validator must follow the spec, not a list of its own."""
    other_blank = {"error": "warning", "warning": "error", "ignore": "ignore"}
    return spec.model_copy(
        update={
            "header": tuple(f.model_copy(update={"required": not f.required}) for f in spec.header),
            "sections": tuple(
                s.model_copy(update={"required": False, "if_blank": other_blank["error" if s.required else s.if_blank]})
                for s in spec.sections
            ),
            "section_groups": tuple(
                g.model_copy(update={"if_blank": other_blank[g.if_blank]}) for g in spec.section_groups
            ),
            "columns": tuple(c.model_copy(update={"required": not c.required}) for c in spec.columns),
        }
    )


def _problems_by_field(spec: FormSpec, raw: RawForm) -> dict[str | None, list]:
    found: dict[str | None, list] = {}
    for p in validate_form(raw, spec, Context(today=TODAY)).problems:
        found.setdefault(p.field, []).append(p)
    return found


@pytest.mark.parametrize("flip", [False, True], ids=["as_specified", "flipped"])
@pytest.mark.parametrize("form_type", FORM_TYPES)
def test_blank_header_fields_and_sections_raise_what_the_spec_says(form_type, flip):
    spec = _flipped(all_specs()[form_type]) if flip else all_specs()[form_type]
    problems = _problems_by_field(spec, RawForm(form_type))
    for f in spec.header:
        if (form_type, f.name) == ("evaluation", "project_name"):
            continue  # a blank one is project_unknown, which the email subject may still settle
        codes = {p.code for p in problems.get(f.name, [])}
        assert (ProblemCode.MISSING_REQUIRED in codes) == f.required, f.name
    grouped = {g.sections[0]: g for g in spec.section_groups}
    for s in spec.sections:
        codes = [p.code for p in problems.get(s.name, [])]
        if s.name in grouped:
            want = [ProblemCode.MISSING_REQUIRED if grouped[s.name].if_blank == "error" else ProblemCode.BLANK_SECTION]
        elif s.if_blank == "ignore":
            want = []
        elif s.required or s.if_blank == "error":
            want = [ProblemCode.MISSING_REQUIRED]
        else:
            want = [ProblemCode.BLANK_SECTION]
        assert codes == want, s.name


_FILLED_CELL = {
    "name": "Grace Adeyemi",
    "date": "06/05/2025",
    "activity": "Workshop 1",
    "time_spent": "2 hours",
    "amount": "£20",
    "signed": "GA",
}


def _voucher_row(blank: str | None) -> RawForm:
    cells = {
        name: RawValue("" if name == blank else text, Location(sheet="Vouchers", cell="A2"))
        for name, text in _FILLED_CELL.items()
    }
    return RawForm("voucher", rows=[RawRow(1, cells, Location(sheet="Vouchers", cell="A2"))])


@pytest.mark.parametrize("flip", [False, True], ids=["as_specified", "flipped"])
def test_a_row_missing_a_required_column_is_incomplete(flip):
    spec = _flipped(all_specs()["voucher"]) if flip else all_specs()["voucher"]
    assert {c.name for c in spec.columns} == set(_FILLED_CELL)
    assert ProblemCode.INCOMPLETE_ROW not in {
        p.code for p in _problems_by_field(spec, _voucher_row(None)).get("lines.1", [])
    }
    for c in spec.columns:
        incomplete = [
            p
            for p in _problems_by_field(spec, _voucher_row(c.name)).get("lines.1", [])
            if p.code is ProblemCode.INCOMPLETE_ROW
        ]
        assert bool(incomplete) == c.required, c.name
        assert all(p.severity is Severity.ERROR and c.header in p.message for p in incomplete)


def test_an_invalid_value_warns_where_the_spec_says_so():
    spec = all_specs()["monitoring"]
    raw = RawForm("monitoring", fields={"postcode_district": RawValue("not a postcode")})
    for softened in (True, False):
        fields = tuple(
            f.model_copy(update={"invalid_is_warning": softened}) if f.name == "postcode_district" else f
            for f in spec.header
        )
        problems = _problems_by_field(spec.model_copy(update={"header": fields}), raw)["postcode_district"]
        assert {p.severity for p in problems} == {Severity.WARNING if softened else Severity.ERROR}


def test_a_section_group_names_sections_checked_only_as_a_group():
    spec = all_specs()["evaluation"]
    data = spec.model_dump()
    data["sections"][0]["if_blank"] = "warning"
    with pytest.raises(ValueError, match="section group"):
        FormSpec.model_validate(data)
