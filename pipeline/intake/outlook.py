"""Outlook .msg emails, read with the optional extract-msg (GPL, so an extra).

Real .msg files come without a sender (a draft, a sticky note), damaged, with attachments
extract-msg cannot take out, or with another Outlook item attached: each of these is read as
far as it can be, and whatever cannot be read is recorded with a problem (issue 16).
"""

from __future__ import annotations

import datetime as dt

from pipeline.intake.mail import (
    MAX_NESTING,
    EmailFile,
    address_in,
    files_within,
    nested_too_deep,
    no_attachment_inside,
    safe_file_name,
)
from pipeline.problems import ProblemCode, make_problem
from pipeline.records import Provenance


def _value(item, name: str):
    """A property of an extract-msg object, or None if reading it fails (they are computed lazily
    from the file, so a damaged stream raises only when asked for)."""
    try:
        return getattr(item, name, None)
    except Exception:  # noqa: BLE001
        return None


def _date(message) -> dt.datetime | None:
    value = _value(message, "date")
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        return None
    return value


# where Outlook keeps the sender's address: SMTP address, then the sender's and the "on behalf
# of" email addresses (these two can be an Exchange path with no address in it)
_SENDER_STREAMS = ("__substg1.0_5D01", "__substg1.0_0C1F", "__substg1.0_5D02", "__substg1.0_0065")
_PICTURE = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".emf", ".wmf")


def _sender(message) -> str | None:
    """The sender's address: from the sender line when it holds one, else from the streams
    Outlook keeps it in; None for an item with no sender (a draft, a sticky note)."""
    found = address_in(_value(message, "sender"))
    for stream in _SENDER_STREAMS:
        if found:
            break
        try:
            found = address_in(message.getStringStream(stream))
        except Exception:  # noqa: BLE001 - a damaged stream: try the next
            continue
    return found


def _is_decoration(attachment, name: str) -> bool:
    """A picture shown inside the message body (a signature logo), hidden from the attachment list."""
    mimetype = str(_value(attachment, "mimetype") or "")
    return bool(_value(attachment, "hidden")) and (mimetype.startswith("image/") or name.lower().endswith(_PICTURE))


def _damaged(name: str, data: bytes) -> EmailFile:
    return EmailFile(
        name,
        data,
        make_problem(
            ProblemCode.CORRUPT_FILE, f"'{name}' is an Outlook email that is damaged; it could not be opened."
        ),
    )


def _item_bytes(message) -> bytes:
    """An attached Outlook item as a .msg of its own, so its record keeps what it held."""
    try:
        return message.exportBytes()
    except Exception:  # noqa: BLE001 - extract-msg could open it but not write it out
        return b""


def _embedded_files(message, name: str, depth: int) -> list[EmailFile]:
    """The files of an Outlook item attached to an Outlook email (already opened by extract-msg)."""
    if depth > MAX_NESTING:
        return [EmailFile(name, _item_bytes(message), nested_too_deep(name))]
    return _files(message, depth) or [EmailFile(name, _item_bytes(message), no_attachment_inside(name))]


def _files(message, depth: int) -> list[EmailFile]:
    from extract_msg.msg_classes import MSGFile

    files: list[EmailFile] = []
    for n, attachment in enumerate(_value(message, "attachments") or [], start=1):
        data = _value(attachment, "data")
        if isinstance(data, MSGFile):  # an email (or other Outlook item) attached to this one
            name = safe_file_name(_value(attachment, "name"), f"attachment-{n}.msg")
            files += _embedded_files(data, name, depth + 1)
            continue
        name = safe_file_name(
            _value(attachment, "longFilename") or _value(attachment, "shortFilename") or _value(attachment, "name"),
            f"attachment-{n}",
        )
        if _is_decoration(attachment, name):
            continue
        if isinstance(data, bytes):
            files += files_within(name, data, depth)  # an .eml or .msg attached as a file is opened too
        else:  # a link to a file online, or an attachment extract-msg cannot take out: recorded, not lost
            files.append(
                EmailFile(
                    name,
                    b"",
                    make_problem(
                        ProblemCode.UNSUPPORTED_FORMAT,
                        f"'{name}' in this Outlook email is not a file that could be taken out (for example a link).",
                    ),
                )
            )
    return files


def read_msg(
    data: bytes, container_name: str, received_fallback: dt.datetime | None = None, depth: int = 0
) -> tuple[Provenance, list[EmailFile]] | None:
    """Who sent an Outlook email and the files it holds; None without extract-msg installed.
    A file extract-msg cannot open is one record with a corrupt_file problem."""
    try:
        import extract_msg
        from extract_msg.enums import ErrorBehavior
    except ImportError:
        return None
    try:
        # tolerant: an attachment extract-msg cannot read comes back as a broken one, which is
        # recorded, instead of the whole email failing to open
        message = extract_msg.openMsg(
            data,
            strict=False,
            errorBehavior=ErrorBehavior.ATTACH_SUPPRESS_ALL
            | ErrorBehavior.STANDARDS_VIOLATION
            | ErrorBehavior.NAMED_NAME_STREAM,
        )
    except Exception:  # noqa: BLE001 - OleFileError, OSError, struct errors...: the file is damaged
        return (
            Provenance(container_name, container_name, received_at=received_fallback),
            [_damaged(container_name, data)],
        )
    try:
        provenance = Provenance(
            container_name,
            container_name,
            _sender(message),
            _value(message, "subject"),
            _date(message) or received_fallback,
            _value(message, "messageId"),
        )
        return provenance, _files(message, depth)
    finally:
        message.close()
