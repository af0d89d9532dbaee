"""`coforms fetch` against a real Dovecot on 127.0.0.1 (installed by .ci/run)."""

from __future__ import annotations

import ssl
import time

import duckdb
import pytest
from imap_tools import MailBox
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.intake.imap import MailFetchError, fetch_mail
from pipeline.settings import Settings
from tests.fixtures import dovecot, emails

pytestmark = pytest.mark.skipif(not dovecot.available(), reason="Dovecot is not installed (or not root)")
runner = CliRunner()


@pytest.fixture(scope="module")
def server():
    instance = dovecot.Dovecot()
    instance.start()
    yield instance
    instance.remove()


@pytest.fixture
def mailbox(server, workdir, monkeypatch):
    """An empty INBOX and Processed folder, and settings pointing at them."""
    if not server.running:
        server.start()
    for key, value in server.settings_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COFORMS_INBOX", str(workdir / "inbox"))
    monkeypatch.setenv("COFORMS_OUTPUTS", str(workdir / "outputs"))
    context = ssl.create_default_context(cafile=str(server.ca_file))
    with MailBox("127.0.0.1", server.imaps_port, ssl_context=context).login(dovecot.USER, dovecot.PASSWORD) as box:
        for folder in ("INBOX", "Processed"):
            if box.folder.exists(folder):
                box.folder.set(folder)
                if box.uids():
                    box.delete(box.uids())
    return server


def _client(server) -> MailBox:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    return MailBox("127.0.0.1", server.imaps_port, ssl_context=context).login(dovecot.USER, dovecot.PASSWORD)


def _append(server, *messages: bytes) -> None:
    with _client(server) as box:
        for message in messages:
            box.append(message, "INBOX")


def _count(server, folder: str) -> int:
    with _client(server) as box:
        if not box.folder.exists(folder):
            return 0
        box.folder.set(folder)
        return len(box.uids())


def test_fetch_brings_every_message_in_exactly_once(mailbox, workdir):
    _append(mailbox, emails.several_forms(), emails.forwarded(), emails.no_attachment())
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 0, result.output
    assert "Fetched 3 new message(s)" in result.output
    files = sorted((workdir / "inbox").glob("*.eml"))
    assert len(files) == 3
    assert (_count(mailbox, "INBOX"), _count(mailbox, "Processed")) == (0, 3)
    assert fetch_mail(Settings()).fetched == 0  # nothing new: nothing written
    assert len(list((workdir / "inbox").glob("*.eml"))) == 3
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    rows = con.execute("SELECT source_file, sender, subject, status FROM submissions ORDER BY source_file").fetchall()
    con.close()
    assert ("Monitoring.docx", "tom.okafor@camden.gov.uk", "FW: Monitoring form", "loaded") in rows
    assert len(rows) == 5  # three forms, one forwarded form, one email with none


def test_starttls_works_too(mailbox, workdir, monkeypatch):
    for key, value in mailbox.settings_env("starttls").items():
        monkeypatch.setenv(key, value)
    _append(mailbox, emails.winmail())
    assert fetch_mail(Settings()).fetched == 1


def test_a_crash_between_write_and_move_loses_nothing_and_loads_nothing_twice(mailbox, workdir, monkeypatch):
    _append(mailbox, emails.several_forms(), emails.forwarded())
    from imap_tools.mailbox import BaseMailBox

    real_move = BaseMailBox.move
    monkeypatch.setattr(BaseMailBox, "move", lambda *a, **k: (_ for _ in ()).throw(OSError("killed here")))
    with pytest.raises(MailFetchError):
        fetch_mail(Settings())
    assert len(list((workdir / "inbox").glob("*.eml"))) == 1  # written, not yet moved
    assert _count(mailbox, "INBOX") == 2
    assert runner.invoke(app, ["run"]).exit_code == 0  # a run takes it before the next fetch
    monkeypatch.setattr(BaseMailBox, "move", real_move)
    summary = fetch_mail(Settings())
    assert (summary.already_fetched, summary.fetched) == (1, 1)
    assert (_count(mailbox, "INBOX"), _count(mailbox, "Processed")) == (0, 2)
    assert runner.invoke(app, ["run"]).exit_code == 0
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    statuses = con.execute("SELECT status, count(*) FROM submissions GROUP BY 1").fetchall()
    con.close()
    assert statuses == [("loaded", 4)]  # 3 + 1 forms, each once, no duplicates


def test_wrong_password_is_a_clear_failure_that_shows_no_secret(mailbox, workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_IMAP_PASSWORD", "wrong-secret-123")
    _append(mailbox, emails.no_attachment())
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 1
    assert "refused the login of" in result.output and "wrong-secret-123" not in result.output
    assert "Traceback" not in result.output
    assert "wrong-secret-123" not in (workdir / "outputs" / "coforms.log").read_text()
    assert not list((workdir / "inbox").glob("*.eml")) and _count(mailbox, "INBOX") == 1


def test_a_server_name_that_does_not_resolve_is_told_as_dns_not_as_a_refused_login(mailbox, workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_IMAP_HOST", "no-such-mail-server.invalid")  # .invalid never resolves (RFC 2606)
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "could not be found (DNS)" in said and "login" not in said
    assert "Traceback" not in result.output


def test_a_port_where_nothing_listens_is_told_as_such(mailbox, workdir, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    monkeypatch.setenv("COFORMS_IMAP_PORT", str(free_port))
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "Nothing answers at 127.0.0.1" in said and "login" not in said


def test_server_going_away_mid_fetch_keeps_what_came_and_the_rest_comes_next_time(mailbox, workdir, monkeypatch):
    _append(mailbox, emails.several_forms(), emails.forwarded(), emails.winmail())
    import pipeline.intake.mail_ledger as mail_ledger

    real_write = mail_ledger.write_atomically
    written = []

    def write_then_server_dies(path, data):
        real_write(path, data)
        if path.suffix == ".eml":
            written.append(path)
            if len(written) == 1:
                mailbox.stop()

    monkeypatch.setattr(mail_ledger, "write_atomically", write_then_server_dies)
    with pytest.raises(MailFetchError) as err:
        fetch_mail(Settings())
    assert "the rest stays on the server" in str(err.value)
    mailbox.start()
    monkeypatch.setattr(mail_ledger, "write_atomically", real_write)
    summary = fetch_mail(Settings())
    assert summary.fetched + summary.already_fetched == 3
    assert len(list((workdir / "inbox").glob("*.eml"))) == 3
    assert (_count(mailbox, "INBOX"), _count(mailbox, "Processed")) == (0, 3)


def test_same_message_id_twice_is_written_once(mailbox, workdir):
    twice = emails.message(subject="Evaluation form").as_bytes()
    _append(mailbox, twice, twice.replace(b"Evaluation form", b"Evaluation form (resent)"))
    summary = fetch_mail(Settings())
    assert (summary.fetched, summary.already_fetched) == (1, 1)
    assert _count(mailbox, "INBOX") == 0


def test_fetch_rate(mailbox, workdir):
    """Not a speed target (that is `make bench`): prints messages/s for the record."""
    _append(mailbox, *[emails.message(subject=f"Form {n}").as_bytes() for n in range(100)])  # own Message-IDs
    started = time.perf_counter()
    summary = fetch_mail(Settings())
    elapsed = time.perf_counter() - started
    assert (summary.fetched, summary.already_fetched) == (100, 0)
    print(f"\nfetched 100 messages in {elapsed:.2f}s: {100 / elapsed:.0f} messages/s")
