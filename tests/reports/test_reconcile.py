"""Matching claimed voucher lines to finance's ledger, and the rolling 12-month check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl

from pipeline.reports.ledger import LedgerEntry, read_ledger
from pipeline.reports.reconcile import Claim, by_month, match, over_threshold

D = dt.date


def claim(n: int, name: str, date: dt.date, amount: str, sid: int = 1) -> Claim:
    return Claim(sid, n, name, date, Decimal(amount), "Workshop", "f.docx")


def entry(row: int, name: str, date: dt.date, amount: str) -> LedgerEntry:
    return LedgerEntry(row, date, name, Decimal(amount), f"V{row:03}")


def test_the_same_person_twice_in_a_day_pairs_with_two_ledger_entries_one_each():
    claims = [claim(1, "Grace Adeyemi", D(2025, 5, 6), "20.00"), claim(2, "Grace Adeyemi", D(2025, 5, 6), "20.00")]
    entries = [entry(2, "GRACE  ADEYEMI", D(2025, 5, 6), "20"), entry(3, "grace adeyemi", D(2025, 5, 7), "20.00")]
    result = match(claims, entries, window_days=7)
    assert len(result.pairs) == 2 and not result.unmatched_claims and not result.unmatched_entries
    assert {e.row for _, e in result.pairs} == {2, 3}


def test_a_penny_apart_is_not_a_match():
    result = match(
        [claim(1, "Ahmed Rahman", D(2025, 5, 29), "12.25")],
        [entry(2, "Ahmed Rahman", D(2025, 5, 29), "12.24")],
        window_days=7,
    )
    assert not result.pairs and len(result.unmatched_claims) == len(result.unmatched_entries) == 1


def test_dates_match_only_within_the_window_inclusive():
    claims = [claim(1, "Mei Chen", D(2025, 6, 3), "30.00")]
    assert match(claims, [entry(2, "Mei Chen", D(2025, 6, 10), "30.00")], window_days=7).pairs
    assert not match(claims, [entry(2, "Mei Chen", D(2025, 6, 11), "30.00")], window_days=7).pairs


def test_the_closest_date_is_paired_first():
    claims = [claim(1, "Lucia Rossi", D(2025, 6, 1), "10.00"), claim(2, "Lucia Rossi", D(2025, 6, 8), "10.00")]
    entries = [entry(2, "Lucia Rossi", D(2025, 6, 7), "10.00"), entry(3, "Lucia Rossi", D(2025, 6, 2), "10.00")]
    pairs = {c.line_no: e.row for c, e in match(claims, entries, window_days=7).pairs}
    assert pairs == {1: 3, 2: 2}


def test_unmatched_on_both_sides_are_listed():
    result = match(
        [claim(1, "Peter Novak", D(2025, 5, 6), "20.00")],
        [entry(2, "Tomasz Wojcik", D(2025, 5, 6), "20.00")],
        window_days=7,
    )
    assert [c.name for c in result.unmatched_claims] == ["Peter Novak"]
    assert [e.recipient for e in result.unmatched_entries] == ["Tomasz Wojcik"]


def test_by_month_gives_claimed_issued_and_the_difference_to_the_penny():
    rows = by_month(
        [claim(1, "A", D(2025, 5, 6), "20.05"), claim(2, "B", D(2025, 6, 1), "0.01")],
        [entry(2, "A", D(2025, 5, 30), "20.00"), entry(3, "C", D(2025, 7, 1), "5.00")],
    )
    assert rows == [
        ("2025-05", Decimal("20.05"), Decimal("20.00"), Decimal("0.05")),
        ("2025-06", Decimal("0.01"), Decimal("0"), Decimal("0.01")),
        ("2025-07", Decimal("0"), Decimal("5.00"), Decimal("-5.00")),
    ]


def test_twelve_months_means_a_date_and_the_364_days_before_it():
    inside = [claim(1, "Grace Adeyemi", D(2025, 1, 2), "300.00"), claim(2, "grace adeyemi", D(2026, 1, 1), "300.00")]
    outside = [claim(1, "Peter Novak", D(2025, 1, 1), "300.00"), claim(2, "Peter Novak", D(2026, 1, 1), "300.00")]
    found = over_threshold(inside + outside, Decimal("500.00"))
    assert [(o.name, o.total, o.window_start, o.window_end, o.lines) for o in found] == [
        ("Grace Adeyemi", Decimal("600.00"), D(2025, 1, 2), D(2026, 1, 1), 2)
    ]


def test_exactly_the_threshold_is_not_over_it():
    assert (
        over_threshold(
            [claim(1, "A", D(2025, 1, 1), "250.00"), claim(2, "A", D(2025, 2, 1), "250.00")], Decimal("500.00")
        )
        == []
    )


def test_one_voucher_over_the_threshold_is_a_window_of_its_own_and_one_at_it_is_not():
    found = over_threshold(
        [claim(1, "Mei Chen", D(2025, 3, 4), "500.01"), claim(2, "Peter Novak", D(2025, 3, 4), "500.00")],
        Decimal("500.00"),
    )
    assert [(o.name, o.total, o.window_start, o.window_end, o.lines) for o in found] == [
        ("Mei Chen", Decimal("500.01"), D(2025, 3, 4), D(2025, 3, 4), 1)
    ]


def test_ledger_csv_columns_found_by_heading_with_bad_rows_named(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text(
        "Vouchers issued 2025\n\nVoucher ref,Issued to,Date issued,Value\n"
        "V001,Grace Adeyemi,06/05/2025,£20.00\nV002,Peter Novak,7 May 2025,20\n"
        "V003,Someone,not a date,5\n,,,\nTotal,,,45.00\n",
        encoding="utf-8",
    )
    ledger = read_ledger(path)
    assert ledger.error is None
    assert [(e.row, e.date, e.recipient, e.amount, e.reference) for e in ledger.entries] == [
        (4, D(2025, 5, 6), "Grace Adeyemi", Decimal("20.00"), "V001"),
        (5, D(2025, 5, 7), "Peter Novak", Decimal("20"), "V002"),
    ]
    assert [row for row, _ in ledger.unreadable_rows] == [6]


def test_ledger_xlsx_with_real_dates_and_numbers(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["Date", "Recipient", "Amount", "Reference"])
    book.active.append([dt.datetime(2025, 5, 6), "Grace Adeyemi", 15.5, "V1"])
    book.save(tmp_path / "ledger.xlsx")
    [only] = read_ledger(tmp_path / "ledger.xlsx").entries
    assert (only.date, only.amount) == (D(2025, 5, 6), Decimal("15.5"))


def test_a_ledger_without_the_headings_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "l.csv").write_text("a,b,c\n1,2,3\n")
    assert "no heading row" in read_ledger(tmp_path / "l.csv").error
    (tmp_path / "l.xlsx").write_bytes(b"not a workbook")
    assert "could not be opened" in read_ledger(tmp_path / "l.xlsx").error


def test_look_alike_spellings_of_one_name_are_one_person_over_the_threshold():
    from tests.validate.test_names import GRACE

    claims = [claim(1, name, D(2025, 5, 6), "80.00", sid=i) for i, name in enumerate(GRACE, start=1)]
    found = over_threshold(claims, Decimal("500.00"))
    assert [(o.name, o.total, o.lines) for o in found] == [(GRACE[0], Decimal("560.00"), 7)]


def test_look_alike_spellings_match_the_ledger():
    from tests.validate.test_names import GRACE

    result = match(
        [claim(1, GRACE[2], D(2025, 5, 6), "20.00")], [entry(2, GRACE[5], D(2025, 5, 6), "20.00")], window_days=7
    )
    assert len(result.pairs) == 1
