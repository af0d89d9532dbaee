"""Find what has arrived in the inbox and turn each file into an Attachment with provenance.

Email files (.eml, .msg) are opened here into their attachments (issue: email in); plain
files are one Attachment each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Provenance:
    source_file: str  # the file's own name (an attachment's name, for email)
    container_file: str | None = None  # the email file it came in, if any
    sender: str | None = None
    subject: str | None = None
    received_at: dt.datetime | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class Attachment:
    data: bytes
    provenance: Provenance
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.data).hexdigest())


@dataclass(frozen=True)
class InboxItem:
    """One file in the inbox: removed from there only after everything in it is committed."""

    path: Path
    size: int


def list_inbox(inbox: Path) -> list[InboxItem]:
    """Every file under the inbox, oldest first; hidden files (.gitkeep, editor temp files) skipped."""
    if not inbox.exists():
        return []
    items = []
    for path in inbox.rglob("*"):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(inbox).parts):
            items.append(InboxItem(path, path.stat().st_size))
    items.sort(key=lambda i: (i.path.stat().st_mtime, str(i.path)))
    return items


def received_time(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc)


def attachments_of(item: InboxItem, max_bytes: int) -> list[Attachment] | None:
    """The attachments a file holds: itself, for a plain file. None if it is too large to read."""
    if item.size > max_bytes:
        return None
    data = item.path.read_bytes()
    return [Attachment(data, Provenance(source_file=item.path.name, received_at=received_time(item.path)))]
