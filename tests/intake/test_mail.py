"""Every email shape staff send gives the right attachments and provenance."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.intake.inbox import InboxItem, attachments_of
from pipeline.intake.mail import safe_file_name, sender_allowlist
from tests.conftest import GOLDEN
from tests.fixtures import emails


def _attachments(tmp_path, data: bytes, name: str = "mail.eml", allowed=()):
    path = tmp_path / name
    path.write_bytes(data)
    return attachments_of(InboxItem(path, len(data)), 10_000_000, sender_allowlist(list(allowed)))


def test_several_forms_in_one_email_and_the_logo_is_ignored(tmp_path):
    found = _attachments(tmp_path, emails.several_forms())
    assert [a.provenance.source_file for a in found] == ["Evaluation resident 1.docx", "Vouchers May.xlsx", "Plan.pdf"]
    p = found[0].provenance
    assert (p.container_file, p.sender, p.subject) == ("mail.eml", "tom.okafor@camden.gov.uk", "Forms from Carers Week")
    assert p.received_at == emails.SENT and p.message_id.endswith("@camden.gov.uk>")
    assert found[0].data == emails.golden("evaluation/ticks_sdt.docx")
    assert all(a.problem is None for a in found)


def test_rfc2231_and_rfc2047_names_are_decoded(tmp_path):
    rfc2231, rfc2047 = emails.non_ascii_names()
    (first,) = _attachments(tmp_path, rfc2231)
    assert first.provenance.source_file == "Évaluation – résident n°2.docx"
    assert first.provenance.subject == "Évaluation et bons"
    (second,) = _attachments(tmp_path, rfc2047, "other.eml")
    assert second.provenance.source_file == "Suivi – égalité.docx"


def test_forwarded_email_yields_the_form_inside_once(tmp_path):
    found = _attachments(tmp_path, emails.forwarded())
    assert [a.provenance.source_file for a in found] == ["Monitoring.docx"]
    assert found[0].provenance.subject == "FW: Monitoring form"  # who sent it to us, and how


def test_winmail_dat_is_opened(tmp_path):
    (found,) = _attachments(tmp_path, emails.winmail())
    assert found.provenance.source_file == "Vouchers.docx"
    assert found.data == emails.golden("voucher/table_total_row.docx")


def test_email_without_a_form_is_a_no_attachment_record(tmp_path):
    (found,) = _attachments(tmp_path, emails.no_attachment())
    assert found.problem.code.value == "no_attachment"
    assert found.provenance.source_file == "mail.eml" and found.provenance.sender == "tom.okafor@camden.gov.uk"


def test_path_traversal_and_control_characters_are_removed_from_names(tmp_path):
    (found,) = _attachments(tmp_path, emails.path_traversal())
    assert found.provenance.source_file == "plan_.docx"
    assert safe_file_name("..\\..\\windows\\x.docx", "f") == "x.docx"
    assert safe_file_name("", "attachment-1") == "attachment-1"


def test_sender_not_on_the_allowlist_is_quarantined_unopened(tmp_path):
    (found,) = _attachments(tmp_path, emails.outsider(), allowed=["camden.gov.uk"])
    assert found.problem.code.value == "sender_not_allowed"
    assert found.data == (tmp_path / "mail.eml").read_bytes()  # the whole email, kept, not opened
    assert len(_attachments(tmp_path, emails.several_forms(), "ok.eml", allowed=["camden.gov.uk"])) == 3


@pytest.mark.parametrize(
    "sender, allowed",
    [
        ("jo@camden.gov.uk", True),
        ("jo@adults.camden.gov.uk", True),
        ("amy@provider.org", True),
        ("bob@provider.org", False),
        ("jo@notcamden.gov.uk", False),
        (None, False),
    ],
)
def test_allowlist_matches_domains_subdomains_and_addresses(sender, allowed):
    assert sender_allowlist(["camden.gov.uk", "amy@provider.org"])(sender) is allowed


def test_broken_mime_and_date_give_a_problem_not_a_crash(tmp_path):
    found = _attachments(tmp_path, emails.broken_mime())
    assert found and all(a.provenance.received_at is not None for a in found)  # the file's time instead
    assert found[0].provenance.message_id == "<broken@camden.gov.uk>"


def test_emails_end_to_end_in_the_submissions_view(workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_ALLOWED_SENDERS", '["camden.gov.uk"]')
    inbox = workdir / "inbox"
    for name, data in [
        ("several.eml", emails.several_forms()),
        ("fw.eml", emails.forwarded()),
        ("winmail.eml", emails.winmail()),
        ("empty.eml", emails.no_attachment()),
        ("outsider.eml", emails.outsider()),
        ("broken.eml", emails.broken_mime()),
    ]:
        (inbox / name).write_bytes(data)
    result = CliRunner().invoke(app, ["run", "--inbox", str(inbox), "--outputs", str(workdir / "outputs")])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT source_file, container_file, sender, subject, status, form_type FROM submissions "
        "ORDER BY container_file, source_file"
    ).fetchall()
    codes = dict(con.execute("SELECT container_file, list(code) FROM exceptions GROUP BY 1").fetchall())
    con.close()
    by_name = {(r[1], r[0]): r for r in rows}
    assert by_name[("several.eml", "Evaluation resident 1.docx")][2:] == (
        "tom.okafor@camden.gov.uk",
        "Forms from Carers Week",
        "loaded",
        "evaluation",
    )
    assert by_name[("several.eml", "Plan.pdf")][4:] == ("loaded", "planning")
    assert by_name[("fw.eml", "Monitoring.docx")][4:] == ("loaded", "monitoring")
    assert by_name[("winmail.eml", "Vouchers.docx")][4:] == ("loaded", "voucher")
    assert codes["empty.eml"] == ["no_attachment"] and codes["outsider.eml"] == ["sender_not_allowed"]
    assert by_name[("broken.eml", "plan.docx")][4] == "rejected"  # the broken attachment: named, not lost
    assert list(inbox.iterdir()) == []


GOLDEN_EMAILS = sorted(p for p in (GOLDEN.parent / "golden_email").glob("*.eml"))


@pytest.mark.parametrize("path", GOLDEN_EMAILS, ids=[p.name for p in GOLDEN_EMAILS])
def test_golden_email(path, tmp_path):
    import hashlib
    import json

    expected = json.loads(path.with_name(path.name + ".expected.json").read_text())
    found = _attachments(tmp_path, path.read_bytes(), path.name)
    assert len(found) == len(expected["attachments"])
    for want, attachment in zip(expected["attachments"], found, strict=False):
        assert attachment.provenance.source_file == want["source_file"]
        assert (attachment.problem.code.value if attachment.problem else None) == want["problem"]
        if want["sha256"]:  # None where the bytes were broken in transit: the name and email still survive
            assert hashlib.sha256(attachment.data).hexdigest() == want["sha256"]
    provenance = found[0].provenance
    assert (provenance.sender, provenance.subject, provenance.container_file) == (
        expected["sender"],
        expected["subject"],
        path.name,
    )
    if expected["date"]:
        assert provenance.received_at.isoformat() == expected["date"]
    assert provenance.message_id


def test_a_photo_sent_inline_as_iphone_mail_sends_it_is_read_and_a_logo_is_not(tmp_path):
    from email.message import EmailMessage

    from tests.conftest import GOLDEN
    from tests.fixtures.wordml import PNG

    photo = (GOLDEN.parent / "golden_scans" / "voucher" / "phone_photo.jpg").read_bytes()
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "amira@camden.gov.uk", "coproduction@camden.gov.uk", "Vouchers"
    msg.set_content("Photo of the sheet attached")
    msg.add_attachment(photo, maintype="image", subtype="jpeg", filename="IMG_0412.jpg", disposition="inline")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="logo.png", disposition="inline")
    (found,) = _attachments(tmp_path, msg.as_bytes())
    assert found.provenance.source_file == "IMG_0412.jpg" and found.data == photo
