"""The mailbox and SMTP checks against real servers: Dovecot (tests/fixtures/dovecot.py) and an
aiosmtpd server that wants a login. Each fails on a wrong password, and SMTP on a port where
nothing listens; neither shows the password."""

from __future__ import annotations

import pytest

from pipeline.doctor.mail import check_mailbox_login, check_smtp
from pipeline.doctor.runner import Status
from pipeline.settings import Settings
from tests.doctor.servers import SMTP_PASSWORD, smtp_server
from tests.fixtures import dovecot
from tests.smtp_server import free_port


@pytest.fixture(scope="module")
def imap_server():
    if not dovecot.available():
        pytest.skip("Dovecot is not installed (or not root)")
    server = dovecot.Dovecot()
    server.start()
    yield server
    server.remove()


def test_no_mailbox_configured_is_skipped_with_a_note(workdir):
    finding = check_mailbox_login(Settings())
    assert finding.status is Status.SKIPPED and "imap_host unset" in finding.said


def test_the_mailbox_login_is_ok(workdir, monkeypatch, imap_server):
    for key, value in imap_server.settings_env().items():
        monkeypatch.setenv(key, value)
    finding = check_mailbox_login(Settings())
    assert finding.status is Status.OK and f"logged in to {dovecot.USER} at 127.0.0.1" in finding.said


def test_a_wrong_mailbox_password_fails_without_showing_it(workdir, monkeypatch, imap_server):
    for key, value in imap_server.settings_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COFORMS_IMAP_PASSWORD", "not the password")
    finding = check_mailbox_login(Settings())
    assert finding.status is Status.FAILED and "refused the login" in finding.said
    assert "not the password" not in finding.said + finding.fix


def test_smtp_is_skipped_while_replies_are_not_sent(workdir):
    finding = check_smtp(Settings())
    assert finding.status is Status.SKIPPED and "send_replies is off" in finding.said


def test_smtp_login_ok_and_a_wrong_password_fails(workdir, monkeypatch):
    with smtp_server() as env:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert check_smtp(Settings()).status is Status.OK
        monkeypatch.setenv("COFORMS_SMTP_PASSWORD", "not the password")
        finding = check_smtp(Settings())
    assert finding.status is Status.FAILED and "refused the login of replies@camden.gov.uk" in finding.said
    assert "smtp_password" in finding.fix and "not the password" not in finding.said + finding.fix
    assert SMTP_PASSWORD not in finding.said


def test_smtp_where_nothing_listens_fails(workdir, monkeypatch):
    port = free_port()
    monkeypatch.setenv("COFORMS_SEND_REPLIES", "true")
    monkeypatch.setenv("COFORMS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("COFORMS_SMTP_PORT", str(port))
    finding = check_smtp(Settings())
    assert finding.status is Status.FAILED and finding.said == f"nothing answers at 127.0.0.1:{port}."


def test_smtp_with_tls_the_server_does_not_speak_fails(workdir, monkeypatch):
    with smtp_server() as env:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("COFORMS_SMTP_SECURITY", "starttls")  # the server offers no STARTTLS
        finding = check_smtp(Settings())
    assert finding.status is Status.FAILED and "TLS with 127.0.0.1" in finding.said
    assert "smtp_security" in finding.fix


def test_replies_on_without_an_smtp_host_fails(workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_SEND_REPLIES", "true")
    finding = check_smtp(Settings())
    assert finding.status is Status.FAILED and "no smtp_host is set" in finding.said
