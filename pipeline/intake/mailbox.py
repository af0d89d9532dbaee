"""The co-production mailbox, whichever way it is reached (setting mail_source)."""

from __future__ import annotations

from pipeline.intake.imap import FetchSummary, fetch_mail
from pipeline.settings import Settings


def fetch_new_mail(settings: Settings) -> FetchSummary:
    """Bring new mail into the inbox (IMAP for now; Microsoft Graph is coming)."""
    return fetch_mail(settings)


def check_mailbox(settings: Settings) -> None:
    """Log in to the mailbox and out again; raises MailFetchError saying plainly what is wrong."""
    from pipeline.intake.imap import _connect

    _connect(settings).logout()
