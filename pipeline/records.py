"""The records that travel between the stages of a run, in one place.

intake   -> Provenance, Attachment (the bytes of one part, where they came from)
runtime  -> ParsedFile (one part read, identified and validated)
history  -> Decision (what becomes of it: a Status, the versions it replaces, the problems
            earlier forms add), from the EarlierForm records the warehouse looks up
runtime  -> Outcome (one part recorded), RunSummary (the run)

Text that comes from a file or a header is made storable here, once (`storable_text`,
`clean_header_text`), so no path into the warehouse can carry a raw header value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

from pipeline.problems import Problem, Severity


class Status(StrEnum):
    """What becomes of a submission (the warehouse's `status` column)."""

    LOADED = "loaded"  # in the warehouse's form views
    HELD = "held"  # read, with errors to correct first
    DUPLICATE = "duplicate"  # the same bytes came before
    SUPERSEDED = "superseded"  # replaced by a correction sent later
    REJECTED = "rejected"  # not a form that could be read


# Longest sender, subject and Message-ID kept: far above any real one, and a bound on what
# a hostile header can put in the warehouse and the reports.
MAX_SENDER = 320
MAX_SUBJECT = 500
MAX_MESSAGE_ID = 500


def storable_text(text: str) -> str:
    """`text` with what cannot be stored as UTF-8 (the surrogates Python uses for undecodable
    bytes in file names and headers) replaced by U+FFFD."""
    try:
        raw = text.encode("utf-8", "surrogateescape")  # the original bytes of a file name
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        raw = text.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def clean_header_text(value: str | None, limit: int) -> str | None:
    """A header value safe to store, show and write into a reply: control characters and line
    breaks become spaces (a CR/LF must never start a new header), invisible format characters
    go, runs of spaces fold into one, and it is cut to `limit` characters. None if nothing is left."""
    if value is None:
        return None
    kept = []
    for char in storable_text(str(value)):
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category not in ("Cf", "Cs"):
            kept.append(char)
    text = " ".join("".join(kept).split())
    return text[:limit] or None


@dataclass(frozen=True)
class Provenance:
    source_file: str  # the file's own name (an attachment's name, for email)
    container_file: str | None = None  # the email file it came in, if any
    sender: str | None = None
    subject: str | None = None
    received_at: dt.datetime | None = None
    message_id: str | None = None

    def __post_init__(self) -> None:
        # cleaned here, once, so no path into the warehouse can carry a raw header value
        object.__setattr__(self, "source_file", storable_text(self.source_file))
        if self.container_file is not None:
            object.__setattr__(self, "container_file", storable_text(self.container_file))
        object.__setattr__(self, "sender", clean_header_text(self.sender, MAX_SENDER))
        object.__setattr__(self, "subject", clean_header_text(self.subject, MAX_SUBJECT))
        object.__setattr__(self, "message_id", clean_header_text(self.message_id, MAX_MESSAGE_ID))


@dataclass(frozen=True)
class Attachment:
    data: bytes
    provenance: Provenance
    # decided before reading (no attachment, sender not allowed): recorded, never parsed
    problem: Problem | None = None
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.data).hexdigest())


def crops_folder(sha256: str) -> str:
    """Where (under the outputs folder) the pictures of one scanned file's doubtful spots are kept."""
    return f"ocr-crops/{sha256[:16]}"


@dataclass
class ParsedFile:
    form_type: str | None
    form: BaseModel | None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    locations: dict[str, str] = field(default_factory=dict)  # field path -> where in the file
    format: str | None = None  # the reader that read it (for the log and the benchmark)
    parse_ms: float = 0.0
    readings: dict[str, str] = field(default_factory=dict)  # field path -> what OCR read there (scans only)
    # pictures of spots on a scan that its problems point to: file name in crops_folder(sha256) -> PNG
    crops: dict[str, bytes] = field(default_factory=dict)
    # what extraction found, before validation: kept with the submission so that a value the admin
    # corrects or confirms is validated again from the same reading (pipeline.runtime.correct);
    # a pipeline.forms.raw.RawForm (not named here: the foundation imports no stage)
    raw: object | None = None
    # the same as the warehouse keeps it (pipeline.store.raw_forms), made by the parsing worker: the
    # run's one process, which records every form, then has neither to write it out nor to unpickle it
    raw_json: str | None = None

    @property
    def readable(self) -> bool:
        return self.form is not None


@dataclass(frozen=True)
class EarlierForm:
    """A recorded submission that a later one may still replace, as the warehouse holds it."""

    submission_id: int
    form_type: str | None
    project_name: str | None
    received_at: dt.datetime | None  # its email's Date (UTC, naive), if it came by email
    recorded_at: dt.datetime  # when it was recorded (UTC, naive)


@dataclass(frozen=True)
class Decision:
    """What becomes of one form, given the forms before it: decided once
    (pipeline.history.decide), then stored as it says (pipeline.store.warehouse)."""

    status: Status
    parsed: ParsedFile | None  # the form as it is kept (None: a duplicate keeps nothing)
    correction_key: str | None  # how its later versions will find it
    duplicate_of: int | None = None  # the first submission with the same bytes
    supersedes: dict[int, str] = field(default_factory=dict)  # earlier versions it replaces -> why
    superseded_by: tuple[int, str] | None = None  # a version sent later, recorded already -> why
    added: tuple[Problem, ...] = ()  # problems found against earlier forms (claims made before)
    withdrawn: tuple[Problem, ...] = ()  # problems of the form alone that the email settled

    @property
    def problems(self) -> list[Problem]:
        """Every problem recorded with the form."""
        return [*self.parsed.problems, *self.added] if self.parsed is not None else []


@dataclass
class Outcome:
    source_file: str
    container_file: str | None
    submission_id: int
    status: str
    form_type: str | None
    problems: list[Problem]
    amount: Decimal = Decimal("0.00")


@dataclass
class RunSummary:
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    files: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    reports_written: list[str] = field(default_factory=list)  # [] when every report was already current
    reports_error: str | None = None  # reports that could not be written, and what to do
    # (audit_id, old submission, its file, new submission, its file) of the corrections this run linked
    corrections: list[tuple] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def received(self) -> int:
        return len(self.outcomes)

    @property
    def warnings(self) -> int:
        return sum(1 for o in self.outcomes for p in o.problems if p.severity is Severity.WARNING)

    @property
    def pounds_loaded(self) -> Decimal:
        return sum((o.amount for o in self.outcomes if o.status == "loaded"), Decimal("0.00"))

    def merge(self, other: RunSummary) -> None:
        self.files += other.files
        self.outcomes.extend(other.outcomes)
