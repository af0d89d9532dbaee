"""OUTPUTS/exceptions.xlsx: what the admin works through.

Open exceptions first, grouped by sender (the sender who wrote most recently first, then their
forms newest first) so each person is emailed once; a one-row-per-sender sheet to work from;
resolved exceptions (corrected, accepted, rejected) on their own sheet; the problem codes.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

from pipeline.problems import CATALOGUE, ProblemCode
from pipeline.reports import queries
from pipeline.reports.workbook import DATETIME, Column, Report, local_time
from pipeline.store.warehouse import Warehouse

NO_SENDER = "(no email: a file put in the inbox)"

OPEN_COLUMNS = [
    Column("Sender", 28),
    Column("Received", 17, DATETIME),
    Column("Submission", 11),
    Column("Status", 10),
    Column("Severity", 10),
    Column("Problem", 22),
    Column("What is wrong", 60, wrap=True),
    Column("Where in the file", 24),
    Column("What was found", 30, wrap=True),
    Column("What to ask the sender", 60, wrap=True),
    Column("Email subject", 30),
    Column("File", 34),
    Column("Email file", 28),
    Column("Form", 12),
    Column("Field", 22),
]
RESOLVED_COLUMNS = [
    Column("Resolved", 17, DATETIME),
    Column("How", 40, wrap=True),
    Column("Sender", 28),
    Column("Received", 17, DATETIME),
    Column("Submission", 11),
    Column("Status now", 11),
    Column("Severity", 10),
    Column("Problem", 22),
    Column("What was wrong", 60, wrap=True),
    Column("File", 34),
]
SENDER_COLUMNS = [
    Column("Sender", 34),
    Column("Forms to correct", 10),
    Column("Errors", 8),
    Column("Warnings", 9),
    Column("Files", 50, wrap=True),
    Column("Latest received", 17, DATETIME),
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
        r.sender or NO_SENDER,
        local_time(r.received_at),
        r.submission_id,
        r.status,
        r.severity,
        r.code,
        r.message,
        r.location,
        r.value,
        CATALOGUE[ProblemCode(r.code)].ask_sender,
        r.subject,
        r.source_file,
        r.container_file,
        r.form_type,
        r.field,
    ]


def _senders(rows: list[ExceptionRow]) -> list[list[object]]:
    by_sender: OrderedDict[str, list[ExceptionRow]] = OrderedDict()
    for row in rows:
        by_sender.setdefault(row.sender or "", []).append(row)
    out = []
    for sender, group in by_sender.items():
        files = list(dict.fromkeys(f"{r.source_file} (submission {r.submission_id})" for r in group))
        out.append(
            [
                sender or NO_SENDER,
                len(files),
                sum(r.severity == "error" for r in group),
                sum(r.severity == "warning" for r in group),
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
        map(_open_row, open_rows),
        note="To deal with, grouped by sender so each person is emailed once. Errors hold a form "
        "out of the warehouse until it is corrected (or accepted); warnings are loaded but worth "
        "checking.",
    )
    report.table_sheet(
        "Senders to email",
        SENDER_COLUMNS,
        _senders(open_rows),
        note="One row per sender with open exceptions; reply drafts are in the replies folder.",
    )
    resolved = sorted(
        exception_rows(warehouse, "resolved"), key=lambda r: (r.resolved_at, r.submission_id), reverse=True
    )
    report.table_sheet(
        "Resolved",
        RESOLVED_COLUMNS,
        [
            [
                local_time(r.resolved_at),
                r.resolution,
                r.sender or NO_SENDER,
                local_time(r.received_at),
                r.submission_id,
                r.status,
                r.severity,
                r.code,
                r.message,
                r.source_file,
            ]
            for r in resolved
        ],
        note="Closed exceptions, newest first: replaced by a correction, accepted or rejected by the admin "
        "(see the audit view for who and why).",
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
