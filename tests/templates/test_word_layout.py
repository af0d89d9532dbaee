"""The Word templates are laid out as the toolkit's forms: a label cell and an empty answer cell
for every question, every tick box in a table cell with its option, the voucher table's header
row repeated on each page, on A4."""

from __future__ import annotations

import docx
import pytest
from docx.shared import Cm

from pipeline.forms.spec import all_specs
from pipeline.templates import FILE_NAMES
from pipeline.templates.outline import Choice, Field, Table, outline

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"


def _cells(document) -> list:
    """Every table cell in reading order (a merged cell once)."""
    found = []
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                if not found or found[-1]._tc is not cell._tc:
                    found.append(cell)
    return found


@pytest.mark.parametrize("form_type", list(FILE_NAMES))
def test_every_question_has_a_label_cell_then_an_empty_answer_cell(blank_templates, form_type):
    document = docx.Document(str(blank_templates / f"{FILE_NAMES[form_type]}.docx"))
    cells = _cells(document)
    texts = [c.text for c in cells]
    fields = [i for i in outline(all_specs()[form_type]) if isinstance(i, Field)]
    at = 0
    for field in fields:
        at = next(n for n in range(at, len(texts)) if texts[n].startswith(field.label))
        assert texts[at + 1] == "", f"{field.label}: no empty answer cell after it"
        at += 1


@pytest.mark.parametrize("form_type", ["evaluation", "monitoring"])
def test_every_tick_box_is_in_a_table_cell_beside_its_option(blank_templates, form_type):
    document = docx.Document(str(blank_templates / f"{FILE_NAMES[form_type]}.docx"))
    in_cells = [c.text.strip() for c in _cells(document) if c._tc.find(f".//{{{W14}}}checkbox") is not None]
    in_body = [p.text for p in document.paragraphs if p._p.find(f".//{{{W14}}}checkbox") is not None]
    assert in_body == []
    expected = [
        o
        for i in outline(all_specs()[form_type])
        if isinstance(i, Choice)
        for _, g in (i.groups or (("", i.options),))
        for o in g
    ]
    assert [t.split(":")[0] for t in in_cells] == expected


def test_the_voucher_table_repeats_its_header_on_each_page(blank_templates):
    document = docx.Document(str(blank_templates / f"{FILE_NAMES['voucher']}.docx"))
    table_item = next(i for i in outline(all_specs()["voucher"]) if isinstance(i, Table))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == table_item.columns[0])
    assert [c.text for c in table.rows[0].cells] == list(table_item.columns)
    assert table.rows[0]._tr.find(f"{{{W}}}trPr/{{{W}}}tblHeader") is not None


@pytest.mark.parametrize("form_type", list(FILE_NAMES))
def test_the_forms_print_on_a4(blank_templates, form_type):
    section = docx.Document(str(blank_templates / f"{FILE_NAMES[form_type]}.docx")).sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.1) and abs(section.page_height - Cm(29.7)) < Cm(0.1)
