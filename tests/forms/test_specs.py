"""Every form spec against its pydantic model, so labels (data) and rules (code) cannot drift."""

from __future__ import annotations

import typing

import pytest

from pipeline.forms.spec import FORM_TYPES, all_specs
from schemas import MODELS, VoucherLine
from schemas.evaluation import LIKERT_SCORES, PRINCIPLES, THEME_NAMES
from schemas.monitoring import ETHNIC_GROUPS


def _literal_values(annotation) -> set[str]:
    found = set()
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            found |= set(typing.get_args(arg))
        else:
            found |= _literal_values(arg)
    return found


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
    columns = {c.name for c in all_specs()["voucher"].columns}
    fields = set(VoucherLine.model_fields) - {"line_no"}
    assert {("time_spent_minutes" if c == "time_spent" else c) for c in columns} == fields
