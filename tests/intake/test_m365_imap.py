"""IMAP with Microsoft 365 app sign-in (imap_auth = "m365"): a real Dovecot whose oauth2 passdb
asks the local Microsoft 365 stand-in (tests/intake/m365_server.py) whether each XOAUTH2 token
is good. Tokens there live two seconds, so they expire during and between fetches."""

from __future__ import annotations

import ssl
import time

import pytest
from imap_tools import MailBox
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.intake import m365 as m365_tokens
from pipeline.intake.mail_ledger import MailFetchError
from pipeline.intake.mailbox import check_mailbox, fetch_new_mail
from pipeline.settings import Settings
from tests.fixtures import dovecot, emails
from tests.intake.dovecot_oauth2 import OAuth2Dovecot
from tests.intake.m365_server import SECRET, M365Server, Tenant, certificate_pem

pytestmark = pytest.mark.skipif(not dovecot.available(), reason="Dovecot is not installed (or not root)")
runner = CliRunner()


@pytest.fixture(scope="module")
def servers():
    m365 = M365Server()
    m365.start()
    imap = OAuth2Dovecot(f"{m365.url}/introspect", m365.ca_file)
    imap.start()
    yield m365, imap
    imap.remove()
    m365.stop()


@pytest.fixture
def mailbox(servers, workdir, monkeypatch):
    """Empty folders, a fresh tenant (2-second tokens), settings for m365 sign-in and no password."""
    m365, imap = servers
    m365.tenant = Tenant()
    monkeypatch.setattr(m365_tokens, "_sources", {})  # no token kept from an earlier test's tenant
    for key, value in {**imap.settings_env(), **m365.settings_env()}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("COFORMS_IMAP_PASSWORD")
    monkeypatch.setenv("COFORMS_IMAP_AUTH", "m365")
    monkeypatch.setenv("COFORMS_INBOX", str(workdir / "inbox"))
    monkeypatch.setenv("COFORMS_OUTPUTS", str(workdir / "outputs"))
    with _client(imap) as box:
        for folder in ("INBOX", "Processed"):
            if box.folder.exists(folder):
                box.folder.set(folder)
                if box.uids():
                    box.delete(box.uids())
    return m365, imap


def _client(imap) -> MailBox:
    context = ssl.create_default_context(cafile=str(imap.ca_file))
    return MailBox("127.0.0.1", imap.imaps_port, ssl_context=context).login(dovecot.USER, dovecot.PASSWORD)


def _append(imap, *messages: bytes) -> None:
    with _client(imap) as box:
        for message in messages:
            box.append(message, "INBOX")


def _count(imap, folder: str) -> int:
    with _client(imap) as box:
        if not box.folder.exists(folder):
            return 0
        box.folder.set(folder)
        return len(box.uids())


def _forms(count: int) -> list[bytes]:
    return [emails.message(subject=f"Form {n}").as_bytes() for n in range(count)]  # each its own Message-ID


def test_fetch_signs_in_with_the_apps_token_and_brings_every_message_once(mailbox, workdir):
    m365, imap = mailbox
    _append(imap, emails.several_forms(), emails.forwarded(), emails.no_attachment())
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Fetched 3 new message(s) from coproduction on 127.0.0.1 (IMAP, Microsoft 365 app sign-in)" in said
    assert (_count(imap, "INBOX"), _count(imap, "Processed")) == (0, 3)
    assert len(list((workdir / "inbox").glob("*.eml"))) == 3
    assert m365.tenant.issued >= 1 and m365.tenant.introspected >= 1  # Dovecot asked the token server
    assert fetch_new_mail(Settings()).fetched == 0


def test_a_token_that_expires_during_the_fetch_is_replaced_and_the_fetch_completes(mailbox, workdir, monkeypatch):
    """Exchange Online ends an IMAP session when its token expires; here the token expires (two
    seconds) and Dovecot ends the session mid-fetch. The fetch signs in again with a new token."""
    m365, imap = mailbox
    _append(imap, *_forms(6))
    import pipeline.intake.mail_ledger as mail_ledger

    real_write = mail_ledger.write_atomically
    written = []

    def write_then_session_ends(path, data):
        real_write(path, data)
        if path.suffix == ".eml":
            written.append(path)
            if len(written) == 2:
                time.sleep(m365.tenant.lifetime + 0.5)  # the session's token is now expired...
                imap.kick(dovecot.USER)  # ...and the server ends the session

    monkeypatch.setattr(mail_ledger, "write_atomically", write_then_session_ends)
    summary = fetch_new_mail(Settings())
    # the second message was written as the session ended, before its move: moved now, not written again
    assert (summary.fetched, summary.already_fetched, summary.moved) == (6, 1, 6)
    assert len(list((workdir / "inbox").glob("*.eml"))) == 6
    assert (_count(imap, "INBOX"), _count(imap, "Processed")) == (0, 6)
    first_token = next(iter(m365.tenant.tokens))
    assert not m365.tenant.valid(first_token, "https://outlook.office365.com/")  # only a new token could sign in
    assert m365.tenant.issued >= 2


def test_a_session_that_keeps_ending_without_progress_stops_with_the_rest_on_the_server(mailbox, monkeypatch):
    m365, imap = mailbox
    _append(imap, *_forms(2))
    from imap_tools.mailbox import BaseMailBox

    def session_ends(self, *args, **kwargs):
        imap.kick(dovecot.USER)
        return real_move(self, *args, **kwargs)

    real_move = BaseMailBox.move
    monkeypatch.setattr(BaseMailBox, "move", session_ends)
    with pytest.raises(MailFetchError) as err:
        fetch_new_mail(Settings())
    assert "the rest stays on the server" in str(err.value)
    assert _count(imap, "INBOX") == 2


def test_between_fetches_an_expired_token_is_never_reused(mailbox, workdir):
    m365, imap = mailbox
    _append(imap, *_forms(2))
    assert fetch_new_mail(Settings()).fetched == 2
    time.sleep(m365.tenant.lifetime + 0.5)
    _append(imap, *_forms(1))
    assert fetch_new_mail(Settings()).fetched == 1
    assert m365.tenant.issued >= 2


def test_a_token_the_server_stops_taking_before_its_time_is_dropped_and_a_new_one_used(mailbox, workdir):
    """The token server says an hour (MSAL keeps the token), but the token is revoked early: the
    login is refused once, MSAL's copy is dropped, and a new token signs in."""
    m365, imap = mailbox
    m365.tenant.advertised = 3600
    m365.tenant.lifetime = 30  # outlasts Dovecot's delay after a refused login (auth_failure_delay)
    _append(imap, *_forms(1))
    assert fetch_new_mail(Settings()).fetched == 1
    issued = m365.tenant.issued
    m365.tenant.expire_all()
    _append(imap, *_forms(1))
    assert fetch_new_mail(Settings()).fetched == 1
    assert m365.tenant.issued == issued + 1


def test_a_revoked_secret_is_a_clear_error_and_nothing_is_lost(mailbox, workdir):
    m365, imap = mailbox
    _append(imap, *_forms(2))
    m365.tenant.revoke_secret()
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert (
        "Fetching mail failed: Microsoft 365 refused the app's secret: it may have expired or been revoked; make a "
        "new one in the app registration and set m365_client_secret." in said
    )
    assert SECRET not in result.output and "Traceback" not in result.output
    assert SECRET not in (workdir / "outputs" / "coforms.log").read_text()
    assert _count(imap, "INBOX") == 2 and not list((workdir / "inbox").glob("*.eml"))


def test_a_mailbox_the_app_may_not_open_is_told_as_a_permission_to_give(mailbox, monkeypatch):
    monkeypatch.setenv("COFORMS_IMAP_USER", "someone.else")  # the token is for the co-production mailbox
    with pytest.raises(MailFetchError) as err:
        check_mailbox(Settings())
    assert "refused it for the mailbox someone.else" in str(err.value)
    assert "IMAP.AccessAsApp" in str(err.value)


def test_certificate_sign_in_works_and_an_unregistered_certificate_is_told(mailbox, workdir, monkeypatch):
    m365, imap = mailbox
    key_and_cert, cert = certificate_pem()
    (workdir / "app.pem").write_bytes(key_and_cert)
    m365.tenant.certificate_pem = cert
    monkeypatch.delenv("COFORMS_M365_CLIENT_SECRET")
    monkeypatch.setenv("COFORMS_M365_CERTIFICATE", str(workdir / "app.pem"))
    _append(imap, *_forms(2))
    assert fetch_new_mail(Settings()).fetched == 2
    m365.tenant.certificate_pem = certificate_pem("another-app")[1]  # the registration now holds another one
    _append(imap, *_forms(1))
    with pytest.raises(MailFetchError) as err:
        fetch_new_mail(Settings())
    assert "Microsoft 365 refused the app's certificate" in str(err.value)
    assert _count(imap, "INBOX") == 1


def test_a_fixed_token_still_works(mailbox, workdir, monkeypatch):
    m365, imap = mailbox
    from pipeline.intake.m365 import IMAP_SCOPE, M365Tokens

    m365.tenant.lifetime = 60
    monkeypatch.setenv("COFORMS_IMAP_OAUTH2_TOKEN", M365Tokens(Settings(), IMAP_SCOPE).token())
    monkeypatch.setenv("COFORMS_IMAP_AUTH", "token")
    _append(imap, *_forms(1))
    summary = fetch_new_mail(Settings())
    assert summary.fetched == 1 and "(IMAP, OAuth2 token)" in summary.source
