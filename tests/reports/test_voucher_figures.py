"""The reconciliation's figures are made in one pass over one read of the voucher lines
(pipeline.reports.vouchers._figures): each must equal what the query per sheet it replaced gives,
to the penny and the type (a Decimal is shown as money, an int as a count), on lines with every
value missing in turn, held and superseded forms, unknown signatures and double claims."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pipeline.reports import queries
from pipeline.reports.reconcile import Claim
from pipeline.reports.vouchers import _double_claims, _group, voucher_reports
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse
from pipeline.validate.names import claim_key, person_key

D, P = dt.date, Decimal
FORMS = [(1, "loaded"), (2, "loaded"), (3, "held"), (4, "superseded"), (5, "loaded"), (6, "held"), (7, "loaded")]
# submission, line, name, date, activity, minutes, amount, signed
LINES = [
    (1, 1, "Grace Adeyemi", D(2025, 5, 6), "Workshop 1", 90, P("20.00"), True),
    (1, 2, "Peter Novak", D(2025, 5, 6), "Workshop 1", None, P("15.50"), False),
    (1, 3, None, D(2025, 5, 9), "Workshop 2", 60, P("10.00"), None),
    (1, 4, "Mei Chen", None, "Workshop 2", 30, P("12.25"), True),
    (1, 5, "Lucia Rossi", D(2025, 6, 1), None, 45, None, False),
    (1, 6, "Ahmed Rahman", D(2025, 6, 2), "", None, None, True),
    # a later form, but dated earlier: the recipient is still shown as form 1 wrote her name
    (2, 1, "GRACE  ADEYEMI", D(2025, 4, 1), "Workshop 1", 90, P("20.00"), True),
    (2, 2, "Peter Novak", D(2025, 5, 6), "Workshop 1", 120, P("15.50"), None),
    (2, 3, "Siobhan Kelly", D(2024, 12, 31), "Reading group", 30, P("7.10"), False),
    (3, 1, "Grace Adeyemi", D(2025, 5, 6), "Workshop 1", 90, P("20.00"), True),
    (3, 2, "Tomasz Wojcik", None, None, None, None, None),
    (4, 1, "Peter Novak", D(2025, 5, 6), "Workshop 1", 60, P("15.50"), True),
    (5, 1, "peter novak", D(2025, 5, 6), "workshop 1", 60, P("15.50"), True),
    (5, 2, "Mei Chen", D(2025, 7, 3), "Workshop 3", None, P("0.01"), True),
    (6, 1, "Lucia Rossi", D(2025, 7, 3), "Workshop 3", 30, P("30.00"), False),
    (7, 1, None, None, None, None, None, None),
]


@pytest.fixture
def warehouse(warehouse_target):
    """On each backend: the one pass in Python must agree with DuckDB's and PostgreSQL's own sums."""
    with Warehouse(warehouse_target) as warehouse:
        with warehouse.transaction():
            for sid, status in [*FORMS, (8, "loaded")]:  # 8: a voucher form without a line
                warehouse.execute(
                    "INSERT INTO store.submissions (submission_id, form_type, source_file, sha256, status, loaded_at) "
                    "VALUES (:sid, 'voucher', :file, :sha, :status, '2025-07-01 10:00')",
                    sid=sid,
                    file=f"{sid}.xlsx",
                    sha=f"{sid:064x}",
                    status=status,
                )
            for sid, line_no, name, day, activity, minutes, amount, signed in LINES:
                warehouse.execute(
                    "INSERT INTO store.voucher_lines (submission_id, line_no, name, date, activity, "
                    "time_spent_minutes, amount, signed, location, claim_key) "
                    "VALUES (:sid, :n, :name, :day, :activity, :minutes, :amount, :signed, :location, :key)",
                    sid=sid,
                    n=line_no,
                    name=name,
                    day=day,
                    activity=activity,
                    minutes=minutes,
                    amount=amount,
                    signed=signed,
                    location=f"Vouchers!A{5 + line_no}",
                    key=claim_key(name, day, activity),
                )
        yield warehouse


@pytest.fixture
def sheets(warehouse, tmp_path):
    outputs = tmp_path / "outputs"
    report = voucher_reports(warehouse, outputs, Settings(outputs=outputs), D(2025, 8, 1)).reconciliation
    return {sheet.title: sheet.rows for sheet in report.sheets}


def _typed(values) -> list:
    return [(type(v).__name__, v) for v in values]


def test_the_control_totals_are_the_warehouses_own_sums_and_counts(warehouse, sheets):
    totals = queries.voucher_control_totals(warehouse)
    in_sheet_order = [totals[i] for i in (0, 2, 3, 1, 4, 5, 6, 7)]  # forms, lines and pounds loaded, then held
    assert _typed(value for _, value in sheets["Control totals"]) == _typed(in_sheet_order)


def test_the_months_and_activities_are_the_warehouses_own_groups(warehouse, sheets):
    by_month = _group(queries.loaded_lines_by_month(warehouse), lambda month: month.strftime("%Y-%m"))
    assert [_typed(row) for row in sheets["By month"]] == [_typed(row) for row in by_month]
    by_activity = _group(queries.loaded_lines_by_activity(warehouse))
    assert [_typed(row) for row in sheets["By activity"]] == [_typed(row) for row in by_activity]


def test_each_recipient_is_one_row_under_the_name_first_written_by_form_and_line(warehouse, sheets):
    per_person: dict = {}
    for name, sid, amount, minutes in queries.loaded_lines_in_form_order(warehouse):
        row = per_person.setdefault(None if name is None else person_key(name), [name, 0, set(), None, None])
        row[1] += 1
        row[2].add(sid)
        if amount is not None:
            row[3] = amount if row[3] is None else row[3] + amount
        if minutes is not None:
            row[4] = minutes if row[4] is None else row[4] + minutes
    expected = sorted(
        (
            [n, lines, len(forms), pounds, None if m is None else m / 60]
            for n, lines, forms, pounds, m in per_person.values()
        ),
        key=lambda r: (r[0] is None, r[0] or ""),
    )
    assert [_typed(row) for row in sheets["By recipient"]] == [_typed(row) for row in expected]
    assert [row[0] for row in sheets["By recipient"]][:2] == ["Ahmed Rahman", "Grace Adeyemi"]


def test_the_double_claims_are_the_warehouses_own(warehouse, sheets):
    expected = _double_claims(queries.double_claim_lines(warehouse))
    assert expected  # Peter Novak's Workshop 1 on 6 May, on forms 1, 2 and 5
    assert sheets["Possible double claims"] == expected


def test_the_claims_matched_and_summed_are_every_loaded_line_with_a_name_date_and_amount(warehouse, tmp_path):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("Date,Recipient,Amount\n06/05/2025,Grace Adeyemi,20.00\n")
    settings = Settings(outputs=tmp_path, ledger_path=ledger)
    report = voucher_reports(warehouse, tmp_path, settings, D(2025, 8, 1)).reconciliation
    sheets = {sheet.title: sheet.rows for sheet in report.sheets}
    claims = [Claim(*row) for row in queries.claimed_lines(warehouse)]
    unmatched = [c for c in claims if (c.submission_id, c.line_no) != (1, 1)]
    assert [row[4:6] for row in sheets["Claims not in ledger"]] == [[c.submission_id, c.line_no] for c in unmatched]
    assert [row[4:6] for row in sheets["Matched"]] == [[1, 1]]
