"""Identification without a title needs the labels of one table or one form region.

Three real spreadsheets from apache/poi's test data (FormulaEvalTestData_Copy.xlsx,
FormulaEvalTestData.xls, Basic_Expense_Template_2011.xls) were taken for voucher sheets: any
three one-word labels anywhere in a workbook were enough ("Name" out of a `#NAME?` error value
at AA11, "Date" at B320, "Time" at B1384). The workbooks below are built to mirror them.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from pipeline.document import Cell, Document, Location
from pipeline.forms.identify import identify_form
from pipeline.forms.spec import all_specs
from pipeline.read import read_document

GOLDEN = Path(__file__).parent.parent / "golden"


def _xlsx(build) -> bytes:
    wb = Workbook()
    build(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _formula_eval_test_data(wb: Workbook) -> None:
    """Like poi's FormulaEvalTestData: a long sheet of function names, arguments and results,
    with an Excel error value `#NAME?` far to the right and "Date", "Time" as function
    categories hundreds of rows apart in column B."""
    ws = wb.active
    ws.title = "EverythingTests"
    ws["A1"] = "Function"
    ws["B1"] = "Test case"
    ws["AA11"] = "#NAME?"  # openpyxl stores it as an error cell, as Excel does
    for row in range(12, 1400, 7):
        ws.cell(row=row, column=1, value=f"SUM{row}")
        ws.cell(row=row, column=3, value=row * 2)
    ws["B320"] = "Date"
    ws["B1384"] = "Time"


def _expense_template(wb: Workbook) -> None:
    """Like poi's Basic_Expense_Template_2011: "Amount" heads a column of one sheet, "Name" and
    "Date" head columns of another."""
    expenses = wb.active
    expenses.title = "EXPENSES"
    expenses["B10"], expenses["C10"], expenses["E10"] = "Description", "Category", "Amount"
    expenses["E11"] = 12.5
    email = wb.create_sheet("EmailXpenC")
    email["C4"], email["D4"], email["E4"] = "Name", "Date", "Description"
    email["C5"], email["D5"] = "J Smith", "01/02/2011"


@pytest.mark.parametrize("build", [_formula_eval_test_data, _expense_template])
def test_labels_scattered_across_a_workbook_are_not_a_form(build):
    doc = read_document(_xlsx(build))
    assert identify_form(doc) is None


def _sheet(rows: dict[int, list[str]], sheet: str = "Sheet1") -> Document:
    doc = Document("xlsx")
    for row, texts in sorted(rows.items()):
        doc.add_row(
            [Cell(t, Location(sheet=sheet, cell=f"{chr(65 + c)}{row}"), c) for c, t in enumerate(texts) if t], table=1
        )
    return doc


def test_an_excel_error_value_is_not_a_label():
    header = ["Name", "Date", "Time", "Amount (£)"]
    claim = ["Jane Doe", "01/02/2025", "2 hours", "£20"]
    assert identify_form(_sheet({1: header, 2: claim})) == "voucher"  # a header row, no title
    # the same row, but "Name" only out of the error value #NAME?: two headings are not enough
    assert identify_form(_sheet({1: ["#NAME?", "Date", "Time"], 2: claim})) is None


def test_column_headings_must_share_a_row_or_adjacent_rows():
    wrapped = _sheet({1: ["Name", "Date", ""], 2: ["", "", "Amount"], 3: ["Jane Doe", "01/02/2025", "£20"]})
    assert identify_form(wrapped) == "voucher"
    filler = {r: [f"row {r}"] for r in range(2, 40)}
    assert identify_form(_sheet({1: ["Name", "Date"], **filler, 40: ["Amount"]})) is None


def test_cells_of_label_and_value_are_not_column_headings():
    doc = _sheet({1: ["Name: Sunshine club", "Date: 3 May", "Amount: £40"]})
    assert identify_form(doc) is None


def _paragraphs(texts: list[str]) -> Document:
    doc = Document("docx")
    for i, text in enumerate(texts):
        doc.add_paragraph(text, Location(paragraph=i))
    return doc


def test_form_headings_far_apart_are_not_one_form():
    spec = all_specs()["planning"]
    headings = [s.heading for s in spec.sections[:4]]
    close = [line for heading in headings for line in (heading, "Our answer.", "More of it.")]
    assert identify_form(_paragraphs(close)) == "planning"
    far_apart = [
        line for heading in headings for line in (heading, *(f"minutes of meeting, item {i}" for i in range(60)))
    ]
    assert identify_form(_paragraphs(far_apart)) is None


def _without_titles(doc: Document) -> Document:
    titles = [t.casefold() for spec in all_specs().values() for t in spec.titles]
    doc.lines = [line for line in doc.lines if not any(t in line.text.casefold() for t in titles)]
    return doc


@pytest.mark.parametrize(
    ("form_type", "name"),
    [
        ("planning", "toolkit_layout.docx"),
        ("evaluation", "ticks_sdt.docx"),
        ("monitoring", "vertical_glyph.docx"),
    ],
)
def test_a_real_form_is_known_by_its_labels_together_but_not_scattered(form_type, name):
    doc = _without_titles(read_document((GOLDEN / form_type / name).read_bytes()))
    assert identify_form(doc) == form_type
    # the same lines, with pages of other text between every two of them
    scattered = Document(doc.format)
    for line in doc.lines:
        scattered.lines.append(line)
        for i in range(60):
            scattered.add_paragraph(f"unrelated note {i}", Location(paragraph=i))
    assert identify_form(scattered) is None
