"""Reply drafts to the people whose emailed forms have problems, in plain English.

One draft per email (not per form), to its sender, as a reply in the same thread: which
form, what is wrong, where, what to change, and how to send it again. Drafts are written to
OUTPUTS/replies/ for the admin to check; sending them by SMTP is a setting, off by default.
Never to senders who are not on the allowlist.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from pipeline.files import private_dir, write_atomically
from pipeline.forms.where import WHOLE_FILE, where_in_words
from pipeline.intake.mail import safe_file_name
from pipeline.problems import CATALOGUE, ProblemCode
from pipeline.records import MAX_SUBJECT, clean_header_text
from pipeline.reports import queries
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse
from pipeline.validate.ocr import without_picture_note

log = logging.getLogger(__name__)

# RFC 5322 msg-id, printable ASCII only: anything else is not echoed into In-Reply-To
_MSG_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-Z^-~]+>")
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")  # an address a reply can go to

FORM_NAMES = {
    "planning": "project planning form",
    "evaluation": "project evaluation form",
    "monitoring": "monitoring form",
    "voucher": "attendance and voucher sheet",
    None: "file",
}


@dataclass
class _Form:
    source_file: str
    form_type: str | None
    status: str
    problems: list[tuple] = field(default_factory=list)  # (severity, code, message, where in words, value)


@dataclass
class _Email:
    container_file: str
    sender: str
    subject: str | None
    message_id: str | None
    received_at: dt.datetime | None
    forms: list[_Form] = field(default_factory=list)


def _emails_with_problems(warehouse: Warehouse, submission_ids: list[int]) -> list[_Email]:
    """The emails whose forms have open problems, each with its forms. An email is its container
    file and its own sender, subject and Message-ID: a mailbox (.mbox) holds several emails, and
    one sender must never be sent another's problems."""
    if not submission_ids:
        return []
    rows = queries.open_problems_of_emails(warehouse, submission_ids)
    emails: dict[tuple, _Email] = {}
    forms: dict[int, _Form] = {}
    for (
        container,
        sender,
        subject,
        message_id,
        received,
        submission_id,
        source,
        form_type,
        status,
        severity,
        code,
        message,
        location,
        value,
        field_path,
    ) in rows:
        email = emails.setdefault(
            (container, sender, subject, message_id), _Email(container, sender, subject, message_id, received)
        )
        if submission_id not in forms:
            forms[submission_id] = _Form(source, form_type, status)
            email.forms.append(forms[submission_id])
        where = where_in_words(form_type, field_path, location)
        forms[submission_id].problems.append((severity, code, message, where, value))
    return list(emails.values())


def _body(email: _Email) -> str:
    when = f" on {email.received_at:%d/%m/%Y}" if email.received_at else ""
    subject = clean_header_text(email.subject, MAX_SUBJECT) or "(no subject)"
    lines = [
        "Hello,",
        "",
        f'Thank you for your email "{subject}"{when}. We have read what you sent; '
        "some of it needs your help before we can use it:",
        "",
    ]
    for n, form in enumerate(email.forms, start=1):
        if form.status == "held":
            verdict = "we cannot use it yet"
        elif form.status == "rejected":
            verdict = "we could not read it"
        else:
            verdict = "we have used it, but please check"
        if form.problems and form.problems[0][1] == ProblemCode.NO_ATTACHMENT.value:
            lines.append(f"{n}. Your email had no form attached.")
        else:
            lines.append(f'{n}. "{form.source_file}" ({FORM_NAMES.get(form.form_type, "file")}): {verdict}.')
        for _severity, code, message, where, value in form.problems:
            lines.append(f"   - {without_picture_note(message)}")
            details = []
            if where != WHOLE_FILE:  # "where: the whole file" tells the sender nothing
                details.append(f"where: {where}")
            if value and code != ProblemCode.NO_ATTACHMENT.value:
                details.append(f'we found: "{value}"')
            if details:
                lines.append(f"     ({'; '.join(details)})")
            lines.append(f"     What to do: {CATALOGUE[ProblemCode(code)].ask_sender}")
        lines.append("")
    lines += [
        "How to send it again: reply to this email with the corrected file attached. You can keep the "
        'same file name, or add "corrected" to it.',
        "",
        "Many thanks,",
        "Co-production team, Adult Social Care",
    ]
    return "\n".join(lines) + "\n"


class UnrepliableEmail(ValueError):
    """The stored sender is not an address a reply can be sent to."""


def _draft(email: _Email, settings: Settings) -> EmailMessage:
    """The reply. Every value from the sender's email is cleaned first: a CR/LF in a stored
    subject or Message-ID would otherwise start a header of its own (and makes the email
    package refuse the draft)."""
    if not _ADDRESS.fullmatch(email.sender or ""):
        raise UnrepliableEmail("the sender is not an email address")
    message = EmailMessage()
    message["From"] = settings.reply_from
    message["To"] = email.sender
    subject = clean_header_text(email.subject, MAX_SUBJECT) or "your forms"
    message["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid(domain=settings.reply_from.rsplit("@", 1)[-1])
    message_id = (email.message_id or "").strip()
    if _MSG_ID.fullmatch(message_id):  # only a clean msg-id threads the reply
        message["In-Reply-To"] = message_id
        message["References"] = message_id
    message.set_content(_body(email), cte="8bit")  # readable as a file, too
    return message


def _draft_name(name: str, taken: set[str]) -> str:
    """`name`, or `name-2`, `name-3`... when this run has a draft of that name already (the
    emails of one mailbox file share its name)."""
    unique, n = name, 1
    while unique in taken:
        n += 1
        unique = f"{name}-{n}"
    taken.add(unique)
    return unique


def write_reply_drafts(warehouse: Warehouse, submission_ids: list[int], settings: Settings) -> list[Path]:
    """One draft per email with problems. Each is written on its own: one that cannot be written
    is logged and skipped, and the others are still written (the run has committed by now)."""
    folder = private_dir(settings.outputs / "replies")
    written = []
    names: set[str] = set()
    for email in _emails_with_problems(warehouse, submission_ids):
        try:
            name = _draft_name(safe_file_name(Path(email.container_file).stem, "email"), names)
            path = folder / f"reply-to-{name}.eml"
            write_atomically(path, bytes(_draft(email, settings)))
        except Exception as exc:  # noqa: BLE001 - one email's reply never costs the others theirs
            log.warning("No reply draft for %s: %s (%s)", email.container_file, exc, type(exc).__name__)
            continue
        written.append(path)
    if settings.send_replies and written:
        send_drafts(written, settings)
    return written


def send_drafts(drafts: list[Path], settings: Settings) -> int:
    """Send the drafts by SMTP; each sent one moves to replies/sent/ so it is never sent twice."""
    from email import policy
    from email.parser import BytesParser

    if not settings.smtp_host:
        raise RuntimeError("send_replies is on but no smtp_host is configured")
    sent_folder = private_dir(drafts[0].parent / "sent")
    context = ssl.create_default_context(cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None)
    smtp_class = smtplib.SMTP_SSL if settings.smtp_security == "ssl" else smtplib.SMTP
    kwargs = {"context": context} if settings.smtp_security == "ssl" else {}
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=60, **kwargs) as smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        sent = 0
        for draft in drafts:
            try:
                smtp.send_message(BytesParser(policy=policy.default).parsebytes(draft.read_bytes()))
            except smtplib.SMTPRecipientsRefused:  # this address only: the draft stays for the admin
                log.warning("The mail server refused the recipient of %s; it was not sent", draft.name)
                continue
            draft.replace(sent_folder / draft.name)
            sent += 1
    return sent
