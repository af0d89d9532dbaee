"""`coforms templates`: each blank form, filled in by program as a person would, reads back
exactly the values put in: in Word, Excel and fillable PDF (meaningful or generic field names)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.forms.spec import all_specs
from pipeline.runtime.parse import parse_file
from pipeline.templates import EXCEL_FORMS, FILE_NAMES
from pipeline.templates.outline import outline
from tests.fixtures import forms_data as fd
from tests.fixtures.build_golden import (
    expected_evaluation,
    expected_monitoring,
    expected_planning,
    expected_voucher,
)
from tests.fixtures.fill_templates import answers_for, fill_pdf, fill_xlsx
from tests.templates.fill_word import fill_docx


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("templates")
    result = CliRunner().invoke(app, ["templates", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _answers(form_type: str) -> tuple[dict, dict]:
    """What a person writes on the form, and the values that must be read back."""
    if form_type == "planning":
        p = fd.PLANNING
        return answers_for("planning", p), expected_planning(
            {**p, "sections": {k: [" ".join(v)] for k, v in p["sections"].items()}}
        )
    if form_type == "evaluation":
        e = fd.evaluation(3)
        return answers_for("evaluation", e), expected_evaluation(e)
    if form_type == "monitoring":
        m = fd.monitoring(gender_self_description=None)
        # in a sheet the date is a real date cell; elsewhere it is typed
        return {**answers_for("monitoring", m), "date": m["date"]}, expected_monitoring(m)
    v = fd.voucher()
    answers = answers_for("voucher", v)
    answers["lines"] = [
        (n, date, a, t, amount_text, sig) for n, date, _dt, a, t, _m, amount_text, _a, sig in v["lines"]
    ]
    return answers, expected_voucher(v, "70.50")


def test_every_form_has_its_templates(templates):
    for form_type, base in FILE_NAMES.items():
        suffixes = {".docx", ".pdf"} | ({".xlsx"} if form_type in EXCEL_FORMS else set())
        for suffix in suffixes:
            assert (templates / f"{base}{suffix}").stat().st_size > 0


CASES = [
    (f, fmt)
    for f in FILE_NAMES
    for fmt in ("docx", "pdf", "pdf-generic-names", "xlsx")
    if fmt != "xlsx" or f in EXCEL_FORMS
]


@pytest.mark.parametrize("form_type, fmt", CASES, ids=[f"{f}-{fmt}" for f, fmt in CASES])
def test_filled_template_reads_back_exactly(templates, tmp_path, ctx, form_type, fmt):
    items = outline(all_specs()[form_type])
    answers, expected = _answers(form_type)
    template = templates / f"{FILE_NAMES[form_type]}.{fmt.split('-')[0]}"
    filled = tmp_path / f"filled.{fmt.split('-')[0]}"
    if fmt == "docx":
        fill_docx(template, items, answers, filled)
    elif fmt == "xlsx":
        if form_type == "voucher":  # in a sheet, amounts and dates are typed as numbers and dates
            answers = {
                **answers,
                "lines": [(n, d, a, t, float(str(amt).lstrip("£")), s) for n, d, a, t, amt, s in answers["lines"]],
            }
        fill_xlsx(template, items, answers, filled)
        if form_type == "voucher":
            expected = {**expected, "total": None}  # openpyxl saves the SUM without its value
    else:
        fill_pdf(template, items, answers, filled, generic_names=fmt == "pdf-generic-names")
    parsed = parse_file(filled.read_bytes(), ctx)
    assert parsed.form_type == form_type
    assert parsed.form.model_dump(mode="json") == expected
    assert [p.code.value for p in parsed.problems] == []


# The printed Excel sheets are tested in tests/templates/test_printed.py.
