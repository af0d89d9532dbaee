"""The form page: each problem beside its field with its place in words, the values of a scan with
both readings, the slots for the actions; who may open which form."""

from __future__ import annotations

import re
import shutil

import pytest

from pipeline.store.warehouse import Warehouse
from pipeline.web.reads import form_version
from tests.web.browser import chromium, needs_chromium, serious_violations, serving, sign_in
from tests.web.conftest import PASSWORD, signed_in
from tests.web.review_forms import review_app, review_outputs, submission_of


@pytest.fixture(scope="module")
def app():
    return review_app()


@pytest.fixture(scope="module")
def admin(app):
    return signed_in(app, "admin-user")


def _element(html: str, element_id: str) -> str:
    """The text of the element with this id, up to the next row of values (enough to see what is in it)."""
    start = html.index(f'id="{element_id}"')
    end = html.find('<div class="govuk-summary-list__row', start + 1)
    return html[start : end if end > 0 else None]


def test_each_problem_is_beside_its_field_with_its_place_in_words(admin):
    sid = submission_of("Vouchers workshop 3.docx")
    page = admin.get(f"/forms/{sid}")
    assert page.status_code == 200
    # the line's amount was not read: the cell says so, and its problem is in the line's notes below it
    amount = page.text[page.text.index('id="field-lines-1-amount"') :]
    amount = amount[: amount.index("</td>")]
    assert "Nothing read" in amount and "problem 1" in amount
    notes = page.text[page.text.index('id="field-lines-1-amount"') : page.text.index('id="line-2"')]
    assert "Row 1: Voucher Amount Received: &#39;£ten&#39; is not an amount of money in pounds." in notes
    assert "Where: voucher table, row 1, Voucher Amount Received" in notes
    # the numbered list at the top links to the value and to its place on the original
    top = page.text[page.text.index('id="problem-1"') :]
    assert 'href="#field-lines-1-amount"' in top[:2000] and 'href="#place-1"' in top[:2000]


def test_a_header_problem_is_beside_its_value_in_the_summary_list(admin):
    sid = submission_of("Vouchers May.xlsx")
    total = _element(admin.get(f"/forms/{sid}").text, "field-total")
    assert "£35.50" in total
    assert "The sheet&#39;s total is £35.50 but the amounts add up to £70.50." in total
    assert "Where: Total (sheet Vouchers, cell E10)" in total


def test_values_read_from_a_scan_say_so_with_both_readings(admin):
    page = admin.get(f"/forms/{submission_of('Vouchers September (scanned).png')}").text
    project = _element(page, "field-project_name")
    assert "Read from a scan" in project and "rapidocr: " in project


def test_the_page_leaves_the_slots_for_the_actions(admin):
    sid = submission_of("Vouchers printed.pdf")
    page = admin.get(f"/forms/{sid}").text
    assert 'id="decide-heading"' in page  # form_actions.html: accept, reject, supersede (pipeline.web.decide)
    assert f'action="/forms/{sid}/decide"' in page


def test_a_form_that_does_not_exist_is_not_found(admin):
    assert admin.get("/forms/987654").status_code == 404
    assert admin.get("/forms/not-a-number").status_code == 404


def test_finance_reads_a_voucher_sheet_without_its_original(app):
    finance = signed_in(app, "finance-user")
    page = finance.get(f"/forms/{submission_of('Vouchers workshop 3.docx')}")
    assert page.status_code == 200
    assert "What was read" in page.text and "Grace Adeyemi" in page.text
    assert "The original" not in page.text and "/original/" not in page.text
    assert 'id="decide-heading"' not in page.text  # no decisions for finance


def test_finance_may_not_open_a_file_that_is_not_a_voucher_sheet(app):
    finance = signed_in(app, "finance-user")
    assert finance.get(f"/forms/{submission_of('Meeting notes.docx')}").status_code == 403


def test_a_viewer_may_not_open_a_form(app):
    assert signed_in(app, "viewer-user").get(f"/forms/{submission_of('Vouchers May.xlsx')}").status_code == 403


def test_the_form_version_changes_when_the_form_does(tmp_path):
    shutil.copyfile(review_outputs() / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    sid = submission_of("Vouchers May.xlsx")
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        before = form_version(warehouse, sid)
        assert form_version(warehouse, sid) == before  # the same state, the same token
        assert form_version(warehouse, submission_of("Vouchers printed.pdf")) != before
        with warehouse.transaction():
            warehouse.execute("UPDATE store.problems SET state = 'resolved' WHERE submission_id = :sid", sid=sid)
        assert form_version(warehouse, sid) != before


def test_every_value_of_a_voucher_line_is_shown(admin):
    page = admin.get(f"/forms/{submission_of('Vouchers printed.pdf')}").text
    line = page[page.index('id="line-3"') : page.index('id="line-4"')]
    assert re.search(r"Siobhan Kelly.*13 May 2025.*Reading group.*1h30.*£150\.00.*No", line, re.S)


@needs_chromium
def test_the_queue_and_every_kind_of_form_page_have_no_serious_accessibility_problem(app):
    files = ["Vouchers workshop 3.docx", "Vouchers May.xlsx", "Vouchers printed.pdf"]
    files += ["Vouchers September (scanned).png", "Meeting notes.docx"]
    with serving(app) as base_url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        sign_in(page, base_url, "admin-user", PASSWORD)
        for path in ["/queue", *(f"/forms/{submission_of(name)}" for name in files)]:
            page.goto(f"{base_url}{path}")
            assert serious_violations(page) == [], path
            # nothing wider than the window: the sheet, the document and the lines scroll in their own boxes
            assert page.evaluate("document.documentElement.scrollWidth") <= 1400, path


def test_a_problem_that_names_a_picture_of_its_spot_shows_the_picture(tmp_path):
    from PIL import Image

    from pipeline.settings import Settings
    from pipeline.web.app import accounts_for, create_app
    from pipeline.web.roles import Role

    outputs = tmp_path / "outputs"
    shutil.copytree(review_outputs(), outputs, ignore=shutil.ignore_patterns("web-cache", "web"))
    sid = submission_of("Vouchers September (scanned).png")
    with Warehouse(outputs / "warehouse.duckdb") as warehouse:
        (sha256,) = warehouse.one("SELECT sha256 FROM store.submissions WHERE submission_id = :sid", sid=sid)
        with warehouse.transaction():  # as validate/ocr.py words a doubtful reading
            warehouse.execute(
                "UPDATE store.problems SET message = message || :note WHERE submission_id = :sid AND field IS NOT NULL",
                note=f" The picture of it: ocr-crops/{sha256[:16]}/lines-6-signed.png.",
                sid=sid,
            )
    folder = outputs / "ocr-crops" / sha256[:16]
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 20), "white").save(folder / "lines-6-signed.png")
    settings = Settings(outputs=outputs, inbox=tmp_path / "inbox")
    accounts_for(settings).add_user("admin-user", Role.ADMIN, PASSWORD)
    page = signed_in(create_app(settings), "admin-user").get(f"/forms/{sid}")
    assert f'<img class="app-crop" src="/forms/{sid}/crop/lines-6-signed.png"' in page.text
    assert "ocr-crops/" not in page.text  # the path is not shown: the picture is
