"""Emails (.eml, Outlook .msg, .mbox mailboxes) -> one Attachment per form they carry, with who sent what.

Walks every MIME part once (a forwarded email's parts included, via its message/rfc822
part), opens winmail.dat (TNEF), skips message bodies and inline pictures (signature logos),
and keeps the sender, subject, date and Message-ID with each attachment. An email attached
as a file (an .eml under any content type, an Outlook item inside a .msg) is opened in turn,
up to MAX_NESTING deep, and its forms keep the outer email's provenance. An email with no
attachment, or from a sender not on the allowlist, becomes one record with that problem, so
the admin can chase it: nothing is dropped.

Everything here reads bytes a stranger wrote (issue 16): a header that cannot be decoded, a
date that cannot be placed in UTC, MIME nested a thousand deep or a bug of ours on one email
becomes that email's Problem, never an exception that stops the run.
"""

from __future__ import annotations

import base64
import datetime as dt
import quopri
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime
from typing import NamedTuple

from pipeline.intake.inbox import internal_error
from pipeline.problems import Problem, ProblemCode, make_problem
from pipeline.records import Attachment, Provenance, storable_text

_HEADER = re.compile(rb"^(From|Date|Subject|Message-ID|MIME-Version|Received|Return-Path|To):", re.IGNORECASE | re.M)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_BRACKETED_ADDRESS = re.compile(r"<\s*([^<>\s@]+@[^<>\s@]+)\s*>")
_BARE_ADDRESS = re.compile(r"[\w.!#$%&'*+=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
MAX_NAME = 150
MAX_NESTING = 5  # emails inside emails opened this deep; deeper is a recursion bomb, not a forward


class EmailFile(NamedTuple):
    """One file an email holds; `problem` set when it is recorded rather than read."""

    name: str
    data: bytes
    problem: Problem | None = None


def looks_like_email(data: bytes) -> bool:
    """An RFC 822 message: its header block names at least three of the usual headers."""
    head = data[:8192].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = {m.group(1).lower() for m in _HEADER.finditer(head)}
    return len(found) >= 3 and (b"from" in found or b"received" in found)


def looks_like_mbox(name: str, data: bytes) -> bool:
    """A mailbox of several emails: named .mbox, or an mbox "From " line followed by an email."""
    if name.lower().endswith(".mbox"):
        return True
    return data.startswith(b"From ") and looks_like_email(data.split(b"\n", 1)[-1])


def safe_file_name(name: str | None, fallback: str) -> str:
    """An attachment's name made safe to show and store: no folders, no control characters."""
    name = unicodedata.normalize("NFC", storable_text(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]  # "../../x.docx" -> "x.docx"
    name = _UNSAFE.sub("_", name).strip(" ._")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot else name[:MAX_NAME]
    return name or fallback


# --- headers ---------------------------------------------------------------------------


def _header(message, name: str) -> str | None:
    """A header's decoded text; its raw text when decoding it fails (a malformed header)."""
    try:
        value = message.get(name)
        return None if value is None else str(value)
    except Exception:  # noqa: BLE001 - the email package raises several kinds on hostile headers
        return _raw_header(message, name)


def _raw_header(message, name: str) -> str | None:
    for key, value in message.raw_items():  # as written: nothing decoded, so nothing to fail
        if key.lower() == name.lower():
            return str(value)
    return None


def address_in(text: str | None) -> str | None:
    """The first address in a From header's text, lower case: <in brackets> first, else a bare one."""
    if not text:
        return None
    match = _BRACKETED_ADDRESS.search(text) or _BARE_ADDRESS.search(text)
    return match.group(match.lastindex or 0).lower() if match else None


def _sender(message) -> str | None:
    try:
        header = message.get("From")
        addresses = [a.addr_spec for a in header.addresses] if header is not None else []
    except Exception:  # noqa: BLE001 - e.g. a CR/LF encoded in the display name (ValueError)
        return address_in(_raw_header(message, "From"))
    address = next((a for a in addresses if a and a != "<>"), "")
    return address.lower() or None


def parse_date(text: str | None) -> dt.datetime | None:
    """A Date header as an aware datetime, or None if it is not a date that can be placed in UTC
    (`31 Dec 9999 23:59:59 -2359` overflows when converted)."""
    if not text:
        return None
    try:
        value = parsedate_to_datetime(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value.astimezone(dt.UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return value


def _provenance(message, container_name: str, received_fallback: dt.datetime | None) -> Provenance:
    return Provenance(
        source_file=container_name,
        container_file=container_name,
        sender=_sender(message),
        subject=_header(message, "Subject"),
        received_at=parse_date(_header(message, "Date")) or received_fallback,
        message_id=(_header(message, "Message-ID") or "").strip() or None,
    )


# --- the files an email holds ----------------------------------------------------------


def _tnef_files(data: bytes) -> list[EmailFile]:
    from tnefparse import TNEF

    try:
        tnef = TNEF(data)
    except Exception:  # noqa: BLE001
        return [EmailFile("winmail.dat", data)]  # kept whole: it will be listed as unreadable, not lost
    files = []
    for n, attachment in enumerate(tnef.attachments, start=1):
        name = attachment.long_filename() or attachment.name
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        files.append(EmailFile(safe_file_name(name, f"attachment-{n}"), attachment.data))
    return files


# An inline picture smaller than this is a decoration (a signature logo, an icon); a larger one
# may be a photographed form: iPhone Mail, for one, sends the photos it attaches inline.
MAX_DECORATION_BYTES = 100_000


def _is_decoration(part) -> bool:
    """An inline picture (a signature logo, a small pasted image) rather than an attached form."""
    inline = part.get_content_disposition() == "inline" or (part.get("Content-ID") and not part.get_filename())
    if part.get_content_maintype() != "image" or not inline:
        return False
    return len(part.get_payload(decode=True) or b"") < MAX_DECORATION_BYTES


def _transfer_encoded_message(part) -> bytes | None:
    """The bytes of a message/* part sent base64 or quoted-printable (RFC 2046 forbids it, some
    mail programs do it): the parser takes the encoded text for a message, so decode it here."""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding not in ("base64", "quoted-printable"):
        return None
    inner = part.get_payload()
    encoded = inner[0].as_bytes() if inner else b""
    if encoding == "quoted-printable":
        return quopri.decodestring(encoded)
    alphabet_only = re.sub(rb"[^A-Za-z0-9+/]", b"", encoded)  # leniently, as mail programs decode
    return base64.b64decode(alphabet_only[: len(alphabet_only) - len(alphabet_only) % 4])


def _parts(message: EmailMessage) -> Iterator[tuple[EmailMessage, bytes | None]]:
    """Every leaf part once, depth first (as Message.walk, without its recursion); a message/*
    part that was transfer-encoded comes as (part, its decoded bytes) and is not entered."""
    stack = [message]
    while stack:
        part = stack.pop()
        if part.is_multipart():
            encoded = _transfer_encoded_message(part) if part.get_content_maintype() == "message" else None
            if encoded is not None:
                yield part, encoded
            else:  # a container, a forwarded message/rfc822 included: its parts, in order
                stack.extend(reversed(part.get_payload()))
        else:
            yield part, None


def _files(message: EmailMessage, depth: int) -> list[EmailFile]:
    files: list[EmailFile] = []
    for part, encoded_email in _parts(message):
        name = part.get_filename()
        fallback = f"attachment-{len(files) + 1}"
        if encoded_email is not None:
            files += files_within(safe_file_name(name, f"{fallback}.eml"), encoded_email, depth)
            continue
        disposition = part.get_content_disposition()
        if disposition != "attachment" and not name:
            continue  # a body (text or HTML), not a file
        if _is_decoration(part):
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_content_type() == "application/ms-tnef" or (name or "").lower() == "winmail.dat":
            files += _tnef_files(payload)
        else:
            files += files_within(safe_file_name(name, fallback), payload, depth)
    return files


def _email_kind(name: str, data: bytes) -> str | None:
    """'eml' or 'msg' if an attached file is itself an email, else None (sniffed from its bytes)."""
    from pipeline.read.convert import ole_kind
    from pipeline.read.errors import UnreadableFile
    from pipeline.read.sniff import OLE_SIGNATURE

    if looks_like_email(data) or (name.lower().endswith(".eml") and re.match(rb"[!-9;-~]+:", data)):
        return "eml"
    if data.startswith(OLE_SIGNATURE):
        try:
            return "msg" if ole_kind(data) == "msg" else None
        except UnreadableFile:
            return None
    return None


def files_within(name: str, data: bytes, depth: int) -> list[EmailFile]:
    """An attached file as it is, or, when it is an email itself, the files that email holds.

    `depth` is how deep the email holding this file is nested (0: an inbox file). The inner
    email's own sender and subject are not kept: its forms are recorded as part of the email
    that brought them."""
    kind = _email_kind(name, data)
    if kind is None:
        return [EmailFile(name, data)]
    if depth >= MAX_NESTING:
        return [EmailFile(name, data, nested_too_deep(name))]
    if kind == "eml":
        inner = read_eml(data, name, depth=depth + 1)
    else:
        from pipeline.intake.outlook import read_msg

        inner = read_msg(data, name, depth=depth + 1)
        if inner is None:  # extract-msg is not installed: the reader says why it cannot read it
            return [EmailFile(name, data)]
    _provenance_, files = inner
    return files or [EmailFile(name, data, no_attachment_inside(name))]


def nested_too_deep(name: str) -> Problem:
    return make_problem(
        ProblemCode.UNSUPPORTED_FORMAT,
        f"'{name}' is an email inside emails nested more than {MAX_NESTING} deep; it was not opened.",
    )


def no_attachment_inside(name: str) -> Problem:
    return make_problem(ProblemCode.NO_ATTACHMENT, f"The email '{name}' attached to this one has no form attached.")


def too_deeply_nested(name: str) -> Problem:
    return make_problem(
        ProblemCode.CORRUPT_FILE,
        f"The email '{name}' is built of parts nested too deeply to take apart; it was kept whole.",
    )


def read_eml(
    data: bytes, container_name: str, received_fallback: dt.datetime | None = None, depth: int = 0
) -> tuple[Provenance, list[EmailFile]]:
    """Who sent an email and the files it holds. An email too broken to take apart is one file
    with its problem; its headers are still read when they can be."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
    except RecursionError:  # MIME nested ~1,000 deep: the parser recurses once per level
        headers = BytesHeaderParser(policy=policy.default).parsebytes(data)
        return (
            _provenance(headers, container_name, received_fallback),
            [EmailFile(container_name, data, too_deeply_nested(container_name))],
        )
    provenance = _provenance(message, container_name, received_fallback)
    try:
        files = _files(message, depth)
    except RecursionError:
        files = [EmailFile(container_name, data, too_deeply_nested(container_name))]
    except Exception as exc:  # noqa: BLE001 - our failure on this email: recorded with who sent it
        files = [EmailFile(container_name, data, internal_error(exc, "this email"))]
    return provenance, files


def email_attachments(
    provenance: Provenance, files: list[EmailFile], data: bytes, sender_allowed: Callable[[str | None], bool]
) -> list[Attachment]:
    """The Attachments an email yields, or one record of why it yields none."""
    if not sender_allowed(provenance.sender):
        problem = make_problem(
            ProblemCode.SENDER_NOT_ALLOWED,
            f"Email from {provenance.sender or 'an unknown sender'} was quarantined unopened.",
        )
        return [Attachment(data, provenance, problem)]
    if not files:
        problem = make_problem(
            ProblemCode.NO_ATTACHMENT, f"The email '{provenance.subject or '(no subject)'}' has no form attached."
        )
        return [Attachment(data, provenance, problem)]
    return [Attachment(f.data, replace(provenance, source_file=f.name), f.problem) for f in files]


def attachments_in(
    data: bytes, name: str, received: dt.datetime | None, sender_allowed: Callable[[str | None], bool]
) -> list[Attachment]:
    """What one inbox file holds: the forms of every email in it, or the file itself."""
    from pipeline.read.sniff import OLE_SIGNATURE

    if looks_like_mbox(name, data):
        from pipeline.intake.mbox import mailbox_attachments

        return mailbox_attachments(data, name, received, sender_allowed)
    if name.lower().endswith(".eml") or looks_like_email(data):
        provenance, files = read_eml(data, name, received)
        return email_attachments(provenance, files, data, sender_allowed)
    if data.startswith(OLE_SIGNATURE) and (name.lower().endswith(".msg") or _email_kind(name, data) == "msg"):
        from pipeline.intake.outlook import read_msg

        email = read_msg(data, name, received)
        if email is None:
            problem = make_problem(
                ProblemCode.UNSUPPORTED_FORMAT,
                "An Outlook .msg email; reading these needs the optional 'msg' extra "
                "(pip install 'coforms[msg]'). Ask the sender to attach the form directly.",
            )
            return [Attachment(data, Provenance(name, name, received_at=received), problem)]
        provenance, files = email
        return email_attachments(provenance, files, data, sender_allowed)
    return [Attachment(data, Provenance(source_file=name, received_at=received))]


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
