"""`coforms erase`: afterwards `coforms person` finds nothing, finance's totals are the same, the
originals that named the person are gone (and the warehouse says so), the audit row has the reason
and the counts but not the name; a dry run writes nothing. On DuckDB and on PostgreSQL."""

from __future__ import annotations

import pytest

from pipeline.privacy.actions import run_erase, run_person, run_retention
from pipeline.privacy.erase import NothingToErase
from pipeline.privacy.pseudonyms import PSEUDONYM
from tests.privacy.conftest import JUNE_SHEET, build
from tests.privacy.helpers import archived, everything, finance, loaded_long_ago, rows, text_of_outputs

REASON = "Grace Adeyemi asked us to erase her data (letter of 3 March)"


def _erased_properly(settings, name: str, files: list[str], totals, after_retention: bool = False) -> None:
    assert finance(settings) == totals
    answer = run_person(settings, name, [], settings.outputs.parent / "after")
    assert answer.found == [] and answer.forms == {}
    (action, sid, reason, can_undo), *_ = rows(
        settings, "SELECT action, submission_id, reason, can_undo FROM audit WHERE action = 'erase'"
    )
    assert sid is None and can_undo is False
    for word in name.split():
        assert word.casefold() not in reason.casefold()
    for sha, gone in rows(
        settings, "SELECT sha256, original_deleted_at FROM submissions WHERE source_file IN :f", f=files
    ):
        assert gone is not None and not archived(settings, sha)
    whys = {why for (why,) in rows(settings, "SELECT why FROM store.deleted_originals")}
    assert whys <= {"erasure", "retention"} if after_retention else whys == {"erasure"}
    reports = text_of_outputs(settings.outputs).casefold()
    assert name.split()[-1].casefold() not in reports


def test_erase_then_person_finds_nothing_and_totals_stay(settings):
    totals = finance(settings)
    files = ["Vouchers May 2025.xlsx", "Vouchers workshop 3.docx", JUNE_SHEET]
    said = run_erase(settings, "GRACE ADEYEMI", [], REASON, "admin", dry_run=False)
    assert "Finance's totals: unchanged" in said and "Original files that were deleted: 3." in said
    assert "also named other people" in said  # Peter Novak and the others are on her sheets
    _erased_properly(settings, "Grace Adeyemi", files, totals)
    (reason,) = rows(settings, "SELECT reason FROM audit WHERE action = 'erase'")[0]
    assert "[the person] asked us to erase her data (letter of 3 March)" in reason and "values changed" in reason
    # her lines stay, under one pseudonym; the others keep their names
    names = [n for (n,) in rows(settings, "SELECT name FROM voucher_lines")]
    pseudonyms = {n for n in names if PSEUDONYM.match(n)}
    assert len(pseudonyms) == 1 and "Peter Novak" in names and "Margaret Hughes" in names
    assert sum(1 for n in names if n in pseudonyms) == 3  # two on May's sheet, one in June (workshop 3 is held)


def test_erase_dry_run_writes_nothing(settings):
    before = everything(settings)
    said = run_erase(settings, "Grace Adeyemi", [], REASON, "admin", dry_run=True)
    assert "Dry run: nothing was changed" in said and "would be deleted: 3" in said
    assert everything(settings) == before


def test_erase_after_retention_reaches_the_pseudonymised_rows(settings):
    loaded_long_ago(settings, ["Vouchers May 2025.xlsx"], years=7)
    run_retention(settings, apply=True, actor="tester")
    totals = finance(settings)
    run_erase(settings, "Grace Adeyemi", [], "asked", "admin", dry_run=False)
    assert run_person(settings, "Grace Adeyemi", [], settings.outputs.parent / "after").found == []
    assert finance(settings) == totals


def test_erase_of_nobody_is_refused(settings):
    with pytest.raises(NothingToErase):
        run_erase(settings, "Nobody Atall", [], "asked", "admin", dry_run=False)


def test_retention_and_erase_on_postgresql(tmp_path, postgres_database):
    settings = build(tmp_path, warehouse_url=postgres_database)
    totals = finance(settings)
    loaded_long_ago(settings, [JUNE_SHEET], years=7)
    said = run_retention(settings, apply=True, actor="tester")
    assert "Names replaced by pseudonyms on 1 voucher forms" in said and "removed from the archive" in said
    assert finance(settings) == totals
    assert "Margaret Hughes" not in {n for (n,) in rows(settings, "SELECT name FROM voucher_lines")}
    before = everything(settings)
    run_erase(settings, "margaret hughes", [], "Margaret Hughes asked", "admin", dry_run=True)
    assert everything(settings) == before
    said = run_erase(settings, "margaret hughes", [], "Margaret Hughes asked", "admin", dry_run=False)
    assert "Done (action" in said
    _erased_properly(settings, "Margaret Hughes", [JUNE_SHEET], totals, after_retention=True)


def test_erase_by_name_and_email_address(settings):
    totals = finance(settings)
    email = "amira.hassan@camden.gov.uk"
    said = run_erase(settings, "Amira Hassan", [email.upper()], "asked by email", "admin", dry_run=False)
    assert "Done (action" in said
    assert run_person(settings, "Amira Hassan", [email], settings.outputs.parent / "after").found == []
    senders = {s for (s,) in rows(settings, "SELECT sender FROM submissions WHERE sender IS NOT NULL")}
    assert senders and all(PSEUDONYM.match(s) for s in senders)
    leads = [n for (n,) in rows(settings, "SELECT lead_name FROM planning_leads ORDER BY position")]
    assert PSEUDONYM.match(leads[0]) and leads[1] == "Tom Okafor"
    email_sha = rows(settings, "SELECT item_sha256 FROM store.intake WHERE file_name LIKE '%.eml'")[0][0]
    assert not archived(settings, email_sha)
    assert finance(settings) == totals


def test_erase_deletes_reply_drafts_and_earlier_answers_that_name_them(settings):
    from email.message import EmailMessage

    draft = EmailMessage()
    draft["To"] = "tom.okafor@camden.gov.uk"
    draft["Subject"] = "Re: Vouchers workshop 3.docx"
    draft.set_content("Row 1: Grace Adeyemi, 06/05/2025, Workshop 1: the amount '£ten' is not an amount of money.")
    (settings.outputs / "replies").mkdir(exist_ok=True)
    (settings.outputs / "replies" / "reply-9.eml").write_bytes(bytes(draft))
    other = settings.outputs / "replies" / "reply-5.eml"
    other.write_bytes(b"To: x@camden.gov.uk\r\nSubject: Re: evaluation\r\n\r\nTwo boxes are ticked.\r\n")

    answer = run_person(settings, "Grace Adeyemi", [], None)  # under OUTPUTS/subject-access
    assert [p.name for p in (answer.folder / "replies").iterdir()] == ["reply-9.eml"]
    said = run_erase(settings, "Grace Adeyemi", [], "asked", "admin", dry_run=False)
    assert "Reply drafts that name them were deleted: 1." in said
    assert "Earlier subject access answers for them deleted: 1." in said
    assert not (settings.outputs / "replies" / "reply-9.eml").exists() and other.exists()
    assert not answer.folder.exists()
