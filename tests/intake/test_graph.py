"""mail_source = "graph": the Microsoft Graph mail client (pipeline/intake/graph.py) against the
local stand-in speaking Graph's documented mail endpoints (tests/intake/m365_server.py)."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.intake.mail_ledger import MailFetchError
from pipeline.intake.mailbox import check_mailbox, fetch_new_mail
from pipeline.settings import Settings
from tests.fixtures import emails
from tests.intake.m365_server import SECRET

runner = CliRunner()


@pytest.fixture
def graph(m365, workdir, monkeypatch):
    """A fresh tenant and mailbox (two-second tokens), settings for fetching it through Graph."""
    monkeypatch.setenv("COFORMS_MAIL_SOURCE", "graph")
    monkeypatch.setenv("COFORMS_INBOX", str(workdir / "inbox"))
    monkeypatch.setenv("COFORMS_OUTPUTS", str(workdir / "outputs"))
    return m365.tenant


def _forms(count: int) -> list[bytes]:
    return [emails.message(subject=f"Form {n}").as_bytes() for n in range(count)]  # each its own Message-ID


def _eml(workdir) -> int:
    return len(list((workdir / "inbox").glob("*.eml")))


def test_fetch_brings_every_message_in_once_and_moves_it_to_a_new_processed_folder(graph, workdir):
    graph.deliver(emails.several_forms(), emails.forwarded(), emails.no_attachment())
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Fetched 3 new message(s) from coproduction (Microsoft Graph)" in said
    assert (graph.count("Inbox"), graph.count("Processed")) == (0, 3)
    assert ("POST", "/v1.0/users/coproduction/mailFolders") in [(m, p) for _, _, m, p in graph.graph_log]
    assert _eml(workdir) == 3
    assert fetch_new_mail(Settings()).fetched == 0
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    rows = con.execute("SELECT source_file, sender, status FROM submissions").fetchall()
    con.close()
    assert ("Monitoring.docx", "tom.okafor@camden.gov.uk", "loaded") in rows
    assert len(rows) == 5  # three forms, one forwarded form, one email with none


def test_every_page_is_followed_and_no_message_is_skipped_by_moving_while_paging(graph, workdir):
    graph.deliver(*_forms(120))  # three pages of 50
    summary = fetch_new_mail(Settings())
    assert (summary.fetched, summary.moved) == (120, 120)
    assert (graph.count("Inbox"), graph.count("Processed")) == (0, 120)
    assert _eml(workdir) == 120
    pages = [p for _, _, m, p in graph.graph_log if p.endswith("/messages")]
    assert len(pages) == 3


def test_a_crash_between_write_and_move_loses_nothing_and_loads_nothing_twice(graph, workdir, monkeypatch):
    graph.deliver(emails.several_forms(), emails.forwarded())
    from pipeline.intake.graph import GraphMailbox

    class Killed(BaseException):
        """The process dies here (a BaseException: nothing in coforms catches it)."""

    real_move = GraphMailbox.move
    monkeypatch.setattr(GraphMailbox, "move", lambda *a: (_ for _ in ()).throw(Killed()))
    with pytest.raises(Killed):
        fetch_new_mail(Settings())
    assert _eml(workdir) == 1 and graph.count("Inbox") == 2  # written, not yet moved
    assert runner.invoke(app, ["run"]).exit_code == 0  # a run takes it before the next fetch
    monkeypatch.setattr(GraphMailbox, "move", real_move)
    summary = fetch_new_mail(Settings())
    assert (summary.already_fetched, summary.fetched) == (1, 1)
    assert (graph.count("Inbox"), graph.count("Processed")) == (0, 2)
    assert runner.invoke(app, ["run"]).exit_code == 0
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    statuses = con.execute("SELECT status, count(*) FROM submissions GROUP BY 1").fetchall()
    con.close()
    assert statuses == [("loaded", 4)]  # 3 + 1 forms, each once


def test_a_token_that_expires_during_the_fetch_is_replaced(graph, workdir, monkeypatch):
    """The token server says an hour, so MSAL keeps the token; it stops working mid-fetch (Graph
    answers 401): the fetch drops it, gets a new one and carries on."""
    graph.advertised = 3600
    graph.lifetime = 3600
    graph.deliver(*_forms(4))
    import pipeline.intake.mail_ledger as mail_ledger

    real_write = mail_ledger.write_atomically
    written = []

    def write_then_token_expires(path, data):
        real_write(path, data)
        if path.suffix == ".eml":
            written.append(path)
            if len(written) == 2:
                graph.expire_all()

    monkeypatch.setattr(mail_ledger, "write_atomically", write_then_token_expires)
    summary = fetch_new_mail(Settings())
    assert (summary.fetched, summary.moved) == (4, 4)
    assert graph.issued == 2
    assert [status for _, status, _, _ in graph.graph_log].count(401) == 1


def test_throttling_is_waited_out_as_graph_asks(graph, workdir):
    graph.deliver(*_forms(3))
    graph.throttle_next = 1
    graph.retry_after = 1
    summary = fetch_new_mail(Settings())
    assert summary.fetched == 3
    log = graph.graph_log
    throttled = next(i for i, entry in enumerate(log) if entry[1] == 429)
    assert log[throttled + 1][0] - log[throttled][0] >= 1.0  # the next request came after Retry-After


def test_a_revoked_secret_is_a_clear_error(graph, workdir):
    graph.deliver(*_forms(1))
    graph.revoke_secret()
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "Microsoft 365 refused the app's secret: it may have expired or been revoked" in said
    assert SECRET not in result.output and "Traceback" not in result.output
    assert graph.count("Inbox") == 1 and _eml(workdir) == 0


def test_an_app_without_mail_permission_is_told_which_permission(graph):
    graph.graph_roles = set()
    with pytest.raises(MailFetchError) as err:
        check_mailbox(Settings())
    assert "needs the Mail.ReadWrite application permission" in str(err.value)


def test_an_application_access_policy_is_told_apart(graph):
    graph.access_policy_blocks = True
    with pytest.raises(MailFetchError) as err:
        check_mailbox(Settings())
    assert "application access policy" in str(err.value) and "Mail.ReadWrite" not in str(err.value)


def test_a_token_graph_never_takes_is_told_as_such(graph, monkeypatch):
    from pipeline.intake import graph as graph_client
    from pipeline.intake.m365 import IMAP_SCOPE

    monkeypatch.setattr(graph_client, "graph_scope", lambda _url: IMAP_SCOPE)  # a token for IMAP, not Graph
    with pytest.raises(MailFetchError) as err:
        check_mailbox(Settings())
    assert "did not accept the app's token even when new" in str(err.value)


def test_an_unknown_mailbox_is_named(graph, monkeypatch):
    monkeypatch.setenv("COFORMS_GRAPH_MAILBOX", "nobody@camden.gov.uk")
    with pytest.raises(MailFetchError) as err:
        check_mailbox(Settings())
    assert "has no mailbox nobody@camden.gov.uk" in str(err.value) and "graph_mailbox" in str(err.value)


def test_check_mailbox_says_what_it_checked(graph):
    assert check_mailbox(Settings()) == "coproduction (Microsoft Graph)"


def test_a_message_taken_away_by_someone_else_during_the_fetch_is_skipped(graph, workdir, monkeypatch):
    graph.deliver(*_forms(3))
    from pipeline.intake.graph import GraphMailbox

    real_ids = GraphMailbox.message_ids

    def listed_then_one_moved_by_hand(self, folder):
        ids = real_ids(self, folder)
        graph.folders["inbox"].messages.pop(ids[1])  # a colleague drags it elsewhere in Outlook
        return ids

    monkeypatch.setattr(GraphMailbox, "message_ids", listed_then_one_moved_by_hand)
    summary = fetch_new_mail(Settings())
    assert (summary.fetched, summary.moved) == (2, 2)
    assert graph.count("Inbox") == 0 and _eml(workdir) == 2


def test_no_mailbox_named_is_told_with_the_setting_to_set(graph, monkeypatch):
    monkeypatch.delenv("COFORMS_GRAPH_MAILBOX")
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 1
    assert "set graph_mailbox (or imap_user)" in " ".join(result.output.split())
