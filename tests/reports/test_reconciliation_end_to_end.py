"""Finance's reconciliation through `coforms run`, against figures computed by hand.

Claimed (two loaded sheets):            Ledger (ledger.csv):
 A1 Grace   06/05 £20.00                 r5  06/05 Grace   £20.00  -> A1 or A2
 A2 Grace   06/05 £20.00 (evening)       r6  07/05 Grace   £20.00  -> the other Grace
 A3 Peter   06/05 £20.00                 r7  06/05 Peter   £20.00  -> A3 (first form first)
 A4 Siobhan 13/05 £15.50                 r8  13/05 Siobhan £15.50  -> A4
 A5 Ahmed   29/05 £12.25                 r9  29/05 Ahmed   £12.20  (a penny-level difference: no match)
 B1 Mei     03/06 £30.00                 r10 20/06 Mei     £30.00  (17 days: outside the 7-day window)
 B2 Peter   06/05 £20.00 (claimed again) r11 12/06 Lucia   £10.00  -> B3 (2 days)
 B3 Lucia   10/06 £10.00                 r12 15/06 Tomasz  £25.00  (never claimed)
                                         r13 "not a date"          (listed as unreadable)
Claimed 147.75 (May 107.75, June 40.00); issued 152.70 (May 87.70, June 65.00).
Matched 5 lines, £85.50; claims not in ledger 3, £62.25; issued not claimed 3, £67.20.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.fixtures import emails
from tests.fixtures.voucher_sheets import voucher_sheet

D, P = dt.date, Decimal
FORM_A = [
    ("Grace Adeyemi", D(2025, 5, 6), "Workshop 1", P("20.00")),
    ("Grace Adeyemi", D(2025, 5, 6), "Evening session", P("20.00")),
    ("Peter Novak", D(2025, 5, 6), "Workshop 1", P("20.00")),
    ("Siobhan Kelly", D(2025, 5, 13), "Reading group", P("15.50")),
    ("Ahmed Rahman", D(2025, 5, 29), "Workshop 2", P("12.25")),
]
FORM_B = [
    ("Mei Chen", D(2025, 6, 3), "Workshop 3", P("30.00")),
    ("Peter Novak", D(2025, 5, 6), "Workshop 1", P("20.00")),
    ("Lucia Rossi", D(2025, 6, 10), "Workshop 3", P("10.00")),
]
LEDGER = """Camden ASC co-production: vouchers issued
Exported 01/07/2025

Date,Recipient,Amount,Voucher reference
06/05/2025,GRACE ADEYEMI,20.00,V001
07/05/2025,Grace Adeyemi,£20.00,V002
06/05/2025,Peter Novak,20.00,V003
13/05/2025,Siobhan Kelly,15.50,V004
29/05/2025,Ahmed Rahman,12.20,V005
20/06/2025,Mei Chen,30.00,V006
12/06/2025,Lucia Rossi,10.00,V007
15/06/2025,Tomasz Wojcik,25.00,V008
not a date,Someone,5.00,V009
"""


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("recon")
    (workdir / "inbox").mkdir()
    for name, lines, sender in (
        ("a.eml", FORM_A, "tom.okafor@camden.gov.uk"),
        ("b.eml", FORM_B, "amira.hassan@camden.gov.uk"),
    ):
        msg = emails.attach(
            emails.message(sender=sender),
            voucher_sheet(lines),
            f"Vouchers {name}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        (workdir / "inbox" / name).write_bytes(msg.as_bytes())
    (workdir / "ledger.csv").write_text(LEDGER, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["run", "--inbox", str(workdir / "inbox"), "--outputs", str(workdir / "out")],
        env={"COFORMS_LEDGER_PATH": str(workdir / "ledger.csv"), "COFORMS_DECLARE_THRESHOLD": "35.00"},
    )
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(workdir / "out" / "voucher_reconciliation.xlsx")


def _rows(ws, first: int = 4) -> list[tuple]:
    return [row for row in ws.iter_rows(min_row=first, values_only=True) if any(v is not None for v in row)]


def _pennies(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_control_totals_tie_out_to_the_penny(workbook):
    totals = {k: v for k, v in _rows(workbook["Control totals"])}
    assert _pennies(totals["£ loaded (signed and unsigned)"]) == P("147.75")
    assert _pennies(totals["£ issued (finance ledger)"]) == P("152.70")
    assert (totals["Lines matched to the ledger"], _pennies(totals["£ matched"])) == (5, P("85.50"))
    assert (totals["Claimed lines not in the ledger"], _pennies(totals["£ claimed, not in the ledger"])) == (
        3,
        P("62.25"),
    )
    assert (totals["Ledger entries not claimed on any form"], _pennies(totals["£ issued, not claimed"])) == (
        3,
        P("67.20"),
    )
    assert totals["Ledger rows that could not be read"] == 1


def test_claimed_and_issued_by_month(workbook):
    rows = [(m, *map(_pennies, rest)) for m, *rest in _rows(workbook["Claimed vs issued"])]
    assert rows == [("2025-05", P("107.75"), P("87.70"), P("20.05")), ("2025-06", P("40.00"), P("65.00"), P("-25.00"))]


def test_unmatched_both_sides_and_the_unreadable_ledger_row(workbook):
    claims = {(r[0], _pennies(r[2])) for r in _rows(workbook["Claims not in ledger"])}
    assert claims == {("Ahmed Rahman", P("12.25")), ("Mei Chen", P("30.00")), ("Peter Novak", P("20.00"))}
    issued = {(r[0], r[2]) for r in _rows(workbook["Issued not claimed"])}
    assert issued == {(9, "Ahmed Rahman"), (10, "Mei Chen"), (12, "Tomasz Wojcik")}
    assert [r[0] for r in _rows(workbook["Ledger rows not read"])] == [13]


def test_double_claims_across_forms_and_the_twelve_month_limit(workbook):
    doubles = _rows(workbook["Possible double claims"])
    assert [(r[0], r[1].date()) for r in doubles] == [("Peter Novak", D(2025, 5, 6))] * 2
    over = {r[0]: _pennies(r[1]) for r in _rows(workbook["Over 12-month limit"])}
    assert over == {"Grace Adeyemi": P("40.00"), "Peter Novak": P("40.00")}
