"""Mailboxes (.mbox): every email in the file, each with its own sender, subject and date.

A mailbox saved from a mail program holds many emails one after another; reading only the
first would lose the forms in the others without a trace (issue 16). The file is split as
the standard library's `mailbox.mbox` splits one (every line that starts with "From " begins
an email), here on bytes already read, so the file is opened once and never by path again.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

from pipeline.intake.inbox import internal_error
from pipeline.intake.mail import email_attachments, read_eml
from pipeline.problems import ProblemCode, make_problem
from pipeline.records import Attachment, Provenance


def split_mbox(data: bytes) -> list[bytes]:
    """The emails of an mbox file, without their "From " separator lines; [] if the file does
    not start with one (it is not a mailbox that can be split)."""
    if not data.startswith(b"From "):
        return []
    emails: list[list[bytes]] = []
    for line in io.BytesIO(data):  # lines end at b"\n" only, as mailbox.mbox reads them
        if line.startswith(b"From "):
            emails.append([])
        else:
            emails[-1].append(line)
    return [b"".join(lines) for lines in emails]


def mailbox_attachments(
    data: bytes, name: str, received: dt.datetime | None, sender_allowed: Callable[[str | None], bool]
) -> list[Attachment]:
    """Every attachment of every email in the mailbox (each with its email's provenance), or
    the whole file refused with a problem when it cannot be split into emails."""
    emails = split_mbox(data)
    if not emails:
        problem = make_problem(
            ProblemCode.CORRUPT_FILE,
            f"'{name}' is named as a mailbox but could not be split into emails; none of it was read.",
        )
        return [Attachment(data, Provenance(name, name, received_at=received), problem)]
    found = []
    for number, raw in enumerate(emails, start=1):
        label = name if len(emails) == 1 else f"{name} (email {number} of {len(emails)})"
        try:
            provenance, files = read_eml(raw, label, received)
            provenance = Provenance(
                label, name, provenance.sender, provenance.subject, provenance.received_at, provenance.message_id
            )
            found += email_attachments(provenance, files, raw, sender_allowed)
        except Exception as exc:  # noqa: BLE001 - one email's failure is recorded; the others are still read
            found.append(
                Attachment(raw, Provenance(label, name, received_at=received), internal_error(exc, "this email"))
            )
    return found
