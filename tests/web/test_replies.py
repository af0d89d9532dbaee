"""The reply drafts on the review desk: listed for admins, edited (the earlier version kept, who it
goes to unchanged), and sent through a real SMTP server (aiosmtpd) by the pipeline's own code."""

from __future__ import annotations

import re
import shutil
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from pipeline.runtime.run import run_pipeline
from pipeline.settings import Settings
from pipeline.web import replies
from pipeline.web.app import accounts_for, create_app
from pipeline.web.roles import Role
from tests.conftest import GOLDEN
from tests.fixtures import emails
from tests.smtp_server import CollectingHandler, free_port
from tests.web.conftest import PASSWORD, csrf_of, signed_in

DRAFT = "reply-to-bad.eml"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One emailed voucher sheet held for '£ten': a reply draft to its sender."""
    root = tmp_path_factory.mktemp("replies")
    (root / "inbox").mkdir()
    msg = emails.message(subject="Vouchers workshop 3")
    data = (GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx").read_bytes()
    (root / "inbox" / "bad.eml").write_bytes(emails.attach(msg, data, "Vouchers workshop 3.docx").as_bytes())
    settings = Settings(
        inbox=root / "inbox", outputs=root / "outputs", settle_seconds=0, allowed_senders=["camden.gov.uk"]
    )
    run_pipeline(settings)
    assert (settings.outputs / "replies" / DRAFT).is_file()
    accounts = accounts_for(settings)
    for role in Role:
        accounts.add_user(f"{role.value}-user", role, PASSWORD)
    return settings.outputs


def _desk(settings: Settings):
    app = create_app(settings)
    if not any(getattr(route, "path", None) == "/replies" for route in app.routes):
        app.router.routes[0:0] = replies.routes  # until pipeline/web/app.py mounts them (asked of the lead)
    return app


def _settings(built: Path, tmp_path: Path, **smtp) -> Settings:
    shutil.copytree(built, tmp_path / "outputs")
    return Settings(outputs=tmp_path / "outputs", inbox=tmp_path / "inbox", **smtp)


@pytest.fixture
def settings(built, tmp_path) -> Settings:
    return _settings(built, tmp_path)


def _parsed(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def _form_of(page_html: str) -> dict[str, str]:
    return {
        "csrf": csrf_of(page_html),
        "version": re.search(r'name="version" value="([^"]+)"', page_html).group(1),
    }


def test_the_drafts_are_listed_for_admins_only(settings):
    app = _desk(settings)
    page = signed_in(app, "admin-user").get("/replies")
    assert page.status_code == 200
    assert "tom.okafor@camden.gov.uk" in page.text and "Re: Vouchers workshop 3" in page.text
    assert f'href="/replies/{DRAFT}"' in page.text
    for name in ("finance-user", "viewer-user"):
        client = signed_in(app, name)
        assert client.get("/replies").status_code == 403
        assert client.get(f"/replies/{DRAFT}").status_code == 403


def test_a_draft_is_edited_and_the_version_before_is_kept(settings):
    client = signed_in(_desk(settings), "admin-user")
    draft = settings.outputs / "replies" / DRAFT
    as_written = draft.read_bytes()
    page = client.get(f"/replies/{DRAFT}")
    assert page.status_code == 200
    assert "is not an amount of money" in page.text  # the body, in the text box
    assert "Send the reply" not in page.text  # no mail server set
    edited = "Hello Tom,\r\n\r\nPlease write the amount on row 1 as 10.00.\r\n\r\nThanks,\r\nThe team\r\n"
    saved = client.post(f"/replies/{DRAFT}", data={**_form_of(page.text), "body": edited})
    assert saved.status_code == 303 and saved.headers["location"] == f"/replies/{DRAFT}?saved=1"
    now, before = _parsed(draft), BytesParser(policy=policy.default).parsebytes(as_written)
    assert now.get_content() == edited.replace("\r\n", "\n")
    for header in ("To", "From", "Subject", "In-Reply-To", "Message-ID"):
        assert now[header] == before[header], header  # only the words changed
    assert (settings.outputs / "replies" / "earlier" / "reply-to-bad.1.eml").read_bytes() == as_written
    again = client.get(f"/replies/{DRAFT}?saved=1").text
    assert "Your changes were saved" in again and "Earlier versions kept: 1" in again


def test_an_empty_reply_is_asked_again(settings):
    client = signed_in(_desk(settings), "admin-user")
    page = client.get(f"/replies/{DRAFT}")
    answer = client.post(f"/replies/{DRAFT}", data={**_form_of(page.text), "body": "  \r\n "})
    assert answer.status_code == 400 and 'href="#reply-body"' in answer.text
    assert not (settings.outputs / "replies" / "earlier").exists()


def test_a_draft_changed_since_it_was_opened_is_not_overwritten(settings):
    client = signed_in(_desk(settings), "admin-user")
    page = client.get(f"/replies/{DRAFT}")
    first = client.post(f"/replies/{DRAFT}", data={**_form_of(page.text), "body": "One admin's words."})
    assert first.status_code == 303
    second = client.post(f"/replies/{DRAFT}", data={**_form_of(page.text), "body": "Another admin's words."})
    assert second.status_code == 409 and "has changed since you opened it" in second.text
    assert _parsed(settings.outputs / "replies" / DRAFT).get_content() == "One admin's words.\n"


def test_names_not_in_the_folder_are_not_opened(settings):
    client = signed_in(_desk(settings), "admin-user")
    (settings.outputs / "replies" / "notes.txt").write_text("not a draft")
    for name in ("notes.txt", "..%2Fwarehouse.duckdb", "reply-to-nobody.eml", "earlier", "sent"):
        assert client.get(f"/replies/{name}").status_code == 404, name
    token = csrf_of(client.get("/replies").text)
    assert client.post("/replies/notes.txt", data={"csrf": token, "body": "x", "version": "x"}).status_code == 404


def test_send_saves_the_words_shown_and_sends_them_once(built, tmp_path):
    handler, port = CollectingHandler(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = _settings(built, tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        client = signed_in(_desk(settings), "admin-user")
        page = client.get(f"/replies/{DRAFT}")
        assert f'formaction="/replies/{DRAFT}/send"' in page.text
        words = "Hello Tom,\r\n\r\nRow 1 needs the amount in pounds, please.\r\n"
        answer = client.post(f"/replies/{DRAFT}/send", data={**_form_of(page.text), "body": words})
        assert answer.status_code == 303, answer.text
        assert len(handler.received) == 1
        assert handler.received[0]["To"] == "tom.okafor@camden.gov.uk"
        assert "Row 1 needs the amount in pounds, please." in handler.received[0].get_payload()
        assert not (settings.outputs / "replies" / DRAFT).exists()  # moved to sent/: never sent twice
        assert (settings.outputs / "replies" / "sent" / DRAFT).is_file()
        listing = client.get(answer.headers["location"]).text
        assert f"The reply {DRAFT} was sent" in listing and f'href="/replies/sent/{DRAFT}"' in listing
        assert client.get(f"/replies/sent/{DRAFT}").status_code == 200
        again = client.post(f"/replies/{DRAFT}/send", data={**_form_of(page.text), "body": words})
        assert again.status_code == 404 and len(handler.received) == 1
    finally:
        controller.stop()


def test_a_mail_server_that_cannot_be_reached_sends_nothing_and_keeps_the_draft(built, tmp_path):
    settings = _settings(built, tmp_path, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none")
    client = signed_in(_desk(settings), "admin-user")
    page = client.get(f"/replies/{DRAFT}")
    answer = client.post(f"/replies/{DRAFT}/send", data={**_form_of(page.text), "body": "Hello"})
    assert answer.status_code == 502 and "Nothing was sent; the draft is kept" in answer.text
    assert (settings.outputs / "replies" / DRAFT).is_file()


def test_send_without_a_mail_server_is_refused(settings):
    client = signed_in(_desk(settings), "admin-user")
    page = client.get(f"/replies/{DRAFT}")
    answer = client.post(f"/replies/{DRAFT}/send", data={**_form_of(page.text), "body": "Hello"})
    assert answer.status_code == 409 and "Sending is not set up" in answer.text
