"""Problems are data: every code, its default severity, and what it means for an admin.

Codes are stable snake_case strings (extend the list, never rename one): the warehouse,
the exceptions workbook and the admin's habits all key on them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    ERROR = "error"  # held out of the warehouse until corrected
    WARNING = "warning"  # loaded, and flagged in the exceptions report


class ProblemCode(StrEnum):
    MISSING_REQUIRED = "missing_required"
    INVALID_DATE = "invalid_date"
    FUTURE_DATE = "future_date"
    BLANK_SECTION = "blank_section"
    NOT_ANSWERED = "not_answered"
    AMBIGUOUS_ANSWER = "ambiguous_answer"
    PROJECT_UNKNOWN = "project_unknown"
    INVALID_OPTION = "invalid_option"
    UNPARSEABLE_DURATION = "unparseable_duration"
    UNIT_ASSUMED = "unit_assumed"
    INVALID_AMOUNT = "invalid_amount"
    OVER_CAP = "over_cap"
    UNSIGNED = "unsigned"
    INCOMPLETE_ROW = "incomplete_row"
    TOTAL_MISMATCH = "total_mismatch"
    POSSIBLE_DUPLICATE_CLAIM = "possible_duplicate_claim"
    UNKNOWN_FORM = "unknown_form"
    CORRUPT_FILE = "corrupt_file"
    ENCRYPTED = "encrypted"
    SCANNED_DOCUMENT = "scanned_document"
    LEGACY_FORMAT = "legacy_format"
    UNSUPPORTED_FORMAT = "unsupported_format"
    TOO_LARGE = "too_large"
    NO_ATTACHMENT = "no_attachment"
    SENDER_NOT_ALLOWED = "sender_not_allowed"
    INTERNAL_ERROR = "internal_error"
    NOT_A_FILE = "not_a_file"
    OCR_UNCONFIRMED = "ocr_unconfirmed"
    OCR_READ = "ocr_read"
    TICK_MISMATCH = "tick_mismatch"


class CodeInfo(NamedTuple):
    severity: Severity
    meaning: str  # what is wrong, in plain English
    ask_sender: str  # what the admin should ask the sender to do


E, W = Severity.ERROR, Severity.WARNING
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # shown to the admin, stored (PostgreSQL refuses NUL)

CATALOGUE: dict[ProblemCode, CodeInfo] = {
    ProblemCode.MISSING_REQUIRED: CodeInfo(
        E,
        "A question that must be answered was left blank.",
        "Please fill in the missing answer and send the form again.",
    ),
    ProblemCode.INVALID_DATE: CodeInfo(
        E,
        "A date could not be read as a real day, month and year.",
        "Please write the date as day/month/year, for example 03/04/2025, and send the form again.",
    ),
    ProblemCode.FUTURE_DATE: CodeInfo(
        E,
        "A date is in the future, which cannot be right for something that already happened.",
        "Please check the date (day first, then month) and send the form again.",
    ),
    ProblemCode.BLANK_SECTION: CodeInfo(
        W,
        "A section of the form was left empty.",
        "If there is something to add to this section, please send an updated form.",
    ),
    ProblemCode.NOT_ANSWERED: CodeInfo(
        W,
        "A statement has no box ticked.",
        "If the person wants to score this statement, please tick one box and send the form again.",
    ),
    ProblemCode.AMBIGUOUS_ANSWER: CodeInfo(
        E,
        "More than one box is ticked where only one answer is allowed.",
        "Please leave exactly one box ticked for this question and send the form again.",
    ),
    ProblemCode.PROJECT_UNKNOWN: CodeInfo(
        E,
        "The form does not say which project it is about, so it cannot be linked to one.",
        "Please add the project name at the top of the form and send it again.",
    ),
    ProblemCode.INVALID_OPTION: CodeInfo(
        E,
        "An answer is not one of the options the form offers.",
        "Please choose one of the options printed on the form and send it again.",
    ),
    ProblemCode.UNPARSEABLE_DURATION: CodeInfo(
        E,
        "The time spent could not be understood.",
        "Please write the time spent like '2 hours', '90 mins' or '1:30' and send the sheet again.",
    ),
    ProblemCode.UNIT_ASSUMED: CodeInfo(
        W,
        "The time spent was a bare number, so it was read as hours.",
        "If the number was not in hours, please correct it (for example '90 mins') and resend.",
    ),
    ProblemCode.INVALID_AMOUNT: CodeInfo(
        E,
        "A voucher amount is not a valid amount of money above zero.",
        "Please write the voucher amount in pounds and pence, for example £10.00, and resend.",
    ),
    ProblemCode.OVER_CAP: CodeInfo(
        W,
        "A voucher amount is above the usual limit for one line.",
        "Please confirm this amount is correct (or correct it) before finance signs off.",
    ),
    ProblemCode.UNSIGNED: CodeInfo(
        W,
        "A voucher line has no signature from the person who received it.",
        "Please ask the recipient to sign for the voucher and send the signed sheet.",
    ),
    ProblemCode.INCOMPLETE_ROW: CodeInfo(
        E,
        "A row of the voucher table is only partly filled in.",
        "Please complete the name, date, activity, time spent and amount on this row, or delete it, and resend.",
    ),
    ProblemCode.TOTAL_MISMATCH: CodeInfo(
        E,
        "The total written on the sheet is not the sum of the voucher amounts.",
        "Please check each amount and the total, correct the sheet and send it again.",
    ),
    ProblemCode.POSSIBLE_DUPLICATE_CLAIM: CodeInfo(
        W,
        "The same person, date and activity appears more than once, so a voucher may have been claimed twice.",
        "Please confirm whether this is a second voucher or a repeat of one already sent.",
    ),
    ProblemCode.UNKNOWN_FORM: CodeInfo(
        E,
        "The file is readable but is not one of the four co-production forms.",
        "Please send the completed form using the current co-production template.",
    ),
    ProblemCode.CORRUPT_FILE: CodeInfo(
        E,
        "The file is damaged or incomplete and could not be opened.",
        "Please save the form again and send a fresh copy.",
    ),
    ProblemCode.ENCRYPTED: CodeInfo(
        E,
        "The file is protected by a password, so it cannot be read.",
        "Please remove the password (save an unprotected copy) and send it again.",
    ),
    ProblemCode.SCANNED_DOCUMENT: CodeInfo(
        E,
        "The file is a scan or photo in which no form could be recognised (too blurred, too small, "
        "cut off, or not one of the four forms).",
        "Please scan the whole page again at 300 dpi (or photograph it flat, from straight above, in good "
        "light), or send the Word or Excel file if there is one.",
    ),
    ProblemCode.LEGACY_FORMAT: CodeInfo(
        E,
        "The file is in an old Office format that cannot be read here.",
        "Please save the form as .docx or .xlsx (File > Save As) and send it again.",
    ),
    ProblemCode.UNSUPPORTED_FORMAT: CodeInfo(
        E,
        "What is inside the file is not a Word, Excel or PDF document, nor a scan or photo, whatever its name says.",
        # the sender may have sent a file named .xlsx already: "send it as .xlsx" would not help
        "Please open the form on your computer, save it again as Word (.docx), Excel (.xlsx) or PDF, and send "
        "that new copy. Renaming a file does not change what is inside it; if its name already ends in .docx, "
        ".xlsx or .pdf, it was probably damaged on the way.",
    ),
    ProblemCode.TOO_LARGE: CodeInfo(
        E,
        "The file is larger than the pipeline accepts.",
        "Please send the form on its own, without large pictures, or split it into smaller files.",
    ),
    ProblemCode.NO_ATTACHMENT: CodeInfo(
        E, "An email arrived with no form attached.", "Please reply with the completed form attached."
    ),
    ProblemCode.SENDER_NOT_ALLOWED: CodeInfo(
        E,
        "The email came from an address that is not on the list of allowed senders; it was not opened.",
        "Please check who this is; if they should be able to send forms, add them to the allowed senders.",
    ),
    ProblemCode.INTERNAL_ERROR: CodeInfo(
        E,
        "Something in this file made the pipeline itself fail; the file has been kept for the developers.",
        "Nothing yet: the team is looking at it. If the form is urgent, please send it again as .docx or .xlsx.",
    ),
    ProblemCode.NOT_A_FILE: CodeInfo(
        E,
        "The inbox held a link, a pipe or a device instead of an ordinary file; it was not opened.",
        "Please put the form itself in the inbox (not a shortcut or link to it).",
    ),
    ProblemCode.OCR_UNCONFIRMED: CodeInfo(
        E,
        "A value on a scanned or photographed form could not be read for certain (the two readings "
        "differ, the lines do not add up, a mark is faint, or it is handwriting); the form is held "
        "until someone looks at the picture of that spot and confirms or corrects it.",
        "Usually nothing: look at the picture named in the message and correct the value. If the scan is "
        "unclear, ask the sender to scan the page again at 300 dpi, flat and from straight above.",
    ),
    ProblemCode.OCR_READ: CodeInfo(
        W,
        "The form was read from a scan or photo by text recognition; its values were checked twice but "
        "are worth a glance against the original.",
        "Nothing. A typed Word or Excel copy, where there is one, is always read exactly.",
    ),
    ProblemCode.TICK_MISMATCH: CodeInfo(
        W,
        "A Word tick box shows a tick (or a cross) while the box itself is recorded as not ticked, or the "
        "other way round; the answer was taken as the box looks on the page.",
        "Nothing, if the answer shown is the one meant. To be sure, click the box off and on again in Word "
        "and send the form again.",
    ),
}


class Problem(BaseModel):
    """One thing wrong with one submission, and where it was found."""

    model_config = ConfigDict(frozen=True)

    severity: Severity
    code: ProblemCode
    message: str
    field: str | None = None
    location: str | None = None
    value: str | None = None

    @property
    def ask_sender(self) -> str:
        return CATALOGUE[self.code].ask_sender


def make_problem(
    code: ProblemCode,
    message: str | None = None,
    *,
    field: str | None = None,
    location: object | None = None,
    value: object | None = None,
    severity: Severity | None = None,
) -> Problem:
    """A Problem with the catalogue's severity unless told otherwise."""
    info = CATALOGUE[code]
    shown = None if value is None else _CONTROL.sub(" ", str(value))
    if shown is not None and len(shown) > 200:
        shown = shown[:197] + "..."
    return Problem(
        severity=severity or info.severity,
        code=code,
        message=_CONTROL.sub(" ", message) if message else info.meaning,
        field=field,
        location=None if location is None else str(location),
        value=shown,
    )


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity is Severity.ERROR for p in problems)
