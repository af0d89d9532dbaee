"""Parsers for the values people write on forms: UK dates, money, durations, signatures.

Each raises ValueProblem with a stable problem code when the text cannot be read, so the
pydantic types in schemas.types can turn that into a validation error the pipeline maps
back to a Problem.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dateutil import parser as date_parser

PENNY = Decimal("0.01")
MAX_AMOUNT = Decimal("100000000")


class ValueProblem(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------- dates

_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_DEFAULTS = (dt.datetime(1901, 1, 1), dt.datetime(1902, 2, 2))  # see parse_uk_date


def _unwrap_digits(text: str) -> str:
    """PDF exports wrap inside tokens ("12/07/202\\n4"): rejoin digits split by a line break."""
    return re.sub(r"(?<=[\d/.-])[ \t]*\n\s*(?=[\d/.-])", "", text)


def parse_uk_date(value: object) -> dt.date:
    """A date written day first (03/04/2025 is 3 April), in words, ISO, or an Excel date cell."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _unwrap_digits(str(value)).strip()
    if not text:
        raise ValueProblem("missing_required", "The date is blank.")
    if _ISO.match(text):
        try:
            return dt.date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
        except ValueError as exc:
            raise ValueProblem("invalid_date", f"'{text}' is not a real date.") from exc
    # Parse twice with different defaults: any part that comes out different was missing
    # from the text (dateutil would otherwise fill it in silently).
    try:
        first, second = (date_parser.parse(text, dayfirst=True, default=d) for d in _DEFAULTS)
    except (ValueError, OverflowError, date_parser.ParserError) as exc:
        raise ValueProblem("invalid_date", f"'{text}' could not be read as a date (day/month/year).") from exc
    if first.date() != second.date():
        raise ValueProblem("invalid_date", f"'{text}' does not give a full day, month and year.")
    year = first.year
    if year < 100:  # "3rd Apr 25"
        year += 2000
    if year < 1900:
        raise ValueProblem("invalid_date", f"'{text}' has an impossible year.")
    return first.date().replace(year=year)


# ---------------------------------------------------------------- money

_MONEY = re.compile(r"^(?:£|GBP)?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*(?:p|GBP)?$", re.IGNORECASE)


def parse_money(value: object) -> Decimal:
    """An amount in pounds: £10, 10.00, £10.50, 1,000, or a numeric cell; exact, never float."""
    if isinstance(value, bool):
        raise ValueProblem("invalid_amount", f"'{value}' is not an amount of money.")
    if isinstance(value, (int, Decimal)):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))  # the shortest decimal that is this float: what the cell shows
        if amount.is_finite() and abs(amount) < MAX_AMOUNT and abs(amount - amount.quantize(PENNY)) < Decimal("1e-9"):
            amount = amount.quantize(PENNY)  # a spreadsheet sum's binary noise (10.299999999999999)
    else:
        text = "".join(str(value).split())  # "£20.0\n0" from a wrapped PDF cell
        if not text:
            raise ValueProblem("missing_required", "The amount is blank.")
        m = _MONEY.match(text)
        if not m:
            raise ValueProblem("invalid_amount", f"'{value}' is not an amount of money in pounds.")
        try:
            amount = Decimal(m.group(1).replace(",", "") + "." + (m.group(2) or "0"))
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
            raise ValueProblem("invalid_amount", f"'{value}' is not an amount of money.") from exc
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:  # the warehouse keeps DECIMAL(10,2)
        raise ValueProblem("invalid_amount", f"'{value}' is not a voucher amount (it must be under £100,000,000).")
    if amount != amount.quantize(PENNY, rounding=ROUND_HALF_UP):
        raise ValueProblem("invalid_amount", f"{amount} has fractions of a penny.")
    if amount <= 0:
        raise ValueProblem("invalid_amount", f"The amount must be more than £0 (found {amount}).")
    return amount.quantize(PENNY)


# ---------------------------------------------------------------- durations

_HOURS = r"(?:h|hr|hrs|hour|hours)"
_MINS = r"(?:m|min|mins|minute|minutes)"
_DURATION_PATTERNS = [
    (re.compile(rf"^(\d+(?:\.\d+)?)\s*{_HOURS}\.?$"), lambda m: Decimal(m[1]) * 60),
    (
        re.compile(rf"^(\d+)\s*{_HOURS}\s*(?:and\s*)?(\d{{1,2}})\s*(?:{_MINS})?\.?$"),
        lambda m: int(m[1]) * 60 + int(m[2]),
    ),
    (re.compile(rf"^(\d+)\s*{_MINS}\.?$"), lambda m: int(m[1])),
    (re.compile(r"^(\d+):([0-5]\d)(?::00)?$"), lambda m: int(m[1]) * 60 + int(m[2])),
]
_BARE_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def duration_unit_is_assumed(value: object) -> bool:
    """A bare number (text or numeric cell) is read as hours, which the sender should confirm."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, Decimal)):
        return True
    return bool(_BARE_NUMBER.match(str(value).strip()))


def parse_duration_minutes(value: object) -> int:
    """Time spent in minutes: 2 hours, 2hrs, 1.5h, 90 mins, 1h30, 1:30; a bare number is hours."""
    if isinstance(value, dt.timedelta):
        minutes = Decimal(int(value.total_seconds() // 60))
    elif isinstance(value, dt.time):
        minutes = Decimal(value.hour * 60 + value.minute)
    elif isinstance(value, bool):
        raise ValueProblem("unparseable_duration", f"'{value}' is not a length of time.")
    elif isinstance(value, (int, float, Decimal)):
        try:
            minutes = Decimal(repr(value) if isinstance(value, float) else value) * 60
        except InvalidOperation as exc:
            raise ValueProblem("unparseable_duration", f"'{value}' is not a length of time.") from exc
    else:
        text = " ".join(str(value).split()).lower()
        if not text:
            raise ValueProblem("missing_required", "The time spent is blank.")
        if _BARE_NUMBER.match(text):
            minutes = Decimal(text) * 60
        else:
            for pattern, to_minutes in _DURATION_PATTERNS:
                m = pattern.match(text)
                if m:
                    minutes = Decimal(to_minutes(m))
                    break
            else:
                raise ValueProblem("unparseable_duration", f"'{value}' could not be read as a length of time.")
    whole = int(minutes.to_integral_value(rounding=ROUND_HALF_UP)) if minutes.is_finite() else 0
    if not 0 < whole <= 24 * 60:
        raise ValueProblem("unparseable_duration", f"'{value}' is not a length of time within one day.")
    return whole


# ---------------------------------------------------------------- signatures

_NOT_SIGNED = {
    "",
    "no",
    "n",
    "-",
    "–",
    "—",
    "false",
    "not signed",
    "unsigned",
    "n/a",
    "na",
    "x",
    "absent",
    "did not sign",
    "didn't sign",
    "not present",
}


def is_signed(text: str, value: object | None = None, has_image: bool = False) -> bool:
    """Any text other than blank/No/N/-/absent counts as a signature, as does a picture of one.
    Words that say there is no signature win over ink: on a scan "absent" written in the box is ink too."""
    said = " ".join(text.split()).strip(".").casefold().replace("\u2019", "'")
    if said and said in _NOT_SIGNED:
        return False
    if has_image:
        return True
    if isinstance(value, bool):
        return value
    return said not in _NOT_SIGNED


# ---------------------------------------------------------------- lists and postcodes

_LEAD_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\n)\s*", re.IGNORECASE)


def split_names(text: str) -> list[str]:
    """Project leads: split on , ; & 'and' and new lines."""
    return [name.strip(" .") for name in _LEAD_SPLIT.split(text) if name and name.strip(" .")]


_OUTWARD = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(?:\s*\d[A-Z]{2})?$")


def postcode_district(text: str) -> str:
    """The outward code (NW1) of a postcode; a full postcode is cut, so no address is kept."""
    compact = re.sub(r"\s+", " ", text.strip().upper())
    m = _OUTWARD.match(compact) or _OUTWARD.match(compact.replace(" ", ""))
    if not m:
        raise ValueProblem("invalid_option", "This is not the first half of a UK postcode (for example NW1).")
    return m.group(1)
