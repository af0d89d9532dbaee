"""A Word template filled in and saved as PDF (as staff send them) reads back exactly: the table
layout survives LibreOffice's PDF export, content-control ticks and all."""

from __future__ import annotations

import pytest

from pipeline.forms.spec import all_specs
from pipeline.runtime.parse import parse_file
from pipeline.templates import FILE_NAMES
from pipeline.templates.outline import outline
from tests.templates.conftest import needs_soffice, print_to_pdf
from tests.templates.fill_word import fill_docx
from tests.test_templates import _answers


@pytest.fixture(scope="module")
def printed(blank_templates, tmp_path_factory):
    folder = tmp_path_factory.mktemp("word_printed")
    filled = []
    for form_type in FILE_NAMES:
        answers, _ = _answers(form_type)
        path = folder / f"{form_type}.docx"
        fill_docx(blank_templates / f"{FILE_NAMES[form_type]}.docx", outline(all_specs()[form_type]), answers, path)
        filled.append(path)
    return {p.stem: p for p in print_to_pdf(filled, folder / "pdf")}


@needs_soffice
@pytest.mark.parametrize("form_type", list(FILE_NAMES))
def test_a_filled_word_template_saved_as_pdf_reads_back_exactly(printed, ctx, form_type):
    _, expected = _answers(form_type)
    parsed = parse_file(printed[form_type].read_bytes(), ctx)
    assert parsed.form_type == form_type
    assert parsed.form.model_dump(mode="json") == expected
    assert [p.code.value for p in parsed.problems] == []
