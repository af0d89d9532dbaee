"""The Excel templates print as forms: A4, one page wide, answer boxes with borders, the table's
header on every page, an input message on every answer cell, a unit beside the time spent, and
the tick column of a tick-all question labelled."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from pipeline.templates import FILE_NAMES
from pipeline.templates.excel import TICK_HEADING


def _sheet(folder: Path, form_type: str):
    return openpyxl.load_workbook(folder / f"{FILE_NAMES[form_type]}.xlsx")["Form"]


def _row_of(ws, text: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == text)


def _has_box(cell) -> bool:
    return all(getattr(cell.border, side).style == "thin" for side in ("left", "right", "top", "bottom"))


def _prompted(ws) -> dict[str, str]:
    """Each cell with an input message, and the message."""
    found = {}
    for validation in ws.data_validations.dataValidation:
        if validation.showInputMessage and validation.prompt:
            for cell_range in validation.sqref.ranges:
                for row in ws.iter_rows(
                    min_row=cell_range.min_row,
                    max_row=cell_range.max_row,
                    min_col=cell_range.min_col,
                    max_col=cell_range.max_col,
                ):
                    for cell in row:
                        found[cell.coordinate] = validation.prompt
    return found


@pytest.mark.parametrize(("form_type", "orientation"), [("voucher", "landscape"), ("monitoring", "portrait")])
def test_each_sheet_prints_on_a4_one_page_wide_within_its_print_area(blank_templates, form_type, orientation):
    ws = _sheet(blank_templates, form_type)
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.orientation == orientation
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_area, "no print area"
    assert ws.print_title_rows


def test_the_voucher_table_has_borders_a_unit_hint_and_its_header_on_every_page(blank_templates):
    ws = _sheet(blank_templates, "voucher")
    header = _row_of(ws, "Name")
    total = _row_of(ws, "Total")
    assert ws.print_title_rows == f"${header}:${header}"
    assert ws.print_area == f"'Form'!$A$1:$F${total}"
    assert [ws.cell(header, c).value for c in range(1, 7)][3] == "Time Spent (e.g. 2 hours)"
    for row in range(header, total + 1):
        for col in range(1, 7):
            assert _has_box(ws.cell(row, col)), ws.cell(row, col).coordinate
    for label in ("Project/Service Name", "Completed by"):
        assert _has_box(ws.cell(_row_of(ws, label), 2))


def test_every_answer_cell_of_the_voucher_sheet_says_what_to_write(blank_templates):
    ws = _sheet(blank_templates, "voucher")
    header, total = _row_of(ws, "Name"), _row_of(ws, "Total")
    prompts = _prompted(ws)
    for row in range(header + 1, total):
        for col in "ABCDEF":
            assert f"{col}{row}" in prompts, f"{col}{row}"
    assert "unit" in prompts[f"D{header + 1}"] and "90 mins" in prompts[f"D{header + 1}"]
    for label in ("Project/Service Name", "Completed by"):
        assert f"B{_row_of(ws, label)}" in prompts


def test_every_answer_cell_of_the_monitoring_sheet_has_a_box_and_an_input_message(blank_templates):
    ws = _sheet(blank_templates, "monitoring")
    prompts = _prompted(ws)
    answers = [
        ws.cell(r, 2)
        for r in range(2, ws.max_row + 1)  # below the title
        if ws.cell(r, 1).font.bold and ws.cell(r, 3).value is None
    ]
    assert len(answers) >= 11  # the header, eight one-answer questions and the postcode
    for cell in answers:
        assert _has_box(cell), cell.coordinate
        assert cell.coordinate in prompts, cell.coordinate


def test_a_tick_all_question_labels_its_tick_column(blank_templates):
    ws = _sheet(blank_templates, "monitoring")
    row = _row_of(ws, "Do any of these apply to you? (tick all)")
    assert ws.cell(row, 3).value == TICK_HEADING
    prompts = _prompted(ws)
    for r in range(row + 1, row + 7):
        assert ws.cell(r, 2).value and _has_box(ws.cell(r, 3)) and f"C{r}" in prompts


def test_printed_one_answer_questions_list_their_answers(blank_templates):
    """A drop-down shows nothing on paper: the answers are printed under the question."""
    ws = _sheet(blank_templates, "monitoring")
    texts = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    for answer in ("Under 18", "85 or over", "Non-binary", "Prefer to self-describe", "Gay or lesbian", "Roma", "Sikh"):
        assert answer in texts, answer


def test_wrapped_questions_get_rows_tall_enough_for_their_lines(blank_templates):
    ws = _sheet(blank_templates, "monitoring")
    row = _row_of(ws, "Is your gender identity the same as the sex you were registered at birth?")
    assert ws.row_dimensions[row].height >= 30  # two printed lines; at the default 15 the lines overprint


def test_own_words_after_self_describe_are_kept_with_an_information_box_not_refused(blank_templates):
    ws = _sheet(blank_templates, "monitoring")
    own_words = [v for v in ws.data_validations.dataValidation if v.error and "own words" in v.error]
    assert own_words and all(v.errorStyle == "information" for v in own_words)
    stops = [v for v in ws.data_validations.dataValidation if v.type == "list" and v not in own_words]
    assert all(v.errorStyle in (None, "stop") for v in stops)  # other lists keep to their options
