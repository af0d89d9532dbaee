"""OUTPUTS/voucher_reconciliation.xlsx: what finance signs off, to the penny.

All sums are done by DuckDB on DECIMAL(10,2) columns, so no float ever touches money.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.reports.workbook import DATE, POUNDS, Column, Report
from pipeline.warehouse import Warehouse

_CONTROL_TOTALS = """
WITH lines AS (
    SELECT l.*, s.status FROM store.voucher_lines l JOIN store.submissions s USING (submission_id)
), forms AS (
    SELECT s.status, count(*) AS n FROM store.submissions s WHERE s.form_type = 'voucher' GROUP BY s.status
)
SELECT
    (SELECT coalesce(sum(n), 0) FROM forms WHERE status = 'loaded') AS forms_loaded,
    (SELECT coalesce(sum(n), 0) FROM forms WHERE status = 'held') AS forms_held,
    (SELECT count(*) FROM lines WHERE status = 'loaded') AS lines_loaded,
    (SELECT coalesce(sum(amount), 0) FROM lines WHERE status = 'loaded') AS pounds_loaded,
    (SELECT count(*) FROM lines WHERE status = 'held') AS lines_held,
    (SELECT coalesce(sum(amount), 0) FROM lines WHERE status = 'held') AS pounds_held,
    (SELECT count(*) FROM lines WHERE status = 'loaded' AND NOT signed) AS unsigned_lines,
    (SELECT coalesce(sum(amount), 0) FROM lines WHERE status = 'loaded' AND NOT signed) AS pounds_unsigned
"""


def _group(warehouse: Warehouse, key_sql: str) -> list[tuple]:
    return warehouse.con.execute(f"""
        SELECT {key_sql} AS k, count(*) AS lines, count(DISTINCT submission_id) AS forms, sum(amount) AS pounds,
               sum(time_spent_minutes) / 60.0 AS hours
        FROM voucher_lines GROUP BY k ORDER BY k NULLS LAST""").fetchall()


def write_voucher_reconciliation(warehouse: Warehouse, path: Path) -> None:
    report = Report()
    (forms_loaded, forms_held, lines_loaded, pounds_loaded, lines_held, pounds_held, unsigned,
     pounds_unsigned) = warehouse.con.execute(_CONTROL_TOTALS).fetchone()
    report.table_sheet("Control totals", [Column("Measure", 46), Column("Value", 16)], [
        ["Voucher forms loaded", forms_loaded],
        ["Voucher lines loaded", lines_loaded],
        ["£ loaded (signed and unsigned)", pounds_loaded],
        ["Voucher forms held (errors to correct)", forms_held],
        ["Lines in held forms", lines_held],
        ["£ in held forms (not yet loaded)", pounds_held],
        ["Loaded lines not signed by the recipient", unsigned],
        ["£ on loaded lines not signed", pounds_unsigned],
    ], note="Loaded = validated and in the warehouse. Held forms are listed in exceptions.xlsx until corrected.")
    hours = Column("Hours", 10, "0.0")
    report.table_sheet("By month", [Column("Month", 12), Column("Lines", 8), Column("Forms", 8),
                                     Column("£", 14, POUNDS), hours],
                    _group(warehouse, "strftime(date, '%Y-%m')"))
    report.table_sheet("By activity", [Column("Activity", 36), Column("Lines", 8), Column("Forms", 8),
                                        Column("£", 14, POUNDS), hours], _group(warehouse, "activity"))
    report.table_sheet("By recipient", [Column("Recipient", 30), Column("Lines", 8), Column("Forms", 8),
                                         Column("£", 14, POUNDS), hours], _group(warehouse, "name"))
    lines = warehouse.con.execute("""
        SELECT s.status, l.submission_id, l.line_no, l.name, l.date, l.activity, l.time_spent_minutes, l.amount,
               l.signed, s.source_file, s.container_file, l.location, s.sender
        FROM store.voucher_lines l JOIN store.submissions s USING (submission_id)
        WHERE s.status IN ('loaded', 'held')
        ORDER BY s.status DESC, l.date NULLS LAST, l.submission_id, l.line_no""").fetchall()
    report.table_sheet("Lines", [
        Column("Status", 9), Column("Submission", 11), Column("Line", 6), Column("Recipient", 24),
        Column("Date", 12, DATE), Column("Activity", 28), Column("Minutes", 9), Column("£", 12, POUNDS),
        Column("Signed", 8), Column("File", 34), Column("Email file", 26), Column("Where in the file", 24),
        Column("Sender", 28)],
        [[*row[:8], "yes" if row[8] else "NO", *row[9:]] for row in lines])
    report.save(path)
