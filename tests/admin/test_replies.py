"""Reply drafts to senders, and sending them through a real SMTP server (aiosmtpd) when asked."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest
import trustme
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import GOLDEN
from tests.fixtures import emails
from tests.smtp_server import CollectingHandler, free_port


def _run(workdir):
    result = CliRunner().invoke(app, ["run", "--inbox", str(workdir / "inbox"), "--outputs", str(workdir / "outputs")])
    assert result.exit_code == 0, result.output


def _bad_voucher_email() -> bytes:
    msg = emails.message(subject="Vouchers workshop 3")
    return emails.attach(
        msg, (GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx").read_bytes(), "Vouchers workshop 3.docx"
    ).as_bytes()


def test_one_plain_english_draft_per_email_with_problems(workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_ALLOWED_SENDERS", '["camden.gov.uk"]')
    sent_to_us = _bad_voucher_email()
    (workdir / "inbox" / "bad.eml").write_bytes(sent_to_us)
    (workdir / "inbox" / "good.eml").write_bytes(emails.forwarded())  # no problems: no reply
    (workdir / "inbox" / "outsider.eml").write_bytes(emails.outsider())
    (workdir / "inbox" / "plain-file.docx").write_bytes((GOLDEN / "planning" / "bad_future_date.docx").read_bytes())
    _run(workdir)
    drafts = sorted((workdir / "outputs" / "replies").iterdir())
    # none for the good email, none to the outsider, and no sender to reply to for a plain file
    assert [d.name for d in drafts] == ["reply-to-bad.eml"]
    draft = BytesParser(policy=policy.default).parsebytes(drafts[0].read_bytes())
    original = BytesParser(policy=policy.default).parsebytes(sent_to_us)
    assert draft["To"] == "tom.okafor@camden.gov.uk" and draft["Subject"] == "Re: Vouchers workshop 3"
    assert draft["In-Reply-To"] == original["Message-ID"]
    body = draft.get_content()
    assert '"Vouchers workshop 3.docx" (attendance and voucher sheet): we cannot use it yet.' in body
    assert "'£ten' is not an amount of money" in body
    # in the words printed on the sheet, not the reader's "table 1, row 2, column 5"
    assert "where: voucher table, row 1, Voucher Amount Received" in body and "column 5" not in body
    assert "Please write the voucher amount in pounds and pence" in body
    assert "How to send it again" in body
    assert oct(drafts[0].stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("security", ["none", "starttls"])
def test_drafts_are_sent_by_smtp_only_when_switched_on(workdir, monkeypatch, tmp_path, security):
    handler = CollectingHandler()
    port = free_port()
    kwargs = {}
    if security == "starttls":
        import ssl

        ca = trustme.CA()
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(server_context)
        ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        kwargs = {"tls_context": server_context, "require_starttls": True}
        monkeypatch.setenv("COFORMS_SMTP_CA_FILE", str(tmp_path / "ca.pem"))
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        monkeypatch.setenv("COFORMS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("COFORMS_SMTP_PORT", str(port))
        monkeypatch.setenv("COFORMS_SMTP_SECURITY", security)
        (workdir / "inbox" / "bad.eml").write_bytes(_bad_voucher_email())
        _run(workdir)
        assert handler.received == []  # off by default: drafts only
        monkeypatch.setenv("COFORMS_SEND_REPLIES", "true")
        (workdir / "inbox" / "empty.eml").write_bytes(emails.no_attachment())
        _run(workdir)
        assert len(handler.received) == 1
        sent = handler.received[0]
        assert sent["To"] == "tom.okafor@camden.gov.uk" and sent["Subject"] == "Re: Evaluation form"
        assert (workdir / "outputs" / "replies" / "sent" / "reply-to-empty.eml").exists()
        assert not (workdir / "outputs" / "replies" / "reply-to-empty.eml").exists()  # never sent twice
    finally:
        controller.stop()


def test_a_reply_leaves_out_the_picture_only_the_admin_can_open():
    from pipeline.admin.replies import _body, _Email, _Form
    from pipeline.records import crops_folder
    from pipeline.validate.ocr import without_picture_note

    folder = crops_folder("ab" * 32)
    message = (
        f"Row 2, amount: handwriting that could not be read; please key it in. The picture of it: {folder}/r2.png."
    )
    form = _Form("Vouchers (scanned).png", "voucher", "held", [("error", "ocr_unconfirmed", message, "row 2", None)])
    body = _body(_Email("mail.eml", "tom@camden.gov.uk", "Vouchers", None, None, [form]))
    assert "handwriting that could not be read; please key it in." in body
    assert folder not in body and "picture of it" not in body
    assert without_picture_note("A mark is faint; please look at it. See the original scan.") == (
        "A mark is faint; please look at it."
    )
