"""What every way of fetching mail shares: the ledger of messages already written to the inbox.

For each message: write its raw bytes into inbox/ as an .eml (atomic, fsynced), note it in the
ledger, and only then move it to the processed folder on the server. A crash between the steps
leaves the message on the server; the next fetch finds it in the ledger (by SHA-256 of its bytes,
or by its Message-ID) and only moves it, so nothing is lost or loaded twice.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path

from pipeline.files import private_dir, write_atomically
from pipeline.settings import Settings


class MailFetchError(Exception):
    """The mailbox could not be read: login refused, server unreachable or gone. The message says
    what is wrong and which setting to look at, and never holds a secret."""

    plain_prefix = "Fetching mail failed: "


@dataclass
class FetchSummary:
    fetched: int = 0  # written into the inbox
    already_fetched: int = 0  # seen before (a crash before the move): only moved now
    moved: int = 0  # moved to the processed folder on the server
    seconds: float = 0.0
    source: str = ""  # which mailbox, and how it was reached (for the `fetch` output)


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


def ledger_for(settings: Settings) -> Ledger:
    return Ledger(settings.outputs / "mail-ledger")


def message_id(raw: bytes) -> str | None:
    headers = BytesHeaderParser().parsebytes(raw[:65536])
    value = headers.get("Message-ID")
    return str(value).strip() if value else None


def inbox_name(raw: bytes, sha256: str) -> str:
    """A stable name per message, so a second fetch of the same message lands on the same file."""
    return f"mail-{sha256[:20]}.eml"


def _mark_settled(path: Path, settle_seconds: float) -> None:
    """Date a message written whole (by atomic rename) just past the inbox's settling time, so the
    run that follows this fetch takes it at once instead of waiting for it to settle."""
    settled = time.time_ns() - int((settle_seconds + 1) * 1e9)
    os.utime(path, ns=(settled, settled), follow_symlinks=False)


def keep(raw: bytes, settings: Settings, ledger: Ledger, summary: FetchSummary) -> str:
    """Write a message into the inbox and note it in the ledger, unless the ledger has it already
    (then it was written before a crash and only needs moving). Returns its SHA-256.
    The caller moves it on the server only after this returns."""
    sha256 = hashlib.sha256(raw).hexdigest()
    mid = message_id(raw)
    if ledger.seen(sha256, mid):
        summary.already_fetched += 1
    else:
        path = settings.inbox / inbox_name(raw, sha256)
        write_atomically(path, raw)
        _mark_settled(path, settings.settle_seconds)
        ledger.add(sha256, mid)
        summary.fetched += 1
    return sha256
