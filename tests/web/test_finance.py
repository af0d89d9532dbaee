"""Finance's page: the figures of voucher_reconciliation.xlsx (with a ledger: what matched and what
did not), its long sheets page by page, and the workbooks to download, by name only."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from pipeline.runtime.run import run_pipeline
from pipeline.settings import Settings
from pipeline.web import finance
from pipeline.web.app import accounts_for, create_app
from pipeline.web.roles import Role
from tests.conftest import GOLDEN
from tests.web.conftest import PASSWORD, signed_in

LEDGER = "Date,Recipient,Amount,Reference\n06/05/2025,Grace Adeyemi,20.00,V-001\n01/05/2025,Ann Other,30.00,V-002\n"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """Two voucher sheets (one held, one loaded: £70.50 on four lines of May 2025), finance's ledger
    (one entry matches a line, one was claimed on no form), and one account per role."""
    root = tmp_path_factory.mktemp("finance")
    (root / "inbox").mkdir()
    for name in ("bad_amount_cap_unsigned_unit.docx", "table_total_row.docx"):
        shutil.copy(GOLDEN / "voucher" / name, root / "inbox" / name)
    (root / "ledger.csv").write_text(LEDGER)
    settings = Settings(
        inbox=root / "inbox", outputs=root / "outputs", settle_seconds=0, ledger_path=root / "ledger.csv"
    )
    run_pipeline(settings)
    accounts = accounts_for(settings)
    for role in Role:
        accounts.add_user(f"{role.value}-user", role, PASSWORD)
    return settings


@pytest.fixture(scope="module")
def app(settings):
    return create_app(settings)


def test_the_page_shows_every_sheet_and_control_total_of_the_workbook(settings, app):
    page = signed_in(app, "finance-user").get("/finance")
    assert page.status_code == 200
    book = openpyxl.load_workbook(settings.outputs / "voucher_reconciliation.xlsx")
    for title in book.sheetnames:
        assert f">{title}</h2>" in page.text, title
    totals = {row[0]: row[1] for row in book["Control totals"].iter_rows(min_row=4, values_only=True)}
    assert totals["£ loaded (signed and unsigned)"] == 70.5
    for measure, value in totals.items():
        shown = f"£{Decimal(str(value)):,.2f}" if measure.startswith("£") else str(value)
        assert f"{measure}</td>" in page.text.replace("&amp;", "&") and f">{shown}</td>" in page.text, measure


def test_the_ledger_matches_and_differences_are_on_the_page(app):
    page = signed_in(app, "finance-user").get("/finance").text
    matched = page.split('id="sheet-matched"')[1]
    assert "Grace Adeyemi" in matched and "V-001" in matched
    not_claimed = page.split('id="sheet-issued-not-claimed"')[1].split("</table>")[0]
    assert "Ann Other" in not_claimed and "£30.00" in not_claimed
    assert "Possible double claims" in page and "Lines by year" in page


def test_the_page_is_read_only_and_for_finance_and_admins(app):
    page = signed_in(app, "finance-user").get("/finance").text
    assert 'method="post" action="/logout"' in page
    assert page.count('method="post"') == 1  # signing out is the only form: finance takes no action
    assert signed_in(app, "admin-user").get("/finance").status_code == 200
    assert signed_in(app, "viewer-user").get("/finance").status_code == 403
    assert signed_in(app, "viewer-user").get("/finance/download/voucher_reconciliation.xlsx").status_code == 403


def test_a_long_sheet_shows_its_first_rows_and_pages_through_the_rest(app, monkeypatch):
    monkeypatch.setattr(finance, "FIRST_ROWS", 1)
    monkeypatch.setattr(finance, "SHEET_PAGE_ROWS", 2)
    client = signed_in(app, "finance-user")
    page = client.get("/finance").text
    assert 'href="/finance/sheets/lines-by-year"' not in page  # one row: all shown
    assert "See all 4 rows of Lines" in page  # the held sheet's four lines
    first = client.get("/finance/sheets/lines")
    assert first.status_code == 200 and "page 1 of 2" in first.text and 'rel="next"' in first.text
    second = client.get("/finance/sheets/lines?page=2")
    assert "page 2 of 2" in second.text and 'rel="prev"' in second.text
    assert client.get("/finance/sheets/lines?page=nonsense").status_code == 200  # the first page
    assert client.get("/finance/sheets/no-such-sheet").status_code == 404


def test_downloads_are_the_named_workbooks_only(settings, app):
    finance_user, admin = signed_in(app, "finance-user"), signed_in(app, "admin-user")
    page = finance_user.get("/finance").text
    assert 'href="/finance/download/voucher_reconciliation.xlsx"' in page
    assert 'href="/finance/download/voucher_lines_2025-26.xlsx"' in page  # an earlier year's lines
    assert "/finance/download/exceptions.xlsx" not in page  # every form's problems: for admins
    got = finance_user.get("/finance/download/voucher_reconciliation.xlsx")
    assert got.status_code == 200 and got.content == (settings.outputs / "voucher_reconciliation.xlsx").read_bytes()
    assert "attachment" in got.headers["content-disposition"]
    assert finance_user.get("/finance/download/voucher_lines_2025-26.xlsx").status_code == 200
    assert finance_user.get("/finance/download/exceptions.xlsx").status_code == 404
    assert admin.get("/finance/download/exceptions.xlsx").status_code == 200
    assert 'href="/finance/download/exceptions.xlsx"' in admin.get("/finance").text
    for name in ("warehouse.duckdb", "..%2Fwarehouse.duckdb", "%2E%2E", "summary.html", ".fingerprints.json"):
        assert admin.get(f"/finance/download/{name}").status_code == 404, name


def test_cells_read_as_the_workbook_shows_them():
    from pipeline.reports.workbook import DATE, POUNDS

    assert finance.cell_text(Decimal("1234.5"), POUNDS) == "£1,234.50"
    assert finance.cell_text(Decimal("-5"), POUNDS) == "-£5.00"
    assert finance.cell_text(dt.date(2026, 3, 31), DATE) == "31/03/2026"
    assert finance.cell_text(2.5, "0.0") == "2.5"
    assert finance.cell_text(None, POUNDS) == ""


def test_no_warehouse_yet_is_said_plainly(tmp_path: Path):
    settings = Settings(outputs=tmp_path / "outputs", inbox=tmp_path / "inbox")
    accounts_for(settings).add_user("finance-user", Role.FINANCE, PASSWORD)
    page = signed_in(create_app(settings), "finance-user").get("/finance")
    assert page.status_code == 404 and "No forms have been loaded yet" in page.text
