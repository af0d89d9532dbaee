"""`coforms retention`: a dry run changes nothing; --apply pseudonymises old names (the same person,
the same pseudonym, on every form and in every run) with finance's totals identical, deletes old
originals (the review desk's form page still opens), clears free text when that is set."""

from __future__ import annotations

import json
import stat

from pipeline.privacy.actions import run_retention
from pipeline.privacy.pseudonyms import PSEUDONYM, existing_key, key_path, pseudonym
from pipeline.settings import Settings
from tests.privacy.conftest import JUNE_SHEET
from tests.privacy.helpers import archived, everything, finance, loaded_long_ago, rows, text_of_outputs

VOUCHER_FILES = ["Vouchers May 2025.xlsx", "Vouchers workshop 3.docx", JUNE_SHEET]
EMAIL_PARTS = ["Evaluation (printed).pdf", "Monitoring form (filled in).pdf"]


def _names(settings: Settings, files: list[str]) -> dict[tuple[int, int], str]:
    return {
        (sid, line): name
        for sid, line, name in rows(
            settings,
            "SELECT l.submission_id, l.line_no, l.name FROM store.voucher_lines l JOIN store.submissions s "
            "USING (submission_id) WHERE s.source_file IN :files",
            files=files,
        )
    }


def test_dry_run_changes_nothing(settings):
    loaded_long_ago(settings, VOUCHER_FILES + EMAIL_PARTS, years=7)
    before = everything(settings)
    said = run_retention(settings, apply=False, actor="tester")
    assert "Dry run: nothing was changed" in said
    assert "names to replace by pseudonyms: 3" in said and "Vouchers June 2025.xlsx" in said
    assert "to delete: 6 (holding 5 forms)" in said  # the email, its two attachments, the three sheets' files
    assert everything(settings) == before
    assert existing_key(settings.outputs) is None  # no key made for a dry run


def test_apply_pseudonymises_old_names_with_totals_identical_and_the_same_pseudonym_for_one_person(settings):
    totals = finance(settings)
    loaded_long_ago(settings, ["Vouchers May 2025.xlsx"], years=7)
    said = run_retention(settings, apply=True, actor="tester")
    assert "Finance's totals: unchanged" in said and "Reports rewritten" in said
    key = existing_key(settings.outputs)
    assert stat.S_IMODE(key_path(settings.outputs).stat().st_mode) == 0o600
    may = _names(settings, ["Vouchers May 2025.xlsx"])
    assert all(PSEUDONYM.match(name) for name in may.values())
    grace = pseudonym("Grace Adeyemi", key)
    assert [name for name in may.values()].count(grace) == 2
    assert len(set(may.values())) == 3  # Grace twice, Peter, Siobhan: three people, three pseudonyms
    assert finance(settings) == totals

    # years later the other sheets are old too: "GRACE  ADEYEMI" gets Grace's pseudonym again
    loaded_long_ago(settings, ["Vouchers workshop 3.docx", JUNE_SHEET], years=7)
    run_retention(settings, apply=True, actor="tester")
    june = _names(settings, [JUNE_SHEET])
    assert grace in june.values() and pseudonym("Margaret Hughes", key) in june.values()
    assert finance(settings) == totals
    # the names are gone from the kept readings, the problems' messages and the reports too
    for (raw,) in rows(
        settings,
        "SELECT raw FROM store.raw_forms r JOIN store.submissions s USING (submission_id) "
        "WHERE s.source_file IN :files",
        files=VOUCHER_FILES,
    ):
        assert "adeyemi" not in raw.casefold() and "hughes" not in raw.casefold()
        json.loads(raw)
    messages = " ".join(m for (m,) in rows(settings, "SELECT message FROM store.problems"))
    assert "Adeyemi" not in messages and grace in messages
    reports = text_of_outputs(settings.outputs)
    assert "Adeyemi" not in reports and "ADEYEMI" not in reports and grace in reports
    # one audited action per application, with counts, that cannot be undone
    actions = rows(settings, "SELECT action, submission_id, reason, can_undo FROM audit ORDER BY audit_id")
    assert [a[0] for a in actions] == ["retention", "retention"]
    assert all(a[1] is None and a[3] is False for a in actions)
    assert "names pseudonymised on 1 voucher forms" in actions[0][2]
    assert "names pseudonymised on 2 voucher forms" in actions[1][2]
    assert rows(settings, "SELECT count(*) FROM submissions WHERE names_pseudonymised_at IS NOT NULL") == [(3,)]


def test_old_originals_deleted_and_the_form_page_opens(settings):
    from pipeline.web.app import accounts_for, create_app
    from pipeline.web.roles import Role
    from tests.web.conftest import PASSWORD, signed_in

    accounts_for(settings).add_user("admin-user", Role.ADMIN, PASSWORD)
    desk = signed_in(create_app(settings), "admin-user")
    ((sid, sha),) = rows(
        settings, "SELECT submission_id, sha256 FROM submissions WHERE source_file = :f", f=EMAIL_PARTS[0]
    )
    assert desk.get(f"/forms/{sid}").status_code == 200  # its pictures now in web-cache
    assert (settings.outputs / "web-cache" / sha).is_dir()
    email_sha = rows(settings, "SELECT item_sha256 FROM store.intake WHERE file_name LIKE '%.eml'")[0][0]
    kept_sha = rows(settings, "SELECT sha256 FROM submissions WHERE source_file = 'Carers Week plan.docx'")[0][0]

    loaded_long_ago(settings, EMAIL_PARTS, years=3)
    said = run_retention(settings, apply=True, actor="tester")
    assert "to delete: 3 (holding 2 forms)" in said  # the email and its two attachments
    assert not archived(settings, sha) and not archived(settings, email_sha) and archived(settings, kept_sha)
    assert not (settings.outputs / "web-cache" / sha).exists()
    gone = dict(rows(settings, "SELECT source_file, original_deleted_at FROM submissions"))
    assert gone[EMAIL_PARTS[0]] is not None and gone[EMAIL_PARTS[1]] is not None
    assert gone["Carers Week plan.docx"] is None
    assert {why for (why,) in rows(settings, "SELECT why FROM store.deleted_originals")} == {"retention"}

    page = desk.get(f"/forms/{sid}")
    assert page.status_code == 200 and "was deleted on" in page.text and "for data protection" in page.text
    assert desk.get(f"/forms/{sid}/original/1.png").status_code == 404
    # the reply drafts are written from the warehouse, not the original
    from pipeline.admin.replies import write_reply_drafts
    from pipeline.store.warehouse import Warehouse

    with Warehouse(settings.warehouse) as warehouse:
        write_reply_drafts(warehouse, [sid], settings)
    # names are younger than six years: untouched
    assert "Grace Adeyemi" in _names(settings, ["Vouchers May 2025.xlsx"]).values()


def test_free_text_cleared_when_the_setting_is_set(settings):
    loaded_long_ago(settings, ["Carers Week evaluation - resident 1.docx", "Carers Week plan.docx"], years=2)
    kept = run_retention(settings, apply=False, actor="tester")
    assert "Free-text answers: kept" in kept
    before = rows(
        settings,
        "SELECT what_worked_well FROM store.evaluation e JOIN store.submissions s USING (submission_id) "
        "WHERE s.source_file = 'Carers Week evaluation - resident 1.docx'",
    )
    assert before[0][0]  # the sample evaluation says what worked well

    short = settings.model_copy(update={"retention_free_text_months": 12})
    said = run_retention(short, apply=True, actor="tester")
    assert "free text to clear: 2" in said
    cleared = rows(
        settings,
        "SELECT e.what_worked_well, e.what_could_be_improved, e.wider_learning, e.additional_feedback, "
        "(SELECT count(*) FROM store.evaluation_feedback f WHERE f.submission_id = e.submission_id), r.raw "
        "FROM store.evaluation e JOIN store.submissions s USING (submission_id) JOIN store.raw_forms r "
        "USING (submission_id) WHERE s.source_file = 'Carers Week evaluation - resident 1.docx'",
    )[0]
    assert cleared[:5] == (None, None, None, None, 0)
    assert before[0][0] not in cleared[5]
    plan = rows(settings, "SELECT purpose_and_objectives, stakeholders FROM store.planning")[0]
    assert plan == (None, None)
    # a newer evaluation keeps its answers
    assert rows(
        settings,
        "SELECT count(*) FROM store.evaluation e JOIN store.submissions s USING (submission_id) "
        "WHERE s.source_file = 'Evaluation staff member.xlsx' AND e.what_worked_well IS NOT NULL",
    ) == [(1,)]


def test_a_file_received_again_after_its_original_was_deleted_is_kept(settings):
    from pipeline.runtime.run import run_pipeline
    from tests.conftest import TODAY
    from tests.fixtures.build_golden import SAMPLE_EMAIL, _sample_email

    loaded_long_ago(settings, EMAIL_PARTS, years=3)
    run_retention(settings, apply=True, actor="tester")
    # an attachment: the email's own bytes differ each time it is made (a random MIME boundary)
    pdf_sha = rows(settings, "SELECT sha256 FROM submissions WHERE source_file = :f", f=EMAIL_PARTS[0])[0][0]
    assert not archived(settings, pdf_sha)

    (settings.inbox / SAMPLE_EMAIL).write_bytes(_sample_email())  # the sender sends it again
    run_pipeline(settings, today=TODAY)
    assert archived(settings, pdf_sha)
    said = run_retention(settings, apply=True, actor="tester")
    assert "to delete: 0" in said
    assert archived(settings, pdf_sha)  # kept: its retention starts again from its new loading
    assert rows(settings, "SELECT count(*) FROM store.deleted_originals WHERE sha256 = :sha", sha=pdf_sha) == [(0,)]
