"""Hostile and unusual mail (issue 16): each shape is read or recorded, and none stops the run.

Outlook .msg files without a sender or damaged, dates that overflow, CR/LF hidden in encoded
headers, MIME nested a thousand deep, mailboxes of several emails, emails attached to emails,
and reply drafts from values that would inject headers.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import unicodedata

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.intake import mail
from pipeline.intake.inbox import InboxItem, attachments_of
from pipeline.intake.mail import sender_allowlist
from pipeline.records import MAX_MESSAGE_ID, MAX_SENDER, MAX_SUBJECT
from tests.fixtures import emails

PLAN = emails.golden("planning/toolkit_layout.docx")


def _attachments(tmp_path, data: bytes, name: str = "mail.eml", allowed=()):
    path = tmp_path / name
    path.write_bytes(data)
    return attachments_of(InboxItem(path, len(data)), 10_000_000, sender_allowlist(list(allowed)))


def _codes(found) -> list[str | None]:
    return [a.problem.code.value if a.problem else None for a in found]


def _file_time(tmp_path, name: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(os.lstat(tmp_path / name).st_mtime, tz=dt.UTC)


# --- Outlook .msg ----------------------------------------------------------------------

needs_extract_msg = pytest.mark.skipif(
    __import__("importlib").util.find_spec("extract_msg") is None, reason="the optional 'msg' extra"
)


@needs_extract_msg
def test_msg_without_a_sender_is_read_with_no_sender(tmp_path):
    # mirrors apache/poi test-data/hsmf/blank.msg: no sender streams at all
    data = emails.outlook_msg(subject="Plan", sender_name=None, sender_email=None, attachments=[("Plan.docx", PLAN)])
    (found,) = _attachments(tmp_path, data, "blank.msg")
    assert found.problem is None and found.data == PLAN
    assert found.provenance.sender is None and found.provenance.subject == "Plan"
    assert found.provenance.source_file == "Plan.docx" and found.provenance.container_file == "blank.msg"


@needs_extract_msg
def test_msg_with_a_sender_keeps_it(tmp_path):
    (found,) = _attachments(tmp_path, emails.outlook_msg(attachments=[("Plan.docx", PLAN)]), "plan.msg")
    assert found.provenance.sender == "tom.okafor@camden.gov.uk" and found.data == PLAN


def _truncated_msg() -> bytes:
    whole = emails.outlook_msg(attachments=[("Plan.docx", PLAN)])
    return whole[:1536]  # the header, the FAT and little else: the directory is cut off


@needs_extract_msg
@pytest.mark.parametrize(
    "data",
    [
        bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00garbage" * 100,  # an OLE signature, then garbage
        pytest.param(None, id="truncated"),  # openMsg raises OleFileError, as on poi's clusterfuzz .msg cases
    ],
)
def test_damaged_msg_is_one_corrupt_record_not_an_exception(tmp_path, data):
    data = data if data is not None else _truncated_msg()
    (found,) = _attachments(tmp_path, data, "damaged.msg")
    assert found.problem.code.value == "corrupt_file" and "damaged" in found.problem.message
    assert found.data == data and found.provenance.source_file == "damaged.msg"  # kept whole: nothing lost


@needs_extract_msg
def test_msg_that_extract_msg_fails_on_in_any_way_is_corrupt(tmp_path, monkeypatch):
    import struct

    import extract_msg

    def fails(*_a, **_k):  # (the truncated file above raises olefile's OleFileError for real)
        raise struct.error("unpack requires a buffer of 16 bytes")

    monkeypatch.setattr(extract_msg, "openMsg", fails)
    (found,) = _attachments(tmp_path, emails.outlook_msg(attachments=[("Plan.docx", PLAN)]), "fuzz.msg")
    assert found.problem.code.value == "corrupt_file"


@needs_extract_msg
def test_email_inside_a_msg_is_opened_and_keeps_the_outer_sender(tmp_path):
    inner_item = (
        "FW: Monitoring",
        (
            "Monitoring",
            "Amira Hassan",
            "amira.hassan@camden.gov.uk",
            [("Monitoring.docx", emails.golden("monitoring/vertical_glyph.docx"))],
        ),
    )
    eml_as_file = ("Plan.eml", emails.form_email(sender="Jo <jo@camden.gov.uk>"))
    found = _attachments(
        tmp_path, emails.outlook_msg(subject="Two forms", attachments=[inner_item, eml_as_file]), "outer.msg"
    )
    assert [a.provenance.source_file for a in found] == ["Monitoring.docx", "Plan.docx"]
    assert found[0].data == emails.golden("monitoring/vertical_glyph.docx") and found[1].data == PLAN
    assert {(a.provenance.sender, a.provenance.subject, a.provenance.container_file) for a in found} == {
        ("tom.okafor@camden.gov.uk", "Two forms", "outer.msg")
    }
    assert _codes(found) == [None, None]


@needs_extract_msg
def test_msg_attached_to_an_eml_is_opened(tmp_path):
    outlook = emails.outlook_msg(sender_email="amy@camden.gov.uk", attachments=[("Plan.docx", PLAN)])
    (found,) = _attachments(tmp_path, emails.email_attached_as_file(outlook, "Plan.msg", "application/vnd.ms-outlook"))
    assert found.provenance.source_file == "Plan.docx" and found.data == PLAN
    assert found.provenance.sender == "tom.okafor@camden.gov.uk"  # who sent it to us


# --- headers ---------------------------------------------------------------------------


def test_a_date_that_overflows_is_unknown_and_the_file_time_is_used(tmp_path):
    data = emails.with_header(emails.form_email(), b"Date", b"Fri, 31 Dec 9999 23:59:59 -2359")
    (found,) = _attachments(tmp_path, data)
    assert found.provenance.received_at == _file_time(tmp_path, "mail.eml")
    found.provenance.received_at.astimezone(dt.UTC)  # the warehouse converts it: must not overflow


def test_encoded_cr_lf_in_the_from_display_name_is_read_safely(tmp_path):
    data = emails.with_header(emails.form_email(), b"From", b"=?utf-8?q?Jo=0D=0ABcc=3A_x?= <jo@example.org>")
    (found,) = _attachments(tmp_path, data)
    assert found.provenance.sender == "jo@example.org" and found.problem is None and found.data == PLAN


def test_a_from_header_that_cannot_be_parsed_still_gives_its_address(tmp_path):
    data = emails.with_header(emails.form_email(), b"From", b'"unclosed <jo@example.org>, =?x?q?=0A?= <')
    (found,) = _attachments(tmp_path, data)
    assert found.provenance.sender == "jo@example.org" and found.data == PLAN


def test_header_values_are_stored_without_control_characters_and_bounded(tmp_path):
    data = emails.with_header(
        emails.form_email(),
        b"Subject",
        b"=?utf-8?q?Vouchers=0D=0ABcc=3A_evil=40example=2Eorg=07=E2=80=AE?=" + b" x" * 5000,
    )
    data = emails.with_header(data, b"Message-ID", b"<a=?utf-8?q?=0D=0A?=b@camden.gov.uk>" + b"y" * 5000)
    data = emails.with_header(data, b"From", b"<" + b"j" * 5000 + b"@camden.gov.uk>")
    (found,) = _attachments(tmp_path, data)
    p = found.provenance
    for value, limit in ((p.subject, MAX_SUBJECT), (p.message_id, MAX_MESSAGE_ID), (p.sender, MAX_SENDER)):
        assert value and len(value) <= limit
        assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in value), value
    assert p.subject.startswith("Vouchers Bcc: evil@example.org")


@pytest.mark.parametrize("kind", ["multipart", "rfc822"])
def test_mime_nested_a_thousand_deep_is_one_corrupt_record(tmp_path, kind):
    data = emails.deeply_nested_mime(1000, kind)
    (found,) = _attachments(tmp_path, data)
    assert found.problem.code.value == "corrupt_file" and found.data == data
    assert (found.provenance.sender, found.provenance.subject) == ("tom.okafor@camden.gov.uk", "Deep")


def test_our_own_failure_on_an_email_is_an_internal_error_naming_it(tmp_path, monkeypatch):
    def broken(*_a, **_k):
        raise KeyError("a bug of ours")

    monkeypatch.setattr(mail, "_files", broken)
    (found,) = _attachments(tmp_path, emails.form_email())
    assert found.problem.code.value == "internal_error" and "KeyError" in found.problem.message
    assert found.provenance.sender == "tom.okafor@camden.gov.uk"  # still known: the reply can go
    monkeypatch.setattr(mail, "attachments_in", broken)  # even outside any email-level guard
    (found,) = _attachments(tmp_path, emails.form_email(), "again.eml")
    assert found.problem.code.value == "internal_error" and found.provenance.source_file == "again.eml"


# --- mailboxes -------------------------------------------------------------------------


def test_every_email_of_an_mbox_is_read_with_its_own_provenance(tmp_path):
    box = emails.mbox(
        emails.form_email(sender="Amy <amy@camden.gov.uk>", subject="Plan from Amy"),
        emails.form_email(
            sender="Jo <jo@camden.gov.uk>",
            subject="Monitoring from Jo",
            form="monitoring/vertical_glyph.docx",
            name="Monitoring.docx",
        ),
        emails.no_attachment(),
    )
    found = _attachments(tmp_path, box, "saved.mbox")
    assert [(a.provenance.source_file, a.provenance.sender, a.provenance.subject) for a in found] == [
        ("Plan.docx", "amy@camden.gov.uk", "Plan from Amy"),
        ("Monitoring.docx", "jo@camden.gov.uk", "Monitoring from Jo"),
        ("saved.mbox (email 3 of 3)", "tom.okafor@camden.gov.uk", "Evaluation form"),
    ]
    assert found[0].data == PLAN and found[1].data == emails.golden("monitoring/vertical_glyph.docx")
    assert _codes(found) == [None, None, "no_attachment"]
    assert {a.provenance.container_file for a in found} == {"saved.mbox"}


def test_an_mbox_is_sniffed_by_its_from_line_and_the_allowlist_applies_per_email(tmp_path):
    box = emails.mbox(emails.form_email(), emails.outsider())
    found = _attachments(tmp_path, box, "mailbox", allowed=["camden.gov.uk"])
    assert _codes(found) == [None, "sender_not_allowed"]
    assert found[1].provenance.sender == "someone@example.com"


def test_an_mbox_that_cannot_be_split_is_refused_whole(tmp_path):
    data = b"This is not a mailbox at all.\n" + emails.form_email()
    (found,) = _attachments(tmp_path, data, "broken.mbox")
    assert found.problem.code.value == "corrupt_file" and found.data == data


# --- emails attached to emails ---------------------------------------------------------


@pytest.mark.parametrize(
    "name, mime, base64_rfc822",
    [
        ("Fwd Plan.eml", "application/octet-stream", False),
        ("attachment", "application/octet-stream", False),  # no .eml name: known by its bytes
        ("Fwd Plan.eml", "message/rfc822", True),  # message/rfc822 sent base64
    ],
)
def test_email_attached_as_a_file_is_opened_and_keeps_the_outer_sender(tmp_path, name, mime, base64_rfc822):
    inner = emails.form_email(sender="Amira <amira.hassan@camden.gov.uk>", subject="Plan")
    (found,) = _attachments(tmp_path, emails.email_attached_as_file(inner, name, mime, base64_rfc822=base64_rfc822))
    assert found.provenance.source_file == "Plan.docx" and found.data == PLAN and found.problem is None
    assert (found.provenance.sender, found.provenance.subject) == ("tom.okafor@camden.gov.uk", "FW: Plan")


def test_an_attached_email_with_no_form_is_recorded_not_dropped(tmp_path):
    found = _attachments(tmp_path, emails.email_attached_as_file(emails.no_attachment()))
    assert _codes(found) == ["no_attachment"] and found[0].provenance.source_file == "Fwd Plan.eml"


def test_emails_nested_as_files_stop_at_the_nesting_limit(tmp_path):
    data = emails.form_email()
    for level in range(mail.MAX_NESTING + 3):
        data = emails.email_attached_as_file(data, f"level-{level}.eml")
    (found,) = _attachments(tmp_path, data)
    assert found.problem.code.value == "unsupported_format" and "nested" in found.problem.message


# --- reply drafts ----------------------------------------------------------------------


def _bad_form_email(
    sender: str = "Tom Okafor <tom.okafor@camden.gov.uk>",
    subject: str = "Vouchers",
    form: str = "voucher/bad_amount_cap_unsigned_unit.docx",
) -> bytes:
    return emails.form_email(subject=subject, sender=sender, form=form, name=form.rsplit("/", 1)[-1])


JO = "Jo <jo@camden.gov.uk>"
OTHER_BAD_FORM = "planning/bad_invalid_date.docx"


def _run(workdir):
    result = CliRunner().invoke(app, ["run", "--inbox", str(workdir / "inbox"), "--outputs", str(workdir / "outputs")])
    assert result.exit_code == 0, result.output


def _parse(path):
    from email import policy
    from email.parser import BytesParser

    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def test_reply_draft_from_a_subject_and_message_id_holding_cr_lf(workdir):
    from pipeline.admin.replies import write_reply_drafts
    from pipeline.settings import Settings
    from pipeline.store.warehouse import Warehouse

    (workdir / "inbox" / "bad.eml").write_bytes(_bad_form_email())
    _run(workdir)
    settings = Settings(inbox=workdir / "inbox", outputs=workdir / "outputs")
    with Warehouse(settings.warehouse) as warehouse:
        # as an older version (or another writer) may have stored them: raw, with CR/LF
        warehouse.execute(
            "UPDATE store.submissions SET subject = :s, message_id = :m",
            s="Vouchers\r\nBcc: evil@example.org",
            m="<a\r\nBcc: evil@example.org>",
        )
        ids = [row[0] for row in warehouse.rows("SELECT submission_id FROM store.submissions")]
        (draft,) = write_reply_drafts(warehouse, ids, settings)
    reply = _parse(draft)
    assert reply["Subject"] == "Re: Vouchers Bcc: evil@example.org" and reply["Bcc"] is None
    assert reply["In-Reply-To"] is None and reply["References"] is None  # not a clean msg-id: not echoed
    assert reply["To"] == "tom.okafor@camden.gov.uk"


def test_one_draft_failing_does_not_cost_the_others(workdir, monkeypatch, caplog):
    import pipeline.admin.replies as replies

    (workdir / "inbox" / "first.eml").write_bytes(_bad_form_email(subject="First"))
    (workdir / "inbox" / "second.eml").write_bytes(_bad_form_email(JO, "Second", OTHER_BAD_FORM))
    real_draft = replies._draft

    def fails_for_first(email, settings):
        if email.container_file == "first.eml":
            raise ValueError("a header the email package refuses")
        return real_draft(email, settings)

    monkeypatch.setattr(replies, "_draft", fails_for_first)
    with caplog.at_level(logging.WARNING, logger="pipeline.admin.replies"):
        _run(workdir)  # exit code 0: the run committed, and goes on
    drafts = sorted(p.name for p in (workdir / "outputs" / "replies").glob("*.eml"))
    assert drafts == ["reply-to-second.eml"]
    assert "first.eml" in caplog.text and "ValueError" in caplog.text


def test_each_email_of_an_mbox_gets_its_own_reply(workdir):
    box = emails.mbox(_bad_form_email(subject="From Tom"), _bad_form_email(JO, "From Jo", OTHER_BAD_FORM))
    (workdir / "inbox" / "saved.mbox").write_bytes(box)
    _run(workdir)
    replies = {(r["To"], r["Subject"]) for r in map(_parse, (workdir / "outputs" / "replies").glob("*.eml"))}
    assert replies == {("tom.okafor@camden.gov.uk", "Re: From Tom"), ("jo@camden.gov.uk", "Re: From Jo")}
