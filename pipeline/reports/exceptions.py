"""OUTPUTS/exceptions.xlsx: what the admin works through.

Open exceptions of forms first, grouped by sender (the sender who wrote most recently first, then
their forms newest first) so each person is emailed once, each placed in the form's own words;
files that were not read as forms (not a form, damaged, no attachment) on a sheet of their own, so
they are never counted as forms to correct; a one-row-per-sender sheet to work from; resolved
exceptions (corrected, accepted, rejected) on their own sheet; the problem codes. Each sheet prints
its first, human, columns on landscape pages one page wide.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import NamedTuple

from pipeline.forms.where import where_in_words
from pipeline.problems import CATALOGUE, ProblemCode
from pipeline.reports import queries
from pipeline.reports.workbook import DATETIME, Column, Report, local_time
from pipeline.store.warehouse import Warehouse

NO_SENDER = "(no email: a file put in the inbox)"
# where a problem names the picture of a spot on a scan (pipeline.records.crops_folder): only such a
# path, made by the pipeline itself, ever becomes a link
_CROP = re.compile(r"\bocr-crops/[0-9a-f]{16}/[A-Za-z0-9_-]{1,80}\.png\b")

# The first columns are what a person reads, on screen and on paper: which file, from whom, what
# is wrong, where in the form (in its own words), what to ask. Those after PRINTED are for
# filtering and looking up (a picture's link, the problem's code, the reader's own location).
OPEN_COLUMNS = [
    Column("File", 26, wrap=True),
    Column("Sender", 24, wrap=True),
    Column("Received", 16, DATETIME),
    Column("Submission", 11),
    Column("Severity", 9),
    Column("What is wrong", 34, wrap=True),
    Column("Where in the form", 26, wrap=True),
    Column("What was found", 18, wrap=True),
    Column("What to ask the sender", 34, wrap=True),
    # not printed
    Column("Picture", 10, link_text="picture"),
    Column("Status", 10),
    Column("Problem", 22),
    Column("Email subject", 30),
    Column("Email file", 28),
    Column("Form", 12),
    Column("Field", 22),
    Column("Location as read", 26),
]
OPEN_PRINTED = 9
NOT_FORM_COLUMNS = [
    Column("File", 30, wrap=True),
    Column("Sender", 26, wrap=True),
    Column("Received", 16, DATETIME),
    Column("Submission", 11),
    Column("What is wrong", 45, wrap=True),
    Column("What to ask the sender", 45, wrap=True),
    # not printed
    Column("Problem", 22),
    Column("Email subject", 30),
    Column("Email file", 28),
]
NOT_FORM_PRINTED = 6
RESOLVED_COLUMNS = [
    Column("File", 26, wrap=True),
    Column("Sender", 24, wrap=True),
    Column("Resolved", 16, DATETIME),
    Column("How", 30, wrap=True),
    Column("Submission", 11),
    Column("What was wrong", 40, wrap=True),
    # not printed
    Column("Received", 16, DATETIME),
    Column("Status now", 11),
    Column("Severity", 10),
    Column("Problem", 22),
]
RESOLVED_PRINTED = 6
SENDER_COLUMNS = [
    Column("Sender", 34, wrap=True),
    Column("Forms to correct", 10),
    Column("Errors", 8),
    Column("Warnings", 9),
    Column("Files not read", 10),
    Column("Files", 50, wrap=True),
    Column("Latest received", 16, DATETIME),
]


class ExceptionRow(NamedTuple):
    received_at: object
    submission_id: int
    status: str
    severity: str
    code: str
    message: str
    location: str | None
    value: str | None
    sender: str | None
    subject: str | None
    source_file: str
    container_file: str | None
    form_type: str | None
    field: str | None
    state: str
    resolved_at: object
    resolution: str | None
    resolved_by_action: int | None = None  # the audit action that resolved it: `coforms undo` takes it back

    @property
    def is_form(self) -> bool:
        """A form (held, or loaded with warnings) rather than a file that was not read as one: not a
        form, damaged, protected, no attachment (the pipeline rejects those)."""
        return self.status != "rejected" and self.form_type is not None

    @property
    def where(self) -> str:
        """Where the problem is, in the form's own words (pipeline.forms.where)."""
        return where_in_words(self.form_type, self.field, self.location)

    @property
    def picture(self) -> str | None:
        """The picture of the doubtful spot on a scan that the problem names, if it names one."""
        found = _CROP.search(self.message or "")
        return found.group(0) if found else None


def exception_rows(warehouse: Warehouse, state: str | None = None) -> list[ExceptionRow]:
    """Exceptions (all, or only `open` / `resolved` ones), grouped by sender: the sender heard
    from most recently first, each sender's forms newest first."""
    states = [state] if state else ["open", "resolved"]
    rows = [ExceptionRow(*r) for r in queries.problems_newest_first(warehouse, states)]
    groups: OrderedDict[str, list[ExceptionRow]] = OrderedDict()
    for row in rows:  # already newest first, so groups come in order of their newest form
        groups.setdefault(row.sender or "", []).append(row)
    return [row for group in groups.values() for row in group]


def _open_row(r: ExceptionRow) -> list[object]:
    return [
        r.source_file,
        r.sender or NO_SENDER,
        local_time(r.received_at),
        r.submission_id,
        r.severity,
        r.message,
        r.where,
        r.value,
        CATALOGUE[ProblemCode(r.code)].ask_sender,
        r.picture,
        r.status,
        r.code,
        r.subject,
        r.container_file,
        r.form_type,
        r.field,
        r.location,
    ]


def _not_form_row(r: ExceptionRow) -> list[object]:
    return [
        r.source_file,
        r.sender or NO_SENDER,
        local_time(r.received_at),
        r.submission_id,
        r.message,
        CATALOGUE[ProblemCode(r.code)].ask_sender,
        r.code,
        r.subject,
        r.container_file,
    ]


def _senders(rows: list[ExceptionRow]) -> list[list[object]]:
    by_sender: OrderedDict[str, list[ExceptionRow]] = OrderedDict()
    for row in rows:
        by_sender.setdefault(row.sender or "", []).append(row)
    out = []
    for sender, group in by_sender.items():
        files = list(dict.fromkeys(f"{r.source_file} (submission {r.submission_id})" for r in group))
        forms = {r.submission_id for r in group if r.is_form}
        not_read = {r.submission_id for r in group if not r.is_form}
        out.append(
            [
                sender or NO_SENDER,
                len(forms),
                sum(r.severity == "error" for r in group if r.is_form),
                sum(r.severity == "warning" for r in group if r.is_form),
                len(not_read),
                "\n".join(files),
                local_time(group[0].received_at),
            ]
        )
    return out


def exceptions_report(warehouse: Warehouse) -> Report:
    """The admin's workbook, gathered (render or save it)."""
    report = Report()
    open_rows = exception_rows(warehouse, "open")
    report.table_sheet(
        "Open exceptions",
        OPEN_COLUMNS,
        (_open_row(r) for r in open_rows if r.is_form),
        note="Forms to correct, grouped by sender so each person is emailed once. Errors hold a form "
        "out of the warehouse until it is corrected (or accepted); warnings are loaded but worth "
        "checking. Files that are not forms are on 'Files not read'.",
        print_columns=OPEN_PRINTED,
    )
    report.table_sheet(
        "Senders to email",
        SENDER_COLUMNS,
        _senders(open_rows),
        note="One row per sender with open exceptions; reply drafts are in the replies folder.",
    )
    report.table_sheet(
        "Files not read",
        NOT_FORM_COLUMNS,
        (_not_form_row(r) for r in open_rows if not r.is_form),
        note="Files that are not one of the four forms, or could not be opened, and emails with no form "
        "attached: nothing in them reached the warehouse. They are not forms to correct; what to ask "
        "each sender is beside it.",
        print_columns=NOT_FORM_PRINTED,
    )
    resolved = sorted(
        exception_rows(warehouse, "resolved"), key=lambda r: (r.resolved_at, r.submission_id), reverse=True
    )
    report.table_sheet(
        "Resolved",
        RESOLVED_COLUMNS,
        [
            [
                r.source_file,
                r.sender or NO_SENDER,
                local_time(r.resolved_at),
                r.resolution,
                r.submission_id,
                r.message,
                local_time(r.received_at),
                r.status,
                r.severity,
                r.code,
            ]
            for r in resolved
        ],
        note="Closed exceptions, newest first: replaced by a correction, accepted or rejected by the admin "
        "(see the audit view for who and why).",
        print_columns=RESOLVED_PRINTED,
    )
    report.table_sheet(
        "Problem codes",
        [
            Column("Problem", 26),
            Column("Severity", 10),
            Column("What it means", 70, wrap=True),
            Column("What to ask the sender", 70, wrap=True),
        ],
        [[code.value, info.severity.value, info.meaning, info.ask_sender] for code, info in CATALOGUE.items()],
    )
    return report
