"""The admin's day in the review desk, end to end in Chromium, as the issue tells it: sign in, open a
held voucher sheet from the queue, see the original with the problem marked, correct an amount,
accept, find the new total in finance's view and in voucher_reconciliation.xlsx, undo it; a finance
user cannot act, a viewer cannot open an original. Every page on the way passes axe-core.

With REVIEW_DESK_SCREENSHOTS set to a folder, the pages are also saved there (the README's pictures:
`REVIEW_DESK_SCREENSHOTS=docs/images python -m pytest tests/web/test_admins_day.py`)."""

from __future__ import annotations

import os
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from pipeline.runtime.run import run_pipeline
from pipeline.settings import Settings
from pipeline.web.app import accounts_for, create_app
from pipeline.web.roles import Role
from tests.web.browser import chromium, needs_chromium, serious_violations, serving, sign_in
from tests.web.conftest import PASSWORD

pytestmark = needs_chromium
HELD_SHEET = Path(__file__).parents[1] / "golden" / "voucher" / "bad_amount_cap_unsigned_unit.docx"  # '£ten'


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    root = tmp_path_factory.mktemp("desk")
    (root / "inbox").mkdir()
    shutil.copyfile(HELD_SHEET, root / "inbox" / "Vouchers workshop 3.docx")
    settings = Settings(inbox=root / "inbox", outputs=root / "outputs", settle_seconds=0)
    run_pipeline(settings)
    accounts = accounts_for(settings)
    for role in Role:
        accounts.add_user(f"{role.value}-user", role, PASSWORD)
    with serving(create_app(settings)) as base_url, chromium() as browser:
        yield base_url, browser, settings


def _look(page, name: str, tmp_path: Path) -> None:
    """Every page on the way: no serious accessibility problem; and a picture of it."""
    assert serious_violations(page) == [], page.url
    shots = os.environ.get("REVIEW_DESK_SCREENSHOTS")
    for folder in [tmp_path] + ([Path(shots)] if shots else []):
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"review-desk-{name}.png"))


def _pounds_loaded(settings: Settings) -> Decimal:
    sheet = openpyxl.load_workbook(settings.outputs / "voucher_reconciliation.xlsx", data_only=True)["Control totals"]
    totals = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=4)}
    return Decimal(str(totals["£ loaded (signed and unsigned)"])).quantize(Decimal("0.01"))


def test_the_admins_day(desk, tmp_path):
    base_url, browser, settings = desk
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, base_url, "admin-user", PASSWORD)
    assert page.url.endswith("/queue")
    _look(page, "queue", tmp_path)

    page.get_by_role("link", name="Vouchers workshop 3.docx").first.click()
    main = page.locator("main")
    assert "£ten" in main.inner_text()  # what the sender wrote, beside its problem
    original = page.locator(".app-original, [class*=original]").first
    assert "Problem" in original.inner_text()  # the problem's place marked on the original
    _look(page, "form", tmp_path)
    page.get_by_role("link", name="See it on the original").first.click()  # to problem 1's place
    assert page.url.split("#")[1] and page.locator(f"#{page.url.split('#')[1]}").first.is_visible()
    _look(page, "original", tmp_path)

    # correct the amount the sender wrote in words
    page.locator("summary", has_text="row 1, amount").first.click()
    page.get_by_label("New value for row 1, amount").fill("10.00")
    correction = page.locator("form[action$='/correct']", has=page.get_by_label("New value for row 1, amount"))
    correction.get_by_label("Why (kept with the correction)").fill("the sender wrote ten pounds")
    correction.get_by_role("button").click()
    assert "'£ten' to '10.00'" in page.locator("main").inner_text()
    _look(page, "correction-preview", tmp_path)
    page.get_by_role("button", name="Confirm: correct the value").click()
    page.goto(f"{base_url}/forms/1")
    assert "is not an amount of money" not in page.locator("main").inner_text()  # that problem has gone
    assert "£ten" in page.locator(".app-original, [class*=original]").first.inner_text()  # the original is as sent

    # accept what is left (warnings and the written total), with the effect shown first
    page.get_by_label("Why (kept with the decision)").fill("checked with the sender by phone")
    page.get_by_role("button", name="Accept as it is").click()
    assert "£0.00 to £195.00 (£195.00 in)" in page.locator("main").inner_text()
    _look(page, "accept-preview", tmp_path)
    page.get_by_role("button", name="Confirm: accept").click()
    assert "accepted" in page.title()

    # finance's figures, on the page and in the workbook
    page.goto(f"{base_url}/finance")
    assert "£195.00" in page.locator("main").inner_text()
    _look(page, "finance", tmp_path)
    assert _pounds_loaded(settings) == Decimal("195.00")

    # undo the accept: the form is held again and its £ leaves finance's totals
    page.goto(f"{base_url}/forms/1/actions")
    page.get_by_role("button", name="Undo").first.click()
    confirm = page.get_by_role("button", name="Confirm: undo")
    if confirm.count():
        confirm.first.click()
    assert _pounds_loaded(settings) == Decimal("0.00")


def test_a_finance_user_cannot_act(desk):
    base_url, browser, _ = desk
    page = browser.new_page()
    sign_in(page, base_url, "finance-user", PASSWORD)
    page.goto(f"{base_url}/forms/1")
    assert page.get_by_role("button", name="Accept as it is").count() == 0
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    answer = page.request.post(
        f"{base_url}/forms/1/decide", form={"csrf": token, "action": "accept", "reason": "x"}, max_redirects=0
    )
    assert answer.status == 403


def test_a_viewer_cannot_open_an_original(desk):
    base_url, browser, _ = desk
    page = browser.new_page()
    sign_in(page, base_url, "viewer-user", PASSWORD)
    assert page.goto(f"{base_url}/forms/1/original/1.png").status == 403
    assert page.goto(f"{base_url}/forms/1").status == 403
