"""Every answer the validator accepts is shown on the form, and what the form invites is read
back: "Completed by" names its roles and takes a person's name; every monitoring template has
room for the gender self-description, which is read back in Word, PDF and Excel."""

from __future__ import annotations

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from pipeline.forms.spec import all_specs
from pipeline.runtime.parse import parse_file
from pipeline.templates import FILE_NAMES
from pipeline.templates.outline import outline
from tests.fixtures import forms_data as fd
from tests.fixtures.build_golden import expected_evaluation, expected_monitoring
from tests.fixtures.fill_templates import answers_for, fill_pdf, fill_xlsx
from tests.templates.fill_word import fill_docx, paragraphs_in_reading_order

OWN_WORDS = "Agender"


def _text_of(path) -> str:
    if path.suffix == ".docx":
        return "\n".join(p.text for p in paragraphs_in_reading_order(docx.Document(str(path))))
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


@pytest.mark.parametrize("suffix", ["docx", "pdf"])
def test_completed_by_names_the_roles_it_accepts_and_a_name(blank_templates, suffix):
    text = " ".join(_text_of(blank_templates / f"{FILE_NAMES['evaluation']}.{suffix}").split())
    assert "Completed by (Staff, Resident, Carer, Other, or your name)" in text


@pytest.mark.parametrize("suffix", ["docx", "pdf"])
def test_an_evaluation_completed_by_a_named_person_reads_back_without_problems(blank_templates, tmp_path, ctx, suffix):
    e = fd.evaluation(3, completed_by="Amina Yusuf")
    items = outline(all_specs()["evaluation"])
    filled = tmp_path / f"filled.{suffix}"
    fill = fill_docx if suffix == "docx" else fill_pdf
    fill(blank_templates / f"{FILE_NAMES['evaluation']}.{suffix}", items, answers_for("evaluation", e), filled)
    parsed = parse_file(filled.read_bytes(), ctx)
    assert parsed.form.model_dump(mode="json") == expected_evaluation(e)
    assert parsed.form.completed_by == "Amina Yusuf"
    assert [p.code.value for p in parsed.problems] == []


def _self_described(tmp_path, blank_templates, suffix: str):
    m = fd.monitoring(gender=["Prefer to self-describe"], gender_self_description=OWN_WORDS)
    items = outline(all_specs()["monitoring"])
    answers = answers_for("monitoring", m)
    template = blank_templates / f"{FILE_NAMES['monitoring']}.{suffix}"
    filled = tmp_path / f"filled.{suffix}"
    if suffix == "docx":
        fill_docx(template, items, answers, filled)
        document = docx.Document(str(filled))
        line = next(p for p in paragraphs_in_reading_order(document) if "Prefer to self-describe" in p.text)
        line.runs[-1].text = ": " + OWN_WORDS  # typed over the writing line after the option
        document.save(str(filled))
    elif suffix == "pdf":
        fill_pdf(template, items, answers, filled)
        writer = PdfWriter(clone_from=PdfReader(str(filled)))
        for page in writer.pages:
            writer.update_page_form_field_values(page, {"gender_self_description": OWN_WORDS}, auto_regenerate=False)
        writer.write(str(filled))
    else:  # typed in the answer cell, as its input message says
        answers = {**answers, "date": m["date"], "gender": [f"Prefer to self-describe: {OWN_WORDS}"]}
        fill_xlsx(template, items, answers, filled)
    return filled, expected_monitoring(m)


@pytest.mark.parametrize("suffix", ["docx", "pdf", "xlsx"])
def test_every_monitoring_template_has_room_for_the_gender_self_description(blank_templates, tmp_path, ctx, suffix):
    filled, expected = _self_described(tmp_path, blank_templates, suffix)
    parsed = parse_file(filled.read_bytes(), ctx)
    assert parsed.form.model_dump(mode="json") == expected
    assert parsed.form.gender_self_description == OWN_WORDS
    assert [p.code.value for p in parsed.problems] == []


def test_the_pdf_self_description_box_is_a_named_field(blank_templates):
    fields = PdfReader(str(blank_templates / f"{FILE_NAMES['monitoring']}.pdf")).get_fields()
    assert "gender_self_description" in fields
