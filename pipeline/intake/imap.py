"""Fetch new mail from the co-production mailbox over IMAP into the inbox folder.

Each message is written to the inbox and noted in the ledger before it is moved to the
Processed folder on the server (pipeline.intake.mail_ledger), so nothing is lost or loaded twice.
Login by password, by a fixed OAuth2 token, or (imap_auth = "m365") by XOAUTH2 with tokens from
Microsoft 365 fetched as they expire. Credentials come from settings only and are never logged.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import socket
import ssl
import time

from imap_tools import MailBox, MailboxLoginError, MailBoxStartTls, MailMessage

from pipeline.intake.inbox import require_inbox
from pipeline.intake.m365 import IMAP_SCOPE, tokens_for
from pipeline.intake.mail_ledger import (  # noqa: F401 (inbox_name, write_atomically: named here by callers and tests)
    FetchSummary,
    MailFetchError,
    inbox_name,
    keep,
    ledger_for,
    write_atomically,
)
from pipeline.settings import Settings

log = logging.getLogger(__name__)

# What a session that ends under us looks like: Exchange Online ends an XOAUTH2 session when its
# token expires ("* BYE Session invalidated - AccessTokenExpired"), which imaplib raises as abort.
_SESSION_LOST = (imaplib.IMAP4.abort, ConnectionError, EOFError, ssl.SSLEOFError, TimeoutError)


def _refused(exc: Exception) -> bool:
    """A login the server said no to (imap-tools raises imaplib's own error for AUTHENTICATE)."""
    return isinstance(exc, MailboxLoginError) or (
        isinstance(exc, imaplib.IMAP4.error) and not isinstance(exc, imaplib.IMAP4.abort)
    )


class RawMailMessage(MailMessage):
    """imap-tools' message, keeping the exact bytes the server sent (its SHA-256 is the key)."""

    def __init__(self, fetch_data: list) -> None:
        super().__init__(fetch_data)
        self.raw: bytes = self._get_message_data_parts(fetch_data)[0]


def auth_mode(settings: Settings) -> str:
    """password, token or m365; a fixed token set without imap_auth still logs in with it (as before)."""
    if settings.imap_auth == "password" and settings.imap_password is None and settings.imap_oauth2_token:
        return "token"
    return settings.imap_auth


def describe(settings: Settings) -> str:
    how = {"password": "password", "token": "OAuth2 token", "m365": "Microsoft 365 app sign-in"}[auth_mode(settings)]
    return f"{settings.imap_user} on {settings.imap_host} (IMAP, {how})"


def _connect(settings: Settings) -> MailBox:
    if not settings.imap_host or not settings.imap_user:
        raise MailFetchError("No mailbox is configured (COFORMS_IMAP_HOST and COFORMS_IMAP_USER).")
    mode = auth_mode(settings)
    if mode == "password" and settings.imap_password is None:
        raise MailFetchError("No IMAP password is configured (imap_password), nor imap_auth = 'm365' with m365_*.")
    if mode == "token" and settings.imap_oauth2_token is None:
        raise MailFetchError("imap_auth is 'token' but no imap_oauth2_token is set.")
    if mode != "m365":
        return _open_and_login(settings, mode)
    # XOAUTH2 with the app's token. A token MSAL still holds good but the server refuses (revoked,
    # clocks apart) is dropped and a new one tried once, on a new connection; a new token refused
    # means the app may not open this mailbox.
    tokens = tokens_for(settings, IMAP_SCOPE)
    try:
        return _open_and_login(settings, mode, tokens.token())
    except _LoginRefused:
        tokens.forget()
    try:
        return _open_and_login(settings, mode, tokens.token())
    except _LoginRefused as exc:
        raise MailFetchError(
            f"Microsoft 365 gave the app a token, but {settings.imap_host} refused it for the mailbox "
            f"{settings.imap_user}: the app registration needs the IMAP.AccessAsApp permission (with admin "
            "consent), and Exchange needs the app's service principal with FullAccess to this mailbox "
            "(New-ServicePrincipal, Add-MailboxPermission). Check imap_user too."
        ) from exc


class _LoginRefused(MailFetchError):
    pass


def _open_and_login(settings: Settings, mode: str, token: str | None = None) -> MailBox:
    box = _open(settings)
    try:
        if mode == "m365":
            _xoauth2(box, settings.imap_user, token, settings.imap_folder)
        elif mode == "token":
            _xoauth2(box, settings.imap_user, settings.imap_oauth2_token.get_secret_value(), settings.imap_folder)
        else:
            box.login(settings.imap_user, settings.imap_password.get_secret_value(), settings.imap_folder)
    except Exception as exc:
        with contextlib.suppress(Exception):
            box.logout()
        if _refused(exc):  # never echo credentials: name the server and the account only
            raise _LoginRefused(
                f"{settings.imap_host} refused the login of {settings.imap_user}: check the setting imap_user and "
                "the password (or OAuth2 token)."
            ) from exc
        raise MailFetchError(
            f"Could not log in to {settings.imap_host}:{settings.imap_port} as "
            f"{settings.imap_user} ({type(exc).__name__})."
        ) from exc
    return box


def _xoauth2(box: MailBox, user: str, token: str, folder: str) -> None:
    """SASL XOAUTH2 as Google and Microsoft define it: a refused token gets a challenge carrying
    the error, which the client answers with an empty line so that the server says NO (imap-tools
    would send the token again, which a server may take as a broken exchange and hang up)."""
    answered: list[bool] = []

    def respond(_challenge: bytes) -> bytes | str:
        if answered:
            return b""
        answered.append(True)
        return f"user={user}\1auth=Bearer {token}\1\1"

    box.login_result = box.client.authenticate("XOAUTH2", respond)
    box.folder.set(folder)


def _open(settings: Settings) -> MailBox:
    context = ssl.create_default_context(cafile=str(settings.imap_ca_file) if settings.imap_ca_file else None)
    box_class = MailBox if settings.imap_security == "ssl" else MailBoxStartTls
    try:
        box = box_class(settings.imap_host, settings.imap_port, timeout=settings.imap_timeout, ssl_context=context)
    except Exception as exc:  # before any login: the network, the name, the certificate
        raise MailFetchError(_connection_failure(settings, exc)) from exc
    box.email_message_class = RawMailMessage
    return box


def _connection_failure(settings: Settings, exc: Exception) -> str:
    """Why the mail server could not be reached, in words that point at the setting to check."""
    where = f"{settings.imap_host}:{settings.imap_port}"
    if isinstance(exc, socket.gaierror):
        return (
            f"The mail server's name {settings.imap_host} could not be found (DNS): check the setting imap_host "
            "and this machine's network."
        )
    if isinstance(exc, ConnectionRefusedError):
        return f"Nothing answers at {where}: check the settings imap_host and imap_port, or whether the server is up."
    if isinstance(exc, TimeoutError):
        return f"{where} did not answer within {settings.imap_timeout:.0f} seconds: check the network or firewall."
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"The certificate of {settings.imap_host} is not trusted ({exc.verify_message}): for a private "
            "certificate, set imap_ca_file to its CA bundle."
        )
    if isinstance(exc, ssl.SSLError):
        return (
            f"No secure connection could be made with {where}: check imap_security ('ssl' for port 993, "
            "'starttls' for port 143)."
        )
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
    return f"Could not connect to {where} ({reason})."


def _fetch_session(box: MailBox, settings: Settings, ledger, summary: FetchSummary) -> None:
    if not box.folder.exists(settings.imap_processed_folder):
        box.folder.create(settings.imap_processed_folder)
    for message in box.fetch(mark_seen=False, bulk=False):
        sha256 = keep(message.raw, settings, ledger, summary)
        box.move(message.uid, settings.imap_processed_folder)
        summary.moved += 1
        log.info("fetched message uid %s (%s)", message.uid, sha256[:12])


def fetch_mail(settings: Settings) -> FetchSummary:
    summary = FetchSummary(source=describe(settings))
    started = time.perf_counter()
    require_inbox(settings.inbox)  # never made here: a share that is not mounted must not look like an empty one
    ledger = ledger_for(settings)
    # With Microsoft 365 sign-in a session lives no longer than its token: when the server ends it,
    # sign in again with a fresh token and carry on, as long as each session moved something.
    reconnect = auth_mode(settings) == "m365"
    moved_before = -1
    while True:
        box = _connect(settings)
        try:
            _fetch_session(box, settings, ledger, summary)
            break
        except MailFetchError:
            raise
        except _SESSION_LOST as exc:
            if not reconnect or summary.moved == moved_before:
                raise _lost(settings, exc) from exc
            moved_before = summary.moved
            log.info("the IMAP session ended (%s); signing in again with a fresh token", type(exc).__name__)
        except Exception as exc:
            raise _lost(settings, exc) from exc
        finally:
            with contextlib.suppress(Exception):  # the server may already be gone
                box.logout()
    summary.seconds = time.perf_counter() - started
    return summary


def _lost(settings: Settings, exc: Exception) -> MailFetchError:
    return MailFetchError(
        f"The connection to {settings.imap_host} failed during the fetch "
        f"({type(exc).__name__}); what was fetched is kept, the rest stays on the server."
    )
