"""Reports are never stale: every run rewrites what is out of date (also with an empty inbox), a
report that cannot be written is named with what to do and written again by the next run, and
`coforms check` says when a report does not show the warehouse as it is now."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import query_warehouse
from tests.fixtures.voucher_sheets import voucher_sheet

runner = CliRunner()
LINES = [
    ("Grace Adeyemi", dt.date(2025, 5, 6), "Workshop 1", Decimal("20.00")),
    ("Peter Novak", dt.date(2025, 5, 6), "Workshop 1", Decimal("50.50")),
]


def _coforms(workdir: Path, *args: str, env: dict | None = None):
    return runner.invoke(app, [*args, "--outputs", str(workdir / "outputs")], env=env)


def _run(workdir: Path, env: dict | None = None):
    return _coforms(workdir, "run", "--inbox", str(workdir / "inbox"), env=env)


def _said(result) -> str:
    return " ".join(result.output.split())  # rich wraps long sentences at the terminal's width


def _claimed_total(workbook: Path) -> Decimal:
    """The £ of loaded voucher lines on the reconciliation's first sheet (finance's control total)."""
    sheet = openpyxl.load_workbook(workbook, data_only=True).worksheets[0]
    for label, value, *_ in sheet.iter_rows(values_only=True):
        words = str(label or "").lower()
        about_loaded = "loaded" in words or "claimed" in words
        if words.startswith("£") and about_loaded and "held" not in words and "not" not in words and value is not None:
            return Decimal(str(value)).quantize(Decimal("0.01"))
    raise AssertionError("no '£ loaded' row on the reconciliation's first sheet")


def _send_vouchers(workdir: Path, name: str = "Vouchers May.xlsx") -> None:
    (workdir / "inbox" / name).write_bytes(voucher_sheet(LINES))


def test_a_run_with_an_empty_inbox_rewrites_nothing_when_the_reports_are_current(workdir):
    _send_vouchers(workdir)
    assert _run(workdir).exit_code == 0
    report = workdir / "outputs" / "voucher_reconciliation.xlsx"
    before = report.stat().st_mtime_ns
    result = _run(workdir)
    assert result.exit_code == 0
    assert "already up to date" in _said(result) and "Reports rewritten" not in _said(result)
    assert report.stat().st_mtime_ns == before


def test_a_report_that_could_not_be_written_is_named_and_written_by_the_next_run_even_with_an_empty_inbox(workdir):
    outputs = workdir / "outputs"
    outputs.mkdir()
    blocked = outputs / "voucher_reconciliation.xlsx"
    blocked.mkdir()  # stands for a file held open: renaming the new workbook over it fails
    _send_vouchers(workdir)
    result = _run(workdir)
    assert result.exit_code == 1, result.output
    said = _said(result)
    assert "voucher_reconciliation.xlsx could not be written" in said and "close it" in said
    assert query_warehouse(workdir, "SELECT count(*) FROM submissions WHERE status = 'loaded'") == [(1,)]
    assert (outputs / "exceptions.xlsx").exists()  # the others were written all the same

    check = _coforms(workdir, "check", "--inbox", str(workdir / "inbox"))
    assert check.exit_code == 1 and "voucher_reconciliation.xlsx" in _said(check) and "out of date" in _said(check)

    blocked.rmdir()  # closed in Excel
    again = _run(workdir)  # nothing new in the inbox
    assert again.exit_code == 0, again.output
    assert "voucher_reconciliation.xlsx" in _said(again)
    assert _claimed_total(blocked) == Decimal("70.50")  # what the warehouse holds, not £0
    assert _coforms(workdir, "check", "--inbox", str(workdir / "inbox")).exit_code == 0


def test_a_new_ledger_file_is_reconciled_by_the_next_run_without_a_new_form(workdir):
    _send_vouchers(workdir)
    ledger = workdir / "ledger.csv"
    env = {"COFORMS_LEDGER_PATH": str(ledger)}
    ledger.write_text("Date,Recipient,Amount,Voucher reference\n", encoding="utf-8")
    assert _run(workdir, env).exit_code == 0
    report = workdir / "outputs" / "voucher_reconciliation.xlsx"
    first = report.read_bytes()
    ledger.write_text(
        "Date,Recipient,Amount,Voucher reference\n06/05/2025,Grace Adeyemi,20.00,V001\n", encoding="utf-8"
    )
    result = _run(workdir, env)
    assert result.exit_code == 0 and "Reports rewritten" in _said(result)
    assert report.read_bytes() != first
    sheets = openpyxl.load_workbook(report, data_only=True)
    assert any("V001" in str(cell) for sheet in sheets for row in sheet.iter_rows(values_only=True) for cell in row)


def test_check_says_a_report_replaced_since_it_was_written_is_out_of_date(workdir):
    _send_vouchers(workdir)
    assert _run(workdir).exit_code == 0
    shutil.copy(workdir / "outputs" / "exceptions.xlsx", workdir / "outputs" / "summary.html")
    result = _coforms(workdir, "check", "--inbox", str(workdir / "inbox"))
    assert result.exit_code == 1
    assert "summary.html" in _said(result) and "coforms report" in _said(result)


def test_coforms_report_rewrites_every_report_from_the_warehouse(workdir):
    _send_vouchers(workdir)
    assert _run(workdir).exit_code == 0
    for name in ("exceptions.xlsx", "voucher_reconciliation.xlsx", "summary.html"):
        (workdir / "outputs" / name).unlink()
    result = _coforms(workdir, "report")
    assert result.exit_code == 0, result.output
    assert all((workdir / "outputs" / name).exists() for name in ("exceptions.xlsx", "summary.html"))
    assert _claimed_total(workdir / "outputs" / "voucher_reconciliation.xlsx") == Decimal("70.50")


def test_an_admin_action_whose_report_cannot_be_written_is_done_and_says_so(workdir):
    _send_vouchers(workdir)
    assert _run(workdir).exit_code == 0
    blocked = workdir / "outputs" / "exceptions.xlsx"
    blocked.unlink()
    blocked.mkdir()  # open in Excel, as far as a rename over it is concerned
    result = _coforms(workdir, "reject", "1", "--reason", "sent by mistake")
    assert result.exit_code == 1
    said = _said(result)
    assert "To undo: coforms undo" in said and "exceptions.xlsx could not be written" in said
    assert query_warehouse(workdir, "SELECT status FROM submissions") == [("rejected",)]
    blocked.rmdir()
    assert _run(workdir).exit_code == 0  # an empty inbox: the report is written now
    assert blocked.is_file()


def test_a_ledger_that_cannot_be_used_is_said_on_the_terminal_in_plain_words(workdir):
    _send_vouchers(workdir)
    result = _run(workdir, {"COFORMS_LEDGER_PATH": str(workdir / "vouchers issued.csv")})
    assert result.exit_code == 0
    said = _said(result)
    assert "Finance's ledger could not be used: vouchers issued.csv was not found" in said
    assert "ledger_path" in said and "FileNotFoundError" not in said
