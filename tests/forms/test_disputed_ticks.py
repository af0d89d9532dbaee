"""Extraction names the option of each Word tick box whose glyph and recorded state disagree
(Cell.disputed_ticks), whichever layout holds the box; the answer is the glyph's."""

from __future__ import annotations

from pipeline.document import TICKED, UNTICKED, Cell, Document, Location
from pipeline.forms.extract import extract
from pipeline.forms.raw import DisputedTick
from pipeline.forms.spec import all_specs

SPEC = all_specs()["monitoring"]


def _gender(*rows: tuple[Cell, ...]) -> Document:
    doc = Document("docx")
    doc.add_paragraph("Gender", Location(paragraph=1))
    for row in rows:
        doc.add_row(list(row), table=1)
    return doc


def _cell(text: str, row: int, col: int, disputed: tuple[int, ...] = ()) -> Cell:
    return Cell(text, Location(table=1, row=row, col=col + 1), col, disputed_ticks=disputed)


def test_a_disputed_box_in_the_cell_beside_its_option():
    doc = _gender(
        (_cell("Woman", 1, 0), _cell(TICKED, 1, 1, (0,))),
        (_cell("Man", 2, 0), _cell(UNTICKED, 2, 1)),
    )
    choice = extract(doc, SPEC).choices["gender"]
    assert [t.option for t in choice.ticks] == ["Woman"]
    assert choice.disputed == [DisputedTick("Woman", Location(table=1, row=1, col=2), True)]


def test_the_disputed_box_among_several_in_one_cell_names_its_own_option():
    doc = _gender((_cell(f"{TICKED} Woman {UNTICKED} Man {UNTICKED} Non-binary", 1, 0, (1,)),))
    choice = extract(doc, SPEC).choices["gender"]
    assert [t.option for t in choice.ticks] == ["Woman"]
    assert choice.disputed == [DisputedTick("Man", Location(table=1, row=1, col=1), False)]


def test_boxes_after_a_question_label_in_the_same_cell_are_counted_from_the_cell_s_first_box():
    doc = Document("docx")
    doc.add_paragraph(f"Gender {UNTICKED} Woman {TICKED} Man", Location(paragraph=1), disputed_ticks=(1,))
    choice = extract(doc, SPEC).choices["gender"]
    assert choice.disputed == [DisputedTick("Man", Location(paragraph=1), True)]
