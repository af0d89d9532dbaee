"""pipeline.read.pdf on sheets printed to PDF without gridlines (Excel's and Calc's default):
the table is found from its header row's words and the cells' alignment."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.document import UNTICKED
from pipeline.read import pdf_columns
from pipeline.read.pdf import read_pdf

GOLDEN = Path(__file__).parents[1] / "golden" / "voucher"
HEADER = ["Name", "Date", "Activity", "Time Spent", "Voucher Amount Received", "Signed by recipient"]


def _rows(path: Path) -> list[list[str]]:
    """Each row as its six cells' text, by column ("" for an empty cell)."""
    doc = read_pdf(path.read_bytes())
    rows = []
    for line in doc.lines:
        if line.kind == "row":
            texts = [""] * max(6, max(c.col for c in line.cells) + 1)
            for cell in line.cells:
                texts[cell.col] = cell.text
            rows.append(texts)
    return rows


def _table(path: Path, header: list[str] = HEADER) -> list[list[str]]:
    rows = _rows(path)
    start = rows.index(header)
    return rows[start:]


def test_the_toolkit_sheet_printed_by_calc_reads_as_rows_of_six_columns():
    table = _table(GOLDEN / "pdf_of_calc_sheet_no_gridlines.pdf")
    assert table[1] == ["Grace Adeyemi", "06/05/2025", "Workshop 1", "2 hours", "£20.00", "G Adeyemi"]
    assert table[-1] == ["Total", "", "", "", "£70.50", ""]


def test_a_date_touching_the_next_columns_text_is_split_where_the_columns_meet():
    # right-aligned "06/05/2025" and left-aligned "Workshop" touch in the PDF: one word to pdfplumber
    table = _table(GOLDEN / "pdf_of_calc_sheet_no_gridlines.pdf")
    assert [row[1:3] for row in table[1:3]] == [["06/05/2025", "Workshop 1"], ["06/05/2025", "Workshop 1"]]


def test_a_cell_wrapped_over_two_lines_stays_one_cell_in_one_row():
    table = _table(GOLDEN / "pdf_of_calc_sheet_no_gridlines.pdf")
    assert len(table) == 6  # header, four lines, total
    assert table[3][:3] == ["Siobhan Kelly", "13/05/2025", "Reading group and a long discussion of the draft leaflet"]
    assert table[3][4] == "£15.50"


def test_label_rows_above_the_header_keep_their_value_cells_whole():
    rows = _rows(GOLDEN / "pdf_of_calc_sheet_no_gridlines.pdf")
    # the name runs on over the empty cells beside it, as the sheet shows it
    assert rows[0][:2] == ["Project/Service Name", "Carers Week Co-design Group"]
    assert rows[1][:2] == ["Completed by", "Tom Okafor"]


def test_right_aligned_amounts_sit_under_their_left_aligned_header():
    table = _table(GOLDEN / "pdf_of_sheet_no_gridlines_header_once.pdf")
    amounts = [row[4] for row in table[1:-1]]
    assert len(amounts) == 70 and all(a.startswith("£") for a in amounts)


def test_a_sheet_too_wide_for_the_page_is_joined_back_into_whole_rows():
    # Calc prints columns A-D on page 1 and E-F on page 2, the rows at the same heights
    table = _table(GOLDEN / "pdf_of_sheet_no_gridlines_narrow.pdf")
    assert table[1] == ["Grace Adeyemi", "06/05/2025", "Workshop 1", "2 hours", "£20.00", "G Adeyemi"]
    assert table[-1] == ["Total", "", "", "", "£70.50", ""]


@pytest.mark.parametrize("name", ["header_repeated", "header_once"])
def test_seventy_lines_over_pages_keep_the_same_columns(name):
    rows = _rows(GOLDEN / f"pdf_of_sheet_no_gridlines_{name}.pdf")
    data = [r for r in rows if r[0] not in ("Name", "Project Name:", "Completed by:", "Total")]
    assert len(data) == 70
    assert all(r[1][:2].isdigit() and r[3] == "2 hours" and r[4].startswith("£") for r in data)
    assert (rows.count(HEADER) > 1) == (name == "header_repeated")


def test_a_sheet_with_gridlines_is_still_read_by_its_lines():
    table = _table(GOLDEN / "pdf_of_excel_sheet.pdf")
    assert table[1][0] == "Grace Adeyemi" and table[1][4] == "£20.00"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice prints the sheet")
def test_a_blank_sheet_has_its_header_row_and_no_data_rows(tmp_path):
    import openpyxl

    from pipeline.templates.excel import write_xlsx
    from pipeline.templates.outline import outlines

    sheet = tmp_path / "blank.xlsx"
    write_xlsx(outlines()["voucher"], sheet)
    workbook = openpyxl.load_workbook(sheet)  # printed as a sheet prints by default: no gridlines
    workbook.active.print_options.gridLines = False
    workbook.save(sheet)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            ["soffice", f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--convert-to", "pdf"]
            + ["--outdir", str(tmp_path), str(sheet)],
            check=True,
            capture_output=True,
            timeout=120,
        )
    template_header = [*HEADER[:3], "Time Spent (e.g. 2 hours)", *HEADER[4:]]  # the template's unit hint
    table = _table(tmp_path / "blank.pdf", template_header)
    assert table == [template_header, ["Total", "", "", "", "£0.00", ""]]


# ---------------------------------------------------------------- the geometry alone


@dataclass
class W:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 10.0


def _line(top: float, *cells: tuple[float, str]) -> list[W]:
    words = []
    for x, text in cells:
        for part in text.split():
            width = 5.5 * len(part)
            words.append(W(part, x, x + width, top, top + 10))
            x += width + 2.8
    return words


def _split(lines):
    def split(columns, top, bottom):
        return [ln for ln in lines if top <= ln[0].top and ln[0].bottom <= bottom]

    return split


def test_words_spread_across_a_line_with_rows_aligned_under_them_are_a_table():
    lines = [
        _line(100, (55, "Name"), (200, "Date"), (300, "Amount")),
        _line(115, (55, "Grace Adeyemi"), (200, "06/05/2025"), (320, "£20.00")),
    ]
    (table,) = pdf_columns.find_tables(lines, _split(lines), 595)
    assert table.header == 0 and len(table.rows) == 2 and len(table.columns) == 3


def test_spaced_out_words_with_nothing_under_them_are_not_a_table():
    lines = [
        _line(100, (55, "Signed"), (200, "Dated"), (300, "Witnessed")),
        _line(115, (55, "Please return this form to the team before the end of the month, thank you.")),
    ]
    assert pdf_columns.find_tables(lines, _split(lines), 595) == []


def test_a_line_of_tick_box_options_is_not_a_header():
    options = _line(100, (55, f"{UNTICKED} Agree"), (200, f"{UNTICKED} Neutral"), (300, f"{UNTICKED} Disagree"))
    lines = [options, _line(115, (55, "Grace"), (200, "Other"), (300, "Words"))]
    assert all(t.header != 0 or t.rows[0][0] > 100 for t in pdf_columns.find_tables(lines, _split(lines), 595))
