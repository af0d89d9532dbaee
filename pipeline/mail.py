"""Emails (.eml, Outlook .msg) -> one Attachment per form they carry, with who sent what.

Walks every MIME part once (a forwarded email's parts included, via its message/rfc822
part), opens winmail.dat (TNEF), skips message bodies and inline pictures (signature logos),
and keeps the sender, subject, date and Message-ID with each attachment. An email with no
attachment, or from a sender not on the allowlist, becomes one record with that problem, so
the admin can chase it: nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from pipeline.ingest import Attachment, Provenance
from pipeline.problems import ProblemCode, make_problem

_HEADER = re.compile(rb"^(From|Date|Subject|Message-ID|MIME-Version|Received|Return-Path|To):", re.IGNORECASE | re.M)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
MAX_NAME = 150


def looks_like_email(data: bytes) -> bool:
    """An RFC 822 message: its header block names at least three of the usual headers."""
    head = data[:8192].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = {m.group(1).lower() for m in _HEADER.finditer(head)}
    return len(found) >= 3 and (b"from" in found or b"received" in found)


def safe_file_name(name: str | None, fallback: str) -> str:
    """An attachment's name made safe to show and store: no folders, no control characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # "../../x.docx" -> "x.docx"
    name = _UNSAFE.sub("_", name).strip(" ._")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot else name[:MAX_NAME]
    return name or fallback


def _sender(message) -> str | None:
    try:
        addresses = getaddresses([str(message.get("From", ""))])
    except Exception:  # a malformed header: keep what is there rather than fail the email
        return str(message.get("From", ""))[:200] or None
    address = next((a for _, a in addresses if a), "")
    return address.lower() or None


def _date(message) -> dt.datetime | None:
    try:
        value = parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _tnef_files(data: bytes) -> list[tuple[str, bytes]]:
    from tnefparse import TNEF

    try:
        tnef = TNEF(data)
    except Exception:
        return [("winmail.dat", data)]  # kept whole: it will be listed as unreadable, not lost
    files = []
    for n, attachment in enumerate(tnef.attachments, start=1):
        name = attachment.long_filename() or attachment.name
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        files.append((safe_file_name(name, f"attachment-{n}"), attachment.data))
    return files


def _is_decoration(part) -> bool:
    """An inline picture (a signature logo, a pasted image) rather than an attached form."""
    return part.get_content_maintype() == "image" and (
        part.get_content_disposition() == "inline" or (part.get("Content-ID") and not part.get_filename()))


def _files(message: EmailMessage) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    for part in message.walk():  # walk() also enters attached (forwarded) messages, once
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        name = part.get_filename()
        disposition = part.get_content_disposition()
        if disposition != "attachment" and not name:
            continue  # a body (text or HTML), not a file
        if _is_decoration(part):
            continue
        payload = part.get_payload(decode=True) or b""
        fallback = f"attachment-{len(files) + 1}"
        if part.get_content_type() == "application/ms-tnef" or (name or "").lower() == "winmail.dat":
            files += _tnef_files(payload)
        else:
            files.append((safe_file_name(name, fallback), payload))
    return files


def read_eml(data: bytes, container_name: str, received_fallback: dt.datetime | None = None
             ) -> tuple[Provenance, list[tuple[str, bytes]]]:
    message = BytesParser(policy=policy.default).parsebytes(data)
    provenance = Provenance(
        source_file=container_name, container_file=container_name, sender=_sender(message),
        subject=str(message.get("Subject", "") or "")[:500] or None,
        received_at=_date(message) or received_fallback,
        message_id=str(message.get("Message-ID", "") or "").strip() or None)
    try:
        files = _files(message)
    except Exception:  # MIME too broken to take apart: keep the whole email as one file
        files = [(container_name, data)]
    return provenance, files


def read_msg(data: bytes, container_name: str, received_fallback: dt.datetime | None = None
             ) -> tuple[Provenance, list[tuple[str, bytes]]] | None:
    """An Outlook .msg, with the optional extract-msg (GPL, so an extra); None without it."""
    try:
        import extract_msg
    except ImportError:
        return None
    message = extract_msg.openMsg(data)
    try:
        sender = getaddresses([message.sender or ""])[0][1].lower() or None
        date = message.date if isinstance(message.date, dt.datetime) else None
        provenance = Provenance(container_name, container_name, sender, message.subject or None,
                                date or received_fallback, getattr(message, "messageId", None))
        files = []
        for n, attachment in enumerate(message.attachments, start=1):
            data_ = getattr(attachment, "data", None)
            if isinstance(data_, bytes):
                name = attachment.longFilename or attachment.shortFilename
                files.append((safe_file_name(name, f"attachment-{n}"), data_))
        return provenance, files
    finally:
        message.close()


def email_attachments(provenance: Provenance, files: list[tuple[str, bytes]], data: bytes,
                      sender_allowed: Callable[[str | None], bool]) -> list[Attachment]:
    """The Attachments an email yields, or one record of why it yields none."""
    if not sender_allowed(provenance.sender):
        problem = make_problem(ProblemCode.SENDER_NOT_ALLOWED,
                               f"Email from {provenance.sender or 'an unknown sender'} was quarantined unopened.")
        return [Attachment(data, provenance, problem)]
    if not files:
        problem = make_problem(ProblemCode.NO_ATTACHMENT,
                               f"The email '{provenance.subject or '(no subject)'}' has no form attached.")
        return [Attachment(data, provenance, problem)]
    return [Attachment(content, replace(provenance, source_file=name)) for name, content in files]


def sender_allowlist(allowed: list[str]) -> Callable[[str | None], bool]:
    """Addresses (jo@example.org) or domains (camden.gov.uk, also its subdomains); empty allows all."""
    entries = [a.strip().lower().lstrip("@") for a in allowed if a.strip()]
    if not entries:
        return lambda _sender: True

    def allowed_sender(sender: str | None) -> bool:
        if not sender or "@" not in sender:
            return False
        domain = sender.rsplit("@", 1)[1]
        return any(sender == e if "@" in e else (domain == e or domain.endswith("." + e)) for e in entries)
    return allowed_sender
