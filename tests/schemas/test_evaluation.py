"""The evaluation's "Completed by": a role the template offers, or the name of whoever filled it in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.evaluation import EvaluationForm


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("staff", "Staff"),
        (" RESIDENT ", "Resident"),
        ("Carer.", "Carer"),
        ("other", "Other"),
        ("Tom Okafor", "Tom Okafor"),
        ("Mary-Jane O'Neill", "Mary-Jane O'Neill"),
        ("J. Smith", "J. Smith"),
        ("Tom\nOkafor", "Tom Okafor"),  # a name wrapped in a narrow PDF cell
        ("Zoë Łukasiewicz", "Zoë Łukasiewicz"),
        ("", None),
    ],
)
def test_completed_by_accepts_a_role_or_a_persons_name(written, kept):
    assert EvaluationForm(completed_by=written).completed_by == kept


@pytest.mark.parametrize(
    "written",
    [
        "07700 900123",
        "tom@example.org",
        "We met every Tuesday and the group worked well together, though the room was too small for us all",
    ],
)
def test_completed_by_refuses_what_is_not_a_role_or_a_name(written):
    with pytest.raises(ValidationError) as caught:
        EvaluationForm(completed_by=written)
    (error,) = caught.value.errors()
    assert error["type"] == "invalid_option" and "Staff, Resident, Carer, Other" in error["msg"]


def test_a_strange_completed_by_is_a_warning_and_the_form_still_loads():
    """Who filled it in is optional: a paragraph written there is flagged, not a reason to hold the form."""
    import datetime as dt

    from pipeline.forms.raw import RawForm, RawValue
    from pipeline.forms.spec import all_specs
    from pipeline.problems import Severity
    from pipeline.validate.form import Context, validate_form

    fields = {
        "project_name": RawValue("Carers Week"),
        "date": RawValue("03/04/2025"),
        "completed_by": RawValue("Call me on 07700 900123 about the next meeting"),
        "what_worked_well": RawValue("Everything"),
    }
    validated = validate_form(
        RawForm("evaluation", fields), all_specs()["evaluation"], Context(today=dt.date(2025, 6, 1))
    )
    about = [p for p in validated.problems if p.field == "completed_by"]
    assert [(p.code.value, p.severity) for p in about] == [("invalid_option", Severity.WARNING)]
    assert not [p for p in validated.problems if p.severity == Severity.ERROR]
