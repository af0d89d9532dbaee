"""OUTPUTS/exceptions.xlsx: every problem, newest first, with what to ask the sender."""

from __future__ import annotations

from pathlib import Path

from pipeline.problems import CATALOGUE, ProblemCode
from pipeline.reports.workbook import DATETIME, Column, Report, local_time
from pipeline.warehouse import Warehouse

COLUMNS = [
    Column("Received", 17, DATETIME), Column("Submission", 11), Column("Status", 10), Column("Severity", 10),
    Column("Problem", 22), Column("What is wrong", 60, wrap=True), Column("Where in the file", 24),
    Column("What was found", 30, wrap=True), Column("What to ask the sender", 60, wrap=True),
    Column("Sender", 28), Column("Email subject", 30), Column("File", 34), Column("Email file", 28),
    Column("Form", 12), Column("Field", 22),
]

_QUERY = """
SELECT s.received_at, s.submission_id, s.status, p.severity, p.code, p.message, p.location, p.value,
       s.sender, s.subject, s.source_file, s.container_file, s.form_type, p.field
FROM store.problems p JOIN store.submissions s USING (submission_id)
ORDER BY s.received_at DESC NULLS LAST, s.submission_id DESC, p.severity, p.problem_no
"""


def exception_rows(warehouse: Warehouse) -> list[list[object]]:
    rows = []
    for (received, sid, status, severity, code, message, location, value, sender, subject, source, container,
         form_type, field) in warehouse.con.execute(_QUERY).fetchall():
        ask = CATALOGUE[ProblemCode(code)].ask_sender
        rows.append([local_time(received), sid, status, severity, code, message, location, value, ask, sender,
                     subject, source, container, form_type, field])
    return rows


def write_exceptions_report(warehouse: Warehouse, path: Path) -> int:
    report = Report()
    rows = exception_rows(warehouse)
    report.table_sheet("Exceptions", COLUMNS, rows,
                    note="Errors hold a form out of the warehouse until it is corrected; warnings are loaded but "
                         "worth checking. Filter by Sender to email each person once.")
    report.table_sheet("Problem codes", [Column("Problem", 26), Column("Severity", 10),
                                          Column("What it means", 70, wrap=True),
                                          Column("What to ask the sender", 70, wrap=True)],
                    [[code.value, info.severity.value, info.meaning, info.ask_sender] for code, info in CATALOGUE.items()])
    report.save(path)
    return len(rows)
