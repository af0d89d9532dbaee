"""The admin's decisions from the review desk: preview, confirm, undo, supersede; the two safety
nets (the run lock, and a form changed by someone else meanwhile); and who may decide."""

from __future__ import annotations

import html
import re
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from pipeline.admin import actions
from pipeline.admin.actions import run_admin_action
from pipeline.runtime.run import run_pipeline
from pipeline.settings import Settings
from pipeline.store.lock import exclusive_run
from pipeline.store.warehouse import Warehouse
from pipeline.web import decide
from pipeline.web.app import accounts_for, create_app
from pipeline.web.pages import templates
from pipeline.web.reads import form_version
from pipeline.web.roles import Role
from tests.conftest import GOLDEN
from tests.web.conftest import PASSWORD, csrf_of, signed_in

HELD = "bad_amount_cap_unsigned_unit.docx"  # held for '£ten'; £185.00 on its lines
GOOD = "table_total_row.docx"  # loaded, £70.50, the same project


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A warehouse of two voucher sheets (1 held, 2 loaded), with its reports and one account per role."""
    root = tmp_path_factory.mktemp("decide")
    (root / "inbox").mkdir()
    for name in (HELD, GOOD):  # in this order: the held one is submission 1
        shutil.copy(GOLDEN / "voucher" / name, root / "inbox" / name)
        run_pipeline(Settings(inbox=root / "inbox", outputs=root / "outputs", settle_seconds=0))
    accounts = accounts_for(Settings(outputs=root / "outputs"))
    for role in Role:
        accounts.add_user(f"{role.value}-user", role, PASSWORD)
    return root / "outputs"


@pytest.fixture
def settings(built: Path, tmp_path: Path) -> Settings:
    """A copy of the built outputs for each test: a decision in one test never shows in another."""
    shutil.copytree(built, tmp_path / "outputs")
    return Settings(outputs=tmp_path / "outputs", inbox=tmp_path / "inbox")


@pytest.fixture
def admin(settings):
    return signed_in(create_app(settings), "admin-user")


def status_of(settings: Settings, submission_id: int) -> str:
    with Warehouse(settings.warehouse, read_only=True) as warehouse:
        return warehouse.one("SELECT status FROM submissions WHERE submission_id = :id", id=submission_id)[0]


def version_of(settings: Settings, submission_id: int) -> str:
    with Warehouse(settings.warehouse, read_only=True) as warehouse:
        return form_version(warehouse, submission_id)


def pounds_loaded_in_workbook(settings: Settings) -> Decimal:
    sheet = openpyxl.load_workbook(settings.outputs / "voucher_reconciliation.xlsx")["Control totals"]
    for measure, value in sheet.iter_rows(values_only=True):
        if measure == "£ loaded (signed and unsigned)":
            return Decimal(str(value)).quantize(Decimal("0.01"))
    raise AssertionError("no control total of £ loaded")


def decide_on(client, submission_id: int, action: str, version: str, reason: str = "checked with the lead"):
    """Post the decision form as the form page offers it (its CSRF token from any page of the session)."""
    token = csrf_of(client.get("/finance").text)
    return client.post(
        f"/forms/{submission_id}/decide",
        data={"csrf": token, "action": action, "reason": reason, "version": version},
    )


def confirm(client, preview_html: str):
    """Press "Confirm" on a preview page: post its form as it is."""
    action = re.search(r'<form method="post" action="([^"]+/confirm)"', preview_html).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', preview_html))
    return client.post(action, data={k: html.unescape(v) for k, v in fields.items()})


def test_the_preview_changes_nothing_and_shows_the_pounds_that_would_move(settings, admin):
    page = decide_on(admin, 1, "accept", version_of(settings, 1))
    assert page.status_code == 200, page.text
    assert "Nothing has been changed yet" in page.text
    assert "held to loaded" in page.text  # the CLI's "held -> loaded", in words
    assert "£185.00 in" in page.text  # the £ that would come into finance's totals
    assert "Confirm: accept" in page.text
    assert "--dry-run" not in page.text and "coforms" not in page.text  # the CLI's framing is left out
    assert status_of(settings, 1) == "held"
    assert pounds_loaded_in_workbook(settings) == Decimal("70.50")


def test_confirm_accepts_and_the_pounds_move_in_finance_page_and_workbook(settings, admin):
    done = confirm(admin, decide_on(admin, 1, "accept", version_of(settings, 1)).text)
    assert done.status_code == 200, done.text
    assert "Submission 1 accepted" in done.text
    assert status_of(settings, 1) == "loaded"
    assert pounds_loaded_in_workbook(settings) == Decimal("255.50")  # 70.50 + 185.00: the report was rewritten
    finance = admin.get("/finance").text
    assert "£255.50" in finance
    with Warehouse(settings.warehouse, read_only=True) as warehouse:
        audit = warehouse.one("SELECT actor, action, reason FROM audit ORDER BY audit_id DESC LIMIT 1")
    assert tuple(audit) == ("admin-user", "accept", "checked with the lead")  # the signed-in user acted


def test_undo_from_the_done_page_restores_the_form_and_the_pounds(settings, admin):
    done = confirm(admin, decide_on(admin, 1, "accept", version_of(settings, 1)).text)
    audit_id = re.search(r"Recorded as action (\d+)", done.text).group(1)
    assert f'action="/actions/{audit_id}/undo"' in done.text
    preview = admin.post(f"/actions/{audit_id}/undo", data={"csrf": csrf_of(done.text), "reason": "wrong form"})
    assert preview.status_code == 200, preview.text
    assert "loaded to held" in preview.text and "£185.00 out" in preview.text
    assert status_of(settings, 1) == "loaded"  # the preview changed nothing
    undone = confirm(admin, preview.text)
    assert undone.status_code == 200, undone.text
    assert f"Action {audit_id} undone" in undone.text
    assert "Recorded as action" not in undone.text  # an undo is not undone: no button for it
    assert status_of(settings, 1) == "held"
    assert pounds_loaded_in_workbook(settings) == Decimal("70.50")


def test_a_report_that_could_not_be_written_is_said_and_the_decision_stands(settings, admin, monkeypatch):
    from pipeline.reports import write

    def full_disk(warehouse, settings):
        raise write.ReportsNotWritten({settings.outputs / "exceptions.xlsx": OSError(28, "No space left on device")})

    monkeypatch.setattr(write, "refresh_reports", full_disk)
    done = confirm(admin, decide_on(admin, 1, "accept", version_of(settings, 1)).text)
    assert done.status_code == 200
    assert "The decision stands" in done.text and "exceptions.xlsx" in done.text
    assert "have been rewritten" not in done.text
    assert re.search(r"Recorded as action \d+", done.text)  # and it can be undone
    assert status_of(settings, 1) == "loaded"


def test_the_actions_page_lists_what_was_done_and_offers_the_undo(settings, admin):
    confirm(admin, decide_on(admin, 1, "reject", version_of(settings, 1), reason="sent by mistake").text)
    page = admin.get("/forms/1/actions")
    assert page.status_code == 200
    assert "sent by mistake" in page.text and "held to rejected" in page.text
    assert re.search(r'action="/actions/\d+/undo"', page.text)


def test_supersede_offers_the_same_form_type_and_replaces(settings, admin):
    choose = admin.get(f"/forms/1/supersede?version={version_of(settings, 1)}")
    assert choose.status_code == 200
    assert 'name="new" type="radio" value="2"' in choose.text  # the other voucher sheet
    assert 'value="1"' not in choose.text  # never itself
    preview = admin.post(
        "/forms/1/supersede",
        data={"csrf": csrf_of(choose.text), "version": version_of(settings, 1), "new": "2", "reason": "a correction"},
    )
    assert preview.status_code == 200, preview.text
    assert "held to superseded (replaced by 2)" in preview.text
    assert status_of(settings, 1) == "held"
    done = confirm(admin, preview.text)
    assert "Submission 1 replaced by submission 2" in done.text
    assert status_of(settings, 1) == "superseded"


def test_a_decision_without_a_reason_is_asked_again(settings, admin):
    page = decide_on(admin, 1, "accept", version_of(settings, 1), reason="   ")
    assert page.status_code == 400
    assert "govuk-error-summary" in page.text and 'href="#decide-reason"' in page.text
    assert 'id="decide-reason"' in page.text  # the form again, to give one
    assert status_of(settings, 1) == "held"


def test_finance_and_viewer_cannot_decide(settings):
    app = create_app(settings)
    for name in ("finance-user", "viewer-user"):
        client = signed_in(app, name)
        token = csrf_of(client.get("/finance").text)  # a page of the session (a 403 one for the viewer)
        for path, data in (
            ("/forms/1/decide", {"action": "accept", "reason": "x", "version": version_of(settings, 1)}),
            ("/forms/1/decide/confirm", {"action": "accept", "reason": "x", "version": version_of(settings, 1)}),
            ("/forms/1/supersede/confirm", {"new": "2", "reason": "x", "version": version_of(settings, 1)}),
            ("/actions/1/undo/confirm", {"reason": "x"}),
        ):
            assert client.post(path, data={"csrf": token, **data}).status_code == 403, (name, path)
        assert client.get("/forms/1/actions").status_code == 403
    assert status_of(settings, 1) == "held"


def test_a_post_without_the_session_token_does_nothing(settings, admin):
    answer = admin.post(
        "/forms/1/decide/confirm", data={"action": "accept", "reason": "x", "version": version_of(settings, 1)}
    )
    assert answer.status_code == 403
    assert status_of(settings, 1) == "held"


def test_a_form_changed_by_another_admin_meanwhile_is_not_acted_on(settings, admin):
    seen = version_of(settings, 1)  # the admin opens the form...
    preview = decide_on(admin, 1, "reject", seen)
    assert preview.status_code == 200
    # ...while a colleague accepts it
    run_admin_action(settings, actions.accept, 1, "phoned the lead", "colleague")
    answer = confirm(admin, preview.text)
    assert answer.status_code == 409
    assert "has changed since you opened it" in answer.text and "Nothing was done" in answer.text
    assert status_of(settings, 1) == "loaded"  # the colleague's decision stands
    assert decide_on(admin, 1, "reject", seen).status_code == 409  # a preview from the old page, too


def test_a_run_holding_the_lock_gives_a_plain_page_and_does_nothing(settings, admin, monkeypatch):
    monkeypatch.setattr(decide, "WEB_LOCK_WAIT_SECONDS", 0)  # do not wait the 5 s a person would
    version = version_of(settings, 1)
    with exclusive_run(settings.outputs, 0):  # a run is loading forms
        answer = decide_on(admin, 1, "accept", version)
    assert answer.status_code == 503
    assert "A run is loading forms" in answer.text and "Nothing was done: try again in a minute" in answer.text
    assert status_of(settings, 1) == "held"


def test_a_page_reading_the_warehouse_meanwhile_gives_a_plain_page_and_does_nothing(settings, admin, monkeypatch):
    """DuckDB will not open its file to write while this process has it open to read (another
    request showing a page): the action is tried again for a while, then said to be busy."""
    monkeypatch.setattr(decide, "WEB_LOCK_WAIT_SECONDS", 0)
    version = version_of(settings, 1)
    with Warehouse(settings.warehouse, read_only=True):
        answer = decide_on(admin, 1, "accept", version)
    assert answer.status_code == 503, answer.text
    assert "The warehouse is busy" in answer.text and "Nothing was done" in answer.text
    assert status_of(settings, 1) == "held"


def test_an_action_the_rules_refuse_says_why_in_plain_words(settings, admin):
    confirm(admin, decide_on(admin, 1, "reject", version_of(settings, 1)).text)
    # accepting a rejected form is refused by pipeline.admin.actions; the desk names the undo
    answer = decide_on(admin, 1, "accept", version_of(settings, 1))  # refused at the preview already
    assert answer.status_code == 409
    assert "only a held (or loaded) form can be accepted" in answer.text
    assert "coforms undo" not in answer.text and re.search(r"undo action \d+", answer.text)


def test_the_form_page_include_offers_what_fits_the_status():
    include = templates.get_template("form_actions.html")
    held = include.render(submission_id=7, version="abc", status="held", form_type="voucher", csrf="t")
    assert 'value="accept"' in held and 'value="reject"' in held and "/forms/7/supersede?version=abc" in held
    assert 'name="version" value="abc"' in held and 'name="csrf" value="t"' in held
    superseded = include.render(submission_id=7, version="abc", status="superseded", form_type="voucher", csrf="t")
    assert 'value="accept"' not in superseded and "nothing to decide" in superseded


def test_outcome_of_reads_the_cli_lines():
    outcome = decide.outcome_of(
        "Submission 3: held -> loaded\nExceptions resolved: 1\n  submission 3: invalid_amount (row 1)\n"
        "Claimed on loaded voucher forms: £0.00 -> £10.00 (£10.00 in)\nDone (action 12). To undo: coforms undo 12"
    )
    assert outcome.audit_id == 12
    assert [(c.label, c.value) for c in outcome.changes] == [
        ("Submission 3", "held to loaded"),
        ("Exceptions resolved", "1"),
        ("Claimed on loaded voucher forms", "£0.00 to £10.00 (£10.00 in)"),
    ]
    assert outcome.changes[1].details == ["submission 3: invalid_amount (row 1)"]


def test_on_a_postgresql_warehouse_the_desk_decides_the_same(tmp_path, postgres_database):
    """The desk's own reads (the correction to choose, the actions taken) in PostgreSQL's SQL too."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = Settings(inbox=inbox, outputs=tmp_path / "outputs", settle_seconds=0, warehouse_url=postgres_database)
    for name in (HELD, GOOD):
        shutil.copy(GOLDEN / "voucher" / name, inbox / name)
        run_pipeline(settings)
    accounts_for(settings).add_user("admin-user", Role.ADMIN, PASSWORD)
    admin = signed_in(create_app(settings), "admin-user")
    with Warehouse(settings.warehouse, read_only=True) as warehouse:
        seen = form_version(warehouse, 1)
    choose = admin.get(f"/forms/1/supersede?version={seen}")
    assert 'name="new" type="radio" value="2"' in choose.text
    data = {"csrf": csrf_of(choose.text), "version": seen, "new": "2", "reason": "a correction"}
    done = confirm(admin, admin.post("/forms/1/supersede", data=data).text)
    assert "Submission 1 replaced by submission 2" in done.text
    actions_page = admin.get("/forms/1/actions").text
    assert "held to superseded" in actions_page and "a correction" in actions_page
