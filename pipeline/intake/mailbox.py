"""The co-production mailbox, whichever way it is reached (setting mail_source):
IMAP (pipeline.intake.imap) or the Microsoft Graph mail API (pipeline.intake.graph)."""

from __future__ import annotations

from pipeline.intake.mail_ledger import FetchSummary
from pipeline.settings import Settings


def mail_configured(settings: Settings) -> bool:
    """Whether there is a mailbox to fetch from (the scheduled flow fetches only then)."""
    return settings.mail_source == "graph" or bool(settings.imap_host)


def fetch_new_mail(settings: Settings) -> FetchSummary:
    """Bring new mail into the inbox; summary.source says which mailbox and how."""
    if settings.mail_source == "graph":
        from pipeline.intake import graph

        return graph.fetch_mail(settings)
    from pipeline.intake import imap

    return imap.fetch_mail(settings)


def check_mailbox(settings: Settings) -> str:
    """Sign in to the mailbox (IMAP: log in and out; Graph: get a token and read the folder).
    Returns what was checked, e.g. 'coproduction@camden.gov.uk (Microsoft Graph)'; raises
    MailFetchError saying plainly what is wrong."""
    if settings.mail_source == "graph":
        from pipeline.intake import graph

        graph.check(settings)
        return graph.describe(settings)
    from pipeline.intake import imap

    imap._connect(settings).logout()
    return imap.describe(settings)
