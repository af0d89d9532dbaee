"""Correcting a value from the review desk: previewed then made, through the same function as
`coforms correct`; admins only, CSRF-checked, refused when the form changed meanwhile."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.runtime.run import run_pipeline
from pipeline.settings import Settings
from pipeline.store.lock import exclusive_run
from pipeline.store.warehouse import Warehouse
from tests.conftest import GOLDEN
from tests.web.browser import needs_chromium
from tests.web.conftest import csrf_of, signed_in

HELD = GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx"  # '£ten' in row 1


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("recorded")
    (root / "inbox").mkdir()
    shutil.copy(HELD, root / "inbox" / HELD.name)
    run_pipeline(Settings(inbox=root / "inbox", outputs=root / "outputs", settle_seconds=0))
    return root / "outputs"


@pytest.fixture
def app(recorded, web_outputs, request):
    shutil.copytree(recorded, web_outputs, dirs_exist_ok=True)
    return request.getfixturevalue("web_app")


@pytest.fixture
def admin(app):
    return signed_in(app, "admin-user")


def _rows(settings: Settings, sql: str) -> list:
    with Warehouse(settings.warehouse, read_only=True) as wh:
        return wh.rows(sql)


def _sid(settings: Settings) -> int:
    return _rows(settings, "SELECT submission_id FROM submissions")[0][0]


def _form(client, sid: int) -> dict[str, str]:
    """csrf and version as the form page gives them to the correction beside row 1's amount."""
    page = client.get(f"/forms/{sid}")
    assert page.status_code == 200, page.text
    version = re.search(r'name="version" value="([^"]+)"', page.text).group(1)
    return {"csrf": csrf_of(page.text), "version": version}


def _post(client, sid: int, **fields):
    return client.post(f"/forms/{sid}/correct", data=fields)


def test_the_form_page_offers_a_correction_beside_each_value(admin, web_settings):
    page = admin.get(f"/forms/{_sid(web_settings)}")
    assert 'name="field" value="lines.1.amount"' in page.text
    assert 'Check the correction<span class="govuk-visually-hidden"> of row 1, amount</span>' in page.text
    assert re.search(r'<label class="govuk-label govuk-label--s" for="fix-lines-1-amount-value">', page.text)


def test_a_correction_is_previewed_then_made_and_kept_with_who_and_why(admin, web_settings):
    sid = _sid(web_settings)
    fields = {**_form(admin, sid), "field": "lines.1.amount", "value": "10.00", "reason": "Phoned Tom"}
    preview = _post(admin, sid, **fields)
    assert preview.status_code == 200, preview.text
    assert "Nothing has been changed yet" in preview.text and "£ten" in preview.text and "10.00" in preview.text
    assert "invalid_amount" in preview.text
    assert _rows(web_settings, "SELECT count(*) FROM value_corrections") == [(0,)]
    done = _post(admin, sid, **fields, step="confirm")
    assert done.status_code == 200, done.text
    assert "corrected" in done.text
    assert _rows(web_settings, "SELECT field, before, after, actor, reason FROM value_corrections") == [
        ("lines.1.amount", "£ten", "10.00", "admin-user", "Phoned Tom")
    ]
    assert _rows(
        web_settings, f"SELECT amount FROM store.voucher_lines WHERE submission_id = {sid} AND line_no = 1"
    ) == [(Decimal("10.00"),)]


def test_a_post_without_the_sessions_csrf_token_changes_nothing(admin, web_settings):
    sid = _sid(web_settings)
    fields = {**_form(admin, sid), "field": "lines.1.amount", "value": "10.00", "reason": "x", "step": "confirm"}
    for token in (None, "forged"):
        sent = {k: v for k, v in fields.items() if k != "csrf"} | ({"csrf": token} if token else {})
        assert _post(admin, sid, **sent).status_code == 403
    assert _rows(web_settings, "SELECT count(*) FROM value_corrections") == [(0,)]


@pytest.mark.parametrize("name", ["finance-user", "viewer-user"])
def test_only_an_admin_may_correct(app, web_settings, name):
    client = signed_in(app, name)
    sid = _sid(web_settings)
    token = csrf_of(client.get(f"/forms/{sid}").text)  # a page that is not theirs still has the sign-out form
    for path in ("correct", "confirm"):
        answer = client.post(
            f"/forms/{sid}/{path}",
            data={"csrf": token, "field": "lines.1.amount", "value": "10.00", "reason": "x", "step": "confirm"},
        )
        assert answer.status_code == 403
    assert _rows(web_settings, "SELECT count(*) FROM value_corrections") == [(0,)]


def test_a_form_changed_since_it_was_opened_is_not_corrected(admin, web_settings):
    sid = _sid(web_settings)
    fields = {**_form(admin, sid), "field": "lines.1.amount", "value": "10.00", "reason": "Phoned Tom"}
    assert _post(admin, sid, **fields, step="confirm").status_code == 200  # the first admin
    again = _post(admin, sid, **(fields | {"value": "12.00"}), step="confirm")  # the second, with the old page
    assert again.status_code == 409
    assert "changed since you opened it" in again.text
    assert _rows(web_settings, "SELECT after FROM value_corrections") == [("10.00",)]


def test_a_field_the_form_does_not_have_is_refused_in_plain_words(admin, web_settings):
    sid = _sid(web_settings)
    base = {**_form(admin, sid), "value": "1", "reason": "x"}
    missing = _post(admin, sid, **base, field="lines.40.amount")
    assert missing.status_code == 400 and "has no value" in missing.text and "lines.40.amount" in missing.text
    for bad in ("../../etc/passwd", "lines.1.amount<script>", ""):
        answer = _post(admin, sid, **base, field=bad)
        assert answer.status_code == 400 and "no such value" in answer.text
        assert "<script>" not in answer.text


def test_a_missing_reason_or_value_is_asked_for_again(admin, web_settings):
    sid = _sid(web_settings)
    answer = _post(admin, sid, **_form(admin, sid), field="lines.1.amount", value="", reason="")
    assert answer.status_code == 400
    assert "There is a problem" in answer.text
    assert "Type the value as it should read" in answer.text and "Say why" in answer.text


def test_confirming_a_value_that_was_not_scanned_is_refused(admin, web_settings):
    sid = _sid(web_settings)
    answer = admin.post(f"/forms/{sid}/confirm", data={**_form(admin, sid), "field": "lines.2.amount", "reason": "x"})
    assert answer.status_code == 400 and "not read from a scan" in answer.text


def test_a_run_holding_the_lock_is_said_plainly(app, admin, web_settings):
    sid = _sid(web_settings)
    fields = {**_form(admin, sid), "field": "lines.1.amount", "value": "10.00", "reason": "x"}
    web_settings.lock_wait_seconds = 0
    with exclusive_run(web_settings.outputs, 0):
        answer = _post(admin, sid, **fields)
    assert answer.status_code == 503 and "A run is loading forms" in answer.text


def test_a_scans_reading_is_confirmed_from_the_desk_and_the_form_loads(admin, web_settings):
    import hashlib

    from pipeline.forms.spec import all_specs
    from pipeline.history.decide import decide_and_record
    from pipeline.records import ParsedFile, Provenance
    from pipeline.runtime.parse import parse_file
    from pipeline.validate.form import Context, validate_form
    from tests.conftest import TODAY
    from tests.runtime.test_correct import CLEAN_SHEET, _as_scanned

    ctx = Context(today=TODAY)
    raw = _as_scanned(parse_file(CLEAN_SHEET.read_bytes(), ctx).raw, "lines.2.amount", "£28.00")
    validated = validate_form(raw, all_specs()["voucher"], ctx, "ocr-crops/x")
    parsed = ParsedFile("voucher", validated.model, validated.problems, [], validated.locations, "scan",
                        readings=validated.readings, raw=raw)  # fmt: skip
    with Warehouse(web_settings.warehouse) as wh:
        sid = decide_and_record(wh, Provenance("scan.png"), hashlib.sha256(b"scan").hexdigest(), parsed).submission_id
    fields = {**_form(admin, sid), "field": "lines.2.amount", "reason": "The picture shows 20"}
    preview = admin.post(f"/forms/{sid}/confirm", data=fields)
    assert preview.status_code == 200 and "confirmed as what the scan shows" in preview.text
    done = admin.post(f"/forms/{sid}/confirm", data={**fields, "step": "confirm"})
    assert done.status_code == 200, done.text
    assert _rows(web_settings, f"SELECT status FROM submissions WHERE submission_id = {sid}") == [("loaded",)]


@needs_chromium
def test_in_chromium_a_correction_is_made_with_the_keyboard_and_its_pages_pass_axe(app, web_settings):
    from tests.web.browser import chromium, serious_violations, serving, sign_in
    from tests.web.conftest import PASSWORD

    sid = _sid(web_settings)
    with serving(app) as base_url, chromium() as browser:
        page = browser.new_page()
        sign_in(page, base_url, "admin-user", PASSWORD)
        page.goto(f"{base_url}/forms/{sid}")
        opener = page.locator("summary", has_text="Correct row 1, amount")
        opener.focus()
        page.keyboard.press("Enter")  # a <details>: opened from the keyboard, no script
        assert serious_violations(page) == []  # the form page with a correction open
        page.get_by_label("New value for row 1, amount").fill("10.00")
        page.get_by_role("button", name="Check the correction of row 1, amount").press("Enter")
        page.wait_for_load_state()
        assert "There is a problem" in page.content()  # the reason was left out: asked again
        assert serious_violations(page) == []
        page.get_by_label("Why (kept with the correction)").fill("Phoned Tom")
        page.get_by_role("button", name="Check the correction").press("Enter")
        page.wait_for_load_state()
        assert "Nothing has been changed yet" in page.content()
        assert serious_violations(page) == []
        page.get_by_role("button", name="Confirm: correct the value").press("Enter")
        page.wait_for_load_state()
        assert "corrected" in page.locator("h1").inner_text()
        assert serious_violations(page) == []
    assert _rows(web_settings, "SELECT after, actor FROM value_corrections") == [("10.00", "admin-user")]
