from __future__ import annotations

import datetime as dt
import io

import openpyxl
from openpyxl.drawing.image import Image as XlImage

from pipeline.read.xlsx import read_xlsx
from tests.fixtures.wordml import PNG


def _read(wb: openpyxl.Workbook):
    buf = io.BytesIO()
    wb.save(buf)
    return read_xlsx(buf.getvalue())


def test_cells_keep_typed_values_and_sheet_locations():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Vouchers"
    ws.append(["Date", dt.datetime(2025, 5, 6), 20.5, True, None, "✓"])
    doc = _read(wb)
    cells = doc.lines[0].cells
    assert [c.text for c in cells] == ["Date", "06/05/2025", "20.5", "TRUE", "☒"]
    assert cells[1].value == dt.datetime(2025, 5, 6) and cells[2].value == 20.5 and cells[3].value is True
    assert [str(c.location) for c in cells] == [
        "Vouchers!A1",
        "Vouchers!B1",
        "Vouchers!C1",
        "Vouchers!D1",
        "Vouchers!F1",
    ]
    assert [c.col for c in cells] == [0, 1, 2, 3, 5]


def test_hidden_sheets_are_skipped_and_merged_cells_read_once():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Co-production Attendance and Voucher Collection"])
    ws.merge_cells("A1:F1")
    lists = wb.create_sheet("Lists")
    lists.append(["Yes", "No"])
    lists.sheet_state = "hidden"
    doc = _read(wb)
    assert [line.text for line in doc.lines] == ["Co-production Attendance and Voucher Collection"]


def test_a_formula_saved_without_a_cached_value_reads_as_blank():
    wb = openpyxl.Workbook()
    wb.active.append(["Total", "=SUM(B1:B3)"])
    doc = _read(wb)
    assert [c.text for c in doc.lines[0].cells] == ["Total"]


def test_a_picture_anchored_to_a_cell_counts_as_that_cell_having_an_image(tmp_path):
    png = tmp_path / "sig.png"
    png.write_bytes(PNG)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Grace", "Workshop"])
    ws.add_image(XlImage(str(png)), "C1")
    cells = _read(wb).lines[0].cells
    assert cells[-1].has_image and str(cells[-1].location) == "Sheet!C1"


def test_rows_and_columns_are_capped():
    wb = openpyxl.Workbook()
    wb.active.cell(row=9000, column=2, value="far away")
    doc = _read(wb)
    assert doc.lines == [] and doc.notes and "cut to" in doc.notes[0]
