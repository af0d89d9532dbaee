"""The reconciliation lists this financial year's lines; each earlier year has a workbook of its
own, rewritten only when one of its lines changes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from pipeline.reports.year_lines import financial_year
from pipeline.runtime.run import run_pipeline
from pipeline.settings import Settings
from tests.fixtures.voucher_sheets import voucher_sheet

D, P = dt.date, Decimal
TODAY = D(2026, 6, 1)  # financial year 2026-27
LAST_YEAR = [
    ("Grace Adeyemi", D(2025, 5, 6), "Workshop 1", P("20.00")),
    ("Peter Novak", D(2026, 3, 31), "Workshop 2", P("15.50")),
]  # the last day of 2025-26
THIS_YEAR = [
    ("Mei Chen", D(2026, 4, 1), "Workshop 3", P("30.00")),  # the first day of 2026-27
    ("Lucia Rossi", D(2026, 5, 12), "Workshop 4", P("10.25")),
]


@pytest.mark.parametrize(
    ("day", "year"),
    [(D(2025, 3, 31), "2024-25"), (D(2025, 4, 1), "2025-26"), (D(2025, 12, 31), "2025-26"), (D(2099, 4, 1), "2099-00")],
)
def test_the_financial_year_runs_from_april_to_march(day, year):
    assert financial_year(day) == year


def _send(workdir: Path, name: str, lines) -> None:
    (workdir / "inbox" / name).write_bytes(voucher_sheet(lines))


def _run(workdir: Path, workers: int = 2) -> None:
    run_pipeline(Settings(inbox=workdir / "inbox", outputs=workdir / "outputs", workers=workers), today=TODAY)


def _rows(path: Path, sheet: str, first: int) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    return [row for row in book[sheet].iter_rows(min_row=first, values_only=True) if any(v is not None for v in row)]


def _names(path: Path) -> set[str]:
    return {row[3] for row in _rows(path, "Lines", 4)}


YEAR_FILE = Path("outputs/voucher_lines/voucher_lines_2025-26.xlsx")
RECONCILIATION = Path("outputs/voucher_reconciliation.xlsx")


@pytest.mark.parametrize("workers", [1, 2])
def test_this_years_lines_are_in_the_reconciliation_and_last_years_in_a_workbook_of_its_own(workdir, workers):
    _send(workdir, "last year.xlsx", LAST_YEAR)
    _send(workdir, "this year.xlsx", THIS_YEAR)
    _run(workdir, workers)
    assert _names(workdir / RECONCILIATION) == {"Mei Chen", "Lucia Rossi"}
    assert _names(workdir / YEAR_FILE) == {"Grace Adeyemi", "Peter Novak"}
    by_year = {row[0]: row[1:] for row in _rows(workdir / RECONCILIATION, "Lines by year", 4)}
    assert by_year["2025-26"][:2] == (2, 35.5) and by_year["2025-26"][4] == "voucher_lines/voucher_lines_2025-26.xlsx"
    assert by_year["2026-27"][:2] == (2, 40.25) and by_year["2026-27"][4] == "Lines, in this workbook"
    totals = dict(_rows(workdir / RECONCILIATION, "Control totals", 4))  # the years add up to the whole
    assert sum(row[0] for row in by_year.values()) == totals["Voucher lines loaded"] == 4
    assert sum(Decimal(str(row[1])) for row in by_year.values()) == Decimal(
        str(totals["£ loaded (signed and unsigned)"])
    )


def test_a_years_workbook_is_rewritten_only_when_one_of_its_lines_changes(workdir):
    _send(workdir, "last year.xlsx", LAST_YEAR)
    _run(workdir)
    written = (workdir / YEAR_FILE).stat().st_mtime_ns

    _send(workdir, "this year.xlsx", THIS_YEAR)  # nothing for 2025-26
    _run(workdir)
    assert (workdir / YEAR_FILE).stat().st_mtime_ns == written
    assert _names(workdir / RECONCILIATION) == {"Mei Chen", "Lucia Rossi"}

    _send(workdir, "late.xlsx", [("Ahmed Rahman", D(2025, 9, 2), "Workshop 5", P("12.00"))])  # a late form
    _run(workdir)
    assert _names(workdir / YEAR_FILE) == {"Grace Adeyemi", "Peter Novak", "Ahmed Rahman"}


def test_a_missing_years_workbook_is_written_again(workdir):
    _send(workdir, "last year.xlsx", LAST_YEAR)
    _run(workdir)
    (workdir / YEAR_FILE).unlink()
    _send(workdir, "this year.xlsx", THIS_YEAR)
    _run(workdir)
    assert _names(workdir / YEAR_FILE) == {"Grace Adeyemi", "Peter Novak"}


def test_a_year_left_without_loaded_lines_loses_its_workbook(workdir):
    _send(workdir, "vouchers.xlsx", LAST_YEAR)
    _run(workdir)
    assert (workdir / YEAR_FILE).exists()
    _send(workdir, "vouchers (corrected).xlsx", THIS_YEAR)  # the same sheet, its dates corrected into this year
    _run(workdir)
    assert not (workdir / YEAR_FILE).exists()
    assert _names(workdir / RECONCILIATION) == {"Mei Chen", "Lucia Rossi"}
