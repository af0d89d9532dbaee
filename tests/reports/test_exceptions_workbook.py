"""exceptions.xlsx as the admin reads and prints it: file and sender first, places in the form's own
words, files that are not forms on a sheet of their own, a page one sheet wide that can be read."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.reports import exceptions as exceptions_module
from pipeline.reports.exceptions import exceptions_report
from tests.conftest import GOLDEN
from tests.fixtures import emails
from tests.fixtures.voucher_sheets import voucher_sheet
from tests.fixtures.wordml import WordDoc

SENDER = "tom.okafor@camden.gov.uk"


def _rows(ws, header_row: int = 3) -> list[dict]:
    header = [c.value for c in ws[header_row]]
    return [dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=header_row + 1, values_only=True)]


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    """One email from Tom with a held evaluation (two boxes ticked) and a letter that is not a form;
    an Excel voucher sheet put in the inbox (a line over the cap: a problem in a cell)."""
    workdir = tmp_path_factory.mktemp("exceptions")
    inbox = workdir / "inbox"
    inbox.mkdir()
    letter = io.BytesIO()
    WordDoc().p("Dear co-production team,").p("Our notes from Tuesday.").save(letter)
    msg = emails.message(sender=f"Tom Okafor <{SENDER}>", subject="Evaluation")
    emails.attach(msg, (GOLDEN / "evaluation" / "bad_two_ticks.docx").read_bytes(), "Evaluation 3.docx")
    emails.attach(msg, letter.getvalue(), "Meeting notes.docx")
    (inbox / "tom.eml").write_bytes(msg.as_bytes())
    over_cap = [("Grace Adeyemi", dt.date(2025, 5, 6), "Workshop 1", Decimal("150.00"))]
    (inbox / "Vouchers.xlsx").write_bytes(voucher_sheet(over_cap))
    result = CliRunner().invoke(app, ["run", "--inbox", str(inbox), "--outputs", str(workdir / "out")])
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(workdir / "out" / "exceptions.xlsx")


def test_file_and_sender_come_first(workbook):
    header = [c.value for c in workbook["Open exceptions"][3]]
    assert header[:2] == ["File", "Sender"]
    assert header[-1] == "Location as read"  # the reader's own place, for the technically minded, last


def test_a_place_is_given_in_the_forms_own_words_with_the_readers_place_kept_last(workbook):
    rows = _rows(workbook["Open exceptions"])
    two_ticks = next(r for r in rows if r["Problem"] == "ambiguous_answer")
    assert two_ticks["Where in the form"] == "question: Inclusivity, statement 2"
    assert two_ticks["Location as read"].startswith("paragraph ")
    over_cap = next(r for r in rows if r["Problem"] == "over_cap")
    # an Excel user can go to the cell, too
    assert over_cap["Where in the form"] == "voucher table, row 1, Voucher Amount Received (sheet Vouchers, cell E6)"
    assert over_cap["Location as read"] == "Vouchers!E6"


def test_a_file_that_is_not_a_form_is_listed_apart_and_not_counted_as_a_form_to_correct(workbook):
    assert "Meeting notes.docx" not in {r["File"] for r in _rows(workbook["Open exceptions"])}
    not_read = _rows(workbook["Files not read"])
    assert [(r["File"], r["Sender"], r["Problem"]) for r in not_read] == [
        ("Meeting notes.docx", SENDER, "unknown_form")
    ]
    senders = {r["Sender"]: r for r in _rows(workbook["Senders to email"])}
    assert senders[SENDER]["Forms to correct"] == 1 and senders[SENDER]["Files not read"] == 1


def test_each_sheet_prints_landscape_one_page_wide_with_its_header_on_every_page(workbook):
    for title in ("Open exceptions", "Files not read", "Senders to email", "Resolved"):
        ws = workbook[title]
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows == "$3:$3" and ws.freeze_panes == "A4"
    ws = workbook["Open exceptions"]
    assert ws.print_area == "'Open exceptions'!$A$1:$I$" + str(ws.max_row)
    assert all(ws.cell(4, c).alignment.wrap_text for c in (1, 6, 7, 9))  # file, what, where, what to ask


def test_the_printed_columns_fit_a_landscape_page_at_a_readable_size(workbook):
    # A4 landscape less 0.3 in margins is ~11.1 in: about 150 characters of Calibri 11 at full size.
    # Printed at 75% or more (9 pt or larger), the printed columns may add up to 200 characters at most
    # (each stored width carries ~0.7 of a character's padding).
    ws = workbook["Open exceptions"]
    last = openpyxl.utils.column_index_from_string(ws.print_area.split("$")[3])
    printed = sum(ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width - 0.7 for c in range(1, last + 1))
    assert printed <= 200
    assert ws.max_column > last  # the columns for looking up are kept, off the page


def test_a_problem_that_names_a_picture_of_the_scan_links_to_it(monkeypatch):
    crop = "ocr-crops/0123456789abcdef/p1-t1-r3-c5.png"
    received = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    row = exceptions_module.ExceptionRow(
        received, 7, "held", "error", "ocr_unconfirmed",
        f"Row 2: Voucher Amount Received: the two readings differ. The picture of it: {crop}.",
        "page 1, table 1, row 3, column 5", "£12.50", SENDER, "Vouchers", "Scan.png", "mail.eml",
        "voucher", "lines.2.amount", "open", None, None,
    )  # fmt: skip
    other = row._replace(message="Row 3: not signed by the recipient.", code="unsigned", field="lines.3.signed")
    monkeypatch.setattr(
        exceptions_module.queries,
        "problems_newest_first",
        lambda warehouse, states: [row, other] if "open" in states else [],
    )
    ws = openpyxl.load_workbook(io.BytesIO(exceptions_report(None).render()))["Open exceptions"]
    header = [c.value for c in ws[3]]
    picture = header.index("Picture") + 1
    # xlsxwriter writes a relative link Windows-style, as Excel wants it
    assert ws.cell(4, picture).hyperlink.target.replace("\\", "/") == crop and ws.cell(4, picture).value == "picture"
    assert ws.cell(5, picture).hyperlink is None and ws.cell(5, picture).value is None
    assert ws.cell(4, header.index("Where in the form") + 1).value == (
        "voucher table, row 2, Voucher Amount Received (page 1)"
    )
