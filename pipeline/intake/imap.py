"""Fetch new mail from the co-production mailbox into the inbox folder.

For each message: write its raw bytes into inbox/ as an .eml (atomic, fsynced), note it in
a ledger, and only then move it to the Processed folder on the server. A crash between the
steps leaves the message on the server; the next fetch finds it in the ledger (by SHA-256 of
its bytes, or by its Message-ID) and only moves it, so nothing is lost or loaded twice.
Credentials come from settings only and are never logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import ssl
import time
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path

from imap_tools import MailBox, MailboxLoginError, MailBoxStartTls, MailMessage

from pipeline.files import private_dir, write_atomically
from pipeline.intake.inbox import require_inbox
from pipeline.settings import Settings

log = logging.getLogger(__name__)


class RawMailMessage(MailMessage):
    """imap-tools' message, keeping the exact bytes the server sent (its SHA-256 is the key)."""

    def __init__(self, fetch_data: list) -> None:
        super().__init__(fetch_data)
        self.raw: bytes = self._get_message_data_parts(fetch_data)[0]


class MailFetchError(Exception):
    """The mailbox could not be read: login refused, server unreachable or gone."""


@dataclass
class FetchSummary:
    fetched: int = 0  # written into the inbox
    already_fetched: int = 0  # seen before (a crash before the move): only moved now
    seconds: float = 0.0


class Ledger:
    """Messages already written to the inbox, by SHA-256 of their bytes and by Message-ID."""

    def __init__(self, folder: Path):
        self.folder = private_dir(folder)

    @staticmethod
    def _keys(sha256: str, message_id: str | None) -> list[str]:
        keys = [f"sha-{sha256}"]
        if message_id:
            keys.append("mid-" + hashlib.sha256(message_id.strip().encode()).hexdigest())
        return keys

    def seen(self, sha256: str, message_id: str | None) -> bool:
        return any((self.folder / key).exists() for key in self._keys(sha256, message_id))

    def add(self, sha256: str, message_id: str | None) -> None:
        for key in self._keys(sha256, message_id):
            write_atomically(self.folder / key, b"")


def _message_id(raw: bytes) -> str | None:
    headers = BytesHeaderParser().parsebytes(raw[:65536])
    value = headers.get("Message-ID")
    return str(value).strip() if value else None


def _connect(settings: Settings) -> MailBox:
    if not settings.imap_host or not settings.imap_user:
        raise MailFetchError("No mailbox is configured (COFORMS_IMAP_HOST and COFORMS_IMAP_USER).")
    if settings.imap_oauth2_token is None and settings.imap_password is None:
        raise MailFetchError("No IMAP password or OAuth2 token is configured.")
    context = ssl.create_default_context(cafile=str(settings.imap_ca_file) if settings.imap_ca_file else None)
    box_class = MailBox if settings.imap_security == "ssl" else MailBoxStartTls
    try:
        box = box_class(settings.imap_host, settings.imap_port, timeout=settings.imap_timeout, ssl_context=context)
    except Exception as exc:  # before any login: the network, the name, the certificate
        raise MailFetchError(_connection_failure(settings, exc)) from exc
    box.email_message_class = RawMailMessage
    try:
        if settings.imap_oauth2_token is not None:
            box.xoauth2(settings.imap_user, settings.imap_oauth2_token.get_secret_value(), settings.imap_folder)
        else:
            box.login(settings.imap_user, settings.imap_password.get_secret_value(), settings.imap_folder)
    except MailboxLoginError as exc:  # never echo credentials: name the server and the account only
        raise MailFetchError(
            f"{settings.imap_host} refused the login of {settings.imap_user}: check the setting imap_user and "
            "the password (or OAuth2 token)."
        ) from exc
    except Exception as exc:
        raise MailFetchError(
            f"Could not log in to {settings.imap_host}:{settings.imap_port} as "
            f"{settings.imap_user} ({type(exc).__name__})."
        ) from exc
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


def inbox_name(raw: bytes, sha256: str) -> str:
    """A stable name per message, so a second fetch of the same message lands on the same file."""
    return f"mail-{sha256[:20]}.eml"


def _mark_settled(path: Path, settle_seconds: float) -> None:
    """Date a message written whole (by atomic rename) just past the inbox's settling time, so the
    run that follows this fetch takes it at once instead of waiting for it to settle."""
    settled = time.time_ns() - int((settle_seconds + 1) * 1e9)
    os.utime(path, ns=(settled, settled), follow_symlinks=False)


def fetch_mail(settings: Settings) -> FetchSummary:
    summary = FetchSummary()
    started = time.perf_counter()
    require_inbox(settings.inbox)  # never made here: a share that is not mounted must not look like an empty one
    ledger = Ledger(settings.outputs / "mail-ledger")
    box = _connect(settings)
    try:
        if not box.folder.exists(settings.imap_processed_folder):
            box.folder.create(settings.imap_processed_folder)
        for message in box.fetch(mark_seen=False, bulk=False):
            raw = message.raw
            sha256 = hashlib.sha256(raw).hexdigest()
            message_id = _message_id(raw)
            if ledger.seen(sha256, message_id):
                summary.already_fetched += 1
            else:
                path = settings.inbox / inbox_name(raw, sha256)
                write_atomically(path, raw)
                _mark_settled(path, settings.settle_seconds)
                ledger.add(sha256, message_id)
                summary.fetched += 1
            box.move(message.uid, settings.imap_processed_folder)
            log.info("fetched message uid %s (%s)", message.uid, sha256[:12])
    except MailFetchError:
        raise
    except Exception as exc:
        raise MailFetchError(
            f"The connection to {settings.imap_host} failed during the fetch "
            f"({type(exc).__name__}); what was fetched is kept, the rest stays on the server."
        ) from exc
    finally:
        with contextlib.suppress(Exception):  # the server may already be gone
            box.logout()
    summary.seconds = time.perf_counter() - started
    return summary
