"""A problem about a blank cell of a table row ("not signed") points at that cell, not at the row's
first: no reader keeps a blank cell, so its place is worked out from the row and its column."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from pipeline.document import Location
from pipeline.runtime.parse import parse_file
from pipeline.validate.form import Context
from tests.conftest import GOLDEN

CTX = Context(today=dt.date(2026, 1, 1))


def _unsigned_places(data: bytes) -> list[str]:
    parsed = parse_file(data, CTX)
    return [p.location for p in parsed.problems if p.code.value == "unsigned"]


def test_an_unsigned_line_of_a_word_sheet_points_at_its_signature_cell():
    data = (GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx").read_bytes()
    assert _unsigned_places(data) == ["table 1, row 4, column 6"]  # was column 1, the name


def test_an_unsigned_line_of_an_excel_sheet_points_at_its_signature_cell():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Vouchers"
    sheet.append(["Co-production Attendance and Voucher Collection"])
    sheet.append(["Project Name:", "Carers Week Co-design Group"])
    sheet.append(["Completed by:", "Tom Okafor"])
    sheet.append([])
    sheet.append(["Name", "Date", "Activity", "Time Spent", "Voucher Amount Received", "Signed by recipient"])
    sheet.append(["Grace Adeyemi", "06/05/2025", "Workshop 1", "2 hours", "£20.00", "G Adeyemi"])
    sheet.append(["Peter Novak", "06/05/2025", "Workshop 1", "2 hours", "£20.00"])  # not signed
    sheet.append(["Total", None, None, None, "£40.00"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert _unsigned_places(buffer.getvalue()) == ["Vouchers!F7"]


def test_a_place_in_another_column_of_the_same_row():
    assert Location(sheet="Form", cell="A8").in_column(5) == Location(sheet="Form", cell="F8")
    assert Location(sheet="Form", cell="Z3").in_column(26) == Location(sheet="Form", cell="AA3")
    assert Location(page=2, table=1, row=4, col=1).in_column(5) == Location(page=2, table=1, row=4, col=6)
    assert Location(paragraph=3).in_column(2) is None
