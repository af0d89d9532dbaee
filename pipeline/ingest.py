"""Find what has arrived in the inbox and turn each file into an Attachment with provenance.

Email files (.eml, .msg) are opened here into their attachments (issue: email in); plain
files are one Attachment each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.problems import Problem, ProblemCode, make_problem


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
    # decided before reading (no attachment, sender not allowed): recorded, never parsed
    problem: Problem | None = None
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


def attachments_of(item: InboxItem, max_bytes: int,
                   sender_allowed: Callable[[str | None], bool] = lambda _s: True) -> list[Attachment] | None:
    """The attachments a file holds: each attached form for an email, else the file itself.
    None if it is too large to read."""
    from pipeline import mail
    from pipeline.read.convert import ole_kind
    from pipeline.read.errors import UnreadableFile
    from pipeline.read.sniff import OLE_SIGNATURE

    if item.size > max_bytes:
        return None
    data = item.path.read_bytes()
    received = received_time(item.path)
    name = item.path.name
    email = None
    if name.lower().endswith(".eml") or mail.looks_like_email(data):
        email = mail.read_eml(data, name, received)
    elif data.startswith(OLE_SIGNATURE):
        try:
            is_msg = ole_kind(data) == "msg"
        except UnreadableFile:
            is_msg = False
        if is_msg:
            email = mail.read_msg(data, name, received)
            if email is None:
                problem = make_problem(ProblemCode.UNSUPPORTED_FORMAT,
                                       "An Outlook .msg email; reading these needs the optional 'msg' extra "
                                       "(pip install 'coforms[msg]'). Ask the sender to attach the form directly.")
                return [Attachment(data, Provenance(name, name, received_at=received), problem)]
    if email is not None:
        provenance, files = email
        return mail.email_attachments(provenance, files, data, sender_allowed)
    return [Attachment(data, Provenance(source_file=name, received_at=received))]
