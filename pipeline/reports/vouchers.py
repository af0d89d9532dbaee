"""OUTPUTS/voucher_reconciliation.xlsx: what finance signs off, to the penny.

All sums are done by the warehouse on DECIMAL(10,2) columns or in Python on Decimal, so no float
ever touches money. With finance's ledger configured (setting `ledger_path`), claimed lines are matched
to vouchers issued (pipeline.reports.reconcile) and the differences listed; without it, the control
totals alone. The totals cover every year; the Lines sheet lists the current financial year's
lines (and every held or undated one), each earlier year's being in a workbook of its own
(pipeline.reports.year_lines).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pipeline.forms.labels import normalise
from pipeline.reports import queries
from pipeline.reports.ledger import Ledger, read_ledger
from pipeline.reports.reconcile import ZERO, Claim, by_month, match, over_threshold
from pipeline.reports.workbook import DATE, POUNDS, Column, Report
from pipeline.reports.year_lines import (
    YearWorkbooks,
    financial_year,
    year_file_name,
    year_span,
    year_workbooks,
)
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse
from pipeline.validate.names import person_key

LINE_COLUMNS = [
    Column("Status", 9),
    Column("Submission", 11),
    Column("Line", 6),
    Column("Recipient", 24),
    Column("Date", 12, DATE),
    Column("Activity", 28),
    Column("Minutes", 9),
    Column("£", 12, POUNDS),
    Column("Signed", 8),
    Column("File", 34),
    Column("Email file", 26),
    Column("Where in the file", 24),
    Column("Sender", 28),
]


def _group(rows, label=lambda key: key) -> list[list]:
    """Lines, forms, pounds and hours per key (from rows of key, lines, forms, pounds, minutes), in
    key order (sorted here: a server database would sort text by its own collation), the lines
    without one last."""
    return [
        [label(k) if k is not None else None, lines, forms, pounds, None if minutes is None else minutes / 60]
        for k, lines, forms, pounds, minutes in sorted(rows, key=lambda r: (r[0] is None, r[0] or ""))
    ]


def _by_recipient(warehouse: Warehouse) -> list[list]:
    """As _group, per person (pipeline.validate.names.person_key: one row however the name's spelling
    varies in case, spacing, invisible characters or look-alike letters), shown as the name was
    first written (by form and line). In name order, the lines without a name last."""
    per_person: dict[str | None, list] = {}
    for name, sid, amount, minutes in queries.loaded_lines_in_form_order(warehouse):
        key = None if name is None else person_key(name)
        row = per_person.setdefault(key, [name, 0, set(), None, None])
        row[1] += 1
        row[2].add(sid)
        if amount is not None:
            row[3] = amount if row[3] is None else row[3] + amount
        if minutes is not None:
            row[4] = minutes if row[4] is None else row[4] + minutes
    rows = [
        [name, lines, len(forms), pounds, None if minutes is None else minutes / 60]
        for name, lines, forms, pounds, minutes in per_person.values()
    ]
    return sorted(rows, key=lambda r: (r[0] is None, r[0] or ""))


def claimed_lines(warehouse: Warehouse) -> list[Claim]:
    """Every loaded voucher line with a name, a date and an amount."""
    return [Claim(*row) for row in queries.claimed_lines(warehouse)]


def _double_claims(warehouse: Warehouse) -> list[list]:
    """Sorted here (not by the database's collation): each claim by its first-written name,
    date and activity in lower-case words, then form and line. (The claim key itself, a
    look-alike skeleton, would sort "Mei" as "rnei".)"""
    rows = queries.double_claim_lines(warehouse)
    first_row: dict[str, tuple] = {}
    for row in sorted(rows, key=lambda r: (r[5], r[6])):
        first_row.setdefault(row[0], row)

    def in_order(row) -> tuple:
        key, (_, name, date, activity, *_rest) = row[0], first_row[row[0]]
        return (f"{normalise(name)}|{date.isoformat()}|{normalise(activity)}", key, row[5], row[6])

    return [list(r[1:]) for r in sorted(rows, key=in_order)]


@dataclass
class VoucherReports:
    """voucher_reconciliation.xlsx, and the earlier years' line workbooks that changed."""

    reconciliation: Report
    years: YearWorkbooks


def voucher_reports(
    warehouse: Warehouse, outputs: Path, settings: Settings | None = None, today: dt.date | None = None
) -> VoucherReports:
    """Everything finance's workbooks show, gathered from the warehouse (rendered later, anywhere)."""
    settings = settings or Settings(outputs=outputs)
    this_year = financial_year(today or dt.date.today())
    report = Report()
    (forms_loaded, forms_held, lines_loaded, pounds_loaded, lines_held, pounds_held, unsigned, pounds_unsigned) = (
        queries.voucher_control_totals(warehouse)
    )
    claims = claimed_lines(warehouse)
    ledger = read_ledger(settings.ledger_path) if settings.ledger_path else None
    control = [
        ["Voucher forms loaded", forms_loaded],
        ["Voucher lines loaded", lines_loaded],
        ["£ loaded (signed and unsigned)", pounds_loaded],
        ["Voucher forms held (errors to correct)", forms_held],
        ["Lines in held forms", lines_held],
        ["£ in held forms (not yet loaded)", pounds_held],
        ["Loaded lines not signed by the recipient", unsigned],
        ["£ on loaded lines not signed", pounds_unsigned],
    ]
    matching = None
    if ledger is not None and ledger.error is None:
        matching = match(claims, ledger.entries, settings.ledger_date_window_days)
        control += [
            ["£ issued (finance ledger)", sum((e.amount for e in ledger.entries), ZERO)],
            ["Ledger entries", len(ledger.entries)],
            ["Ledger rows that could not be read", len(ledger.unreadable_rows)],
            ["Lines matched to the ledger", len(matching.pairs)],
            ["£ matched", sum((c.amount for c, _ in matching.pairs), ZERO)],
            ["Claimed lines not in the ledger", len(matching.unmatched_claims)],
            ["£ claimed, not in the ledger", sum((c.amount for c in matching.unmatched_claims), ZERO)],
            ["Ledger entries not claimed on any form", len(matching.unmatched_entries)],
            ["£ issued, not claimed", sum((e.amount for e in matching.unmatched_entries), ZERO)],
        ]
    if ledger is None:
        ledger_note = "No finance ledger is configured (setting ledger_path): control totals only."
    elif ledger.error:
        ledger_note = f"The finance ledger could not be used: {ledger.error}"
    else:
        ledger_note = (
            f"Ledger: {ledger.path.name}; a claim matches an entry with the same name, the same amount "
            f"and dates at most {settings.ledger_date_window_days} days apart."
        )
    report.table_sheet(
        "Control totals",
        [Column("Measure", 46), Column("Value", 16)],
        control,
        note="Loaded = validated and in the warehouse. Held forms are listed in exceptions.xlsx "
        "until corrected. " + ledger_note,
    )
    if matching is not None:
        _ledger_sheets(report, ledger, claims, matching)
    hours = Column("Hours", 10, "0.0")
    report.table_sheet(
        "By month",
        [Column("Month", 12), Column("Lines", 8), Column("Forms", 8), Column("£", 14, POUNDS), hours],
        _group(queries.loaded_lines_by_month(warehouse), lambda month: month.strftime("%Y-%m")),
    )
    report.table_sheet(
        "By activity",
        [Column("Activity", 36), Column("Lines", 8), Column("Forms", 8), Column("£", 14, POUNDS), hours],
        _group(queries.loaded_lines_by_activity(warehouse)),
    )
    report.table_sheet(
        "By recipient",
        [Column("Recipient", 30), Column("Lines", 8), Column("Forms", 8), Column("£", 14, POUNDS), hours],
        _by_recipient(warehouse),
    )
    current, earlier, by_year = _lines_by_year(warehouse, this_year)
    report.table_sheet(
        "Lines by year",
        [
            Column("Financial year", 14),
            Column("Loaded lines", 12),
            Column("£ loaded", 14, POUNDS),
            Column("Lines in held forms", 12),
            Column("£ in held forms", 14, POUNDS),
            Column("Lines listed in", 44),
        ],
        by_year,
        note="Loaded and held voucher lines by the financial year of their date (1 April to 31 March).",
    )
    report.table_sheet(
        "Lines",
        LINE_COLUMNS,
        current,
        note=f"The lines of financial year {this_year} ({year_span(this_year)}) and later, and every "
        "line of a held form or without a date. Each earlier year's loaded lines are in a "
        "workbook of its own: see 'Lines by year'.",
    )
    report.table_sheet(
        "Possible double claims",
        [
            Column("Recipient", 24),
            Column("Date", 12, DATE),
            Column("Activity", 28),
            Column("£", 12, POUNDS),
            Column("Submission", 11),
            Column("Line", 6),
            Column("File", 34),
            Column("Sender", 28),
            Column("Where in the file", 24),
        ],
        _double_claims(warehouse),
        note="The same person, date and activity claimed on more than one loaded form.",
    )
    report.table_sheet(
        "Over 12-month limit",
        [
            Column("Recipient", 28),
            Column("£ in 12 months", 16, POUNDS),
            Column("From", 12, DATE),
            Column("To", 12, DATE),
            Column("Lines", 8),
        ],
        [
            [o.name, o.total, o.window_start, o.window_end, o.lines]
            for o in over_threshold(claims, settings.declare_threshold)
        ],
        note=f"Recipients whose vouchers in some 12 months add up to more than £{settings.declare_threshold:,.2f} "
        "(setting declare_threshold): people on benefits must declare such payments.",
    )
    return VoucherReports(report, year_workbooks(outputs, LINE_COLUMNS, earlier))


def _lines_by_year(warehouse: Warehouse, this_year: str) -> tuple[list[list], dict[str, list[list]], list[list]]:
    """Every loaded or held line as a row of the Lines sheets: the ones the reconciliation lists
    (this year's and later, held, undated), each earlier year's loaded ones, and the counts and
    pounds per year."""
    current: list[list] = []
    earlier: dict[str, list[list]] = {}
    counts: dict[str | None, list] = {}
    for row in queries.loaded_and_held_lines(warehouse):
        status, day, amount = row[0], row[4], row[7]
        year = financial_year(day) if day is not None else None
        line = [*row[:8], "yes" if row[8] else "NO", *row[9:]]
        if status == "loaded" and year is not None and year < this_year:
            earlier.setdefault(year, []).append(line)
        else:
            current.append(line)
        tally = counts.setdefault(year, [0, ZERO, 0, ZERO])
        held = 2 if status == "held" else 0
        tally[held] += 1
        tally[held + 1] += amount if amount is not None else ZERO

    def listed_in(year: str | None, held_lines: int) -> str:
        if year not in earlier:
            return "Lines, in this workbook"
        return year_file_name(year) + ("; the held ones: Lines, in this workbook" if held_lines else "")

    by_year = [
        [year or "(no date)", *tally, listed_in(year, tally[2])]
        for year, tally in sorted(counts.items(), key=lambda item: (item[0] is None, item[0] or ""))
    ]
    return current, earlier, by_year


def _ledger_sheets(report: Report, ledger: Ledger, claims: list[Claim], matching) -> None:
    report.table_sheet(
        "Claimed vs issued",
        [
            Column("Month", 12),
            Column("£ claimed", 14, POUNDS),
            Column("£ issued", 14, POUNDS),
            Column("Difference", 14, POUNDS),
        ],
        by_month(claims, ledger.entries),
        note="Claimed = loaded voucher lines by the date on the form; issued = the finance ledger "
        "by its date. Difference = claimed - issued.",
    )
    claim_columns = [
        Column("Recipient", 24),
        Column("Date", 12, DATE),
        Column("£", 12, POUNDS),
        Column("Activity", 28),
        Column("Submission", 11),
        Column("Line", 6),
        Column("File", 34),
    ]
    report.table_sheet(
        "Claims not in ledger",
        claim_columns,
        [
            [c.name, c.date, c.amount, c.activity, c.submission_id, c.line_no, c.source_file]
            for c in matching.unmatched_claims
        ],
        note="Claimed on a loaded form, but no voucher for that person and amount was issued within the date window.",
    )
    report.table_sheet(
        "Issued not claimed",
        [
            Column("Ledger row", 10),
            Column("Date", 12, DATE),
            Column("Recipient", 24),
            Column("£", 12, POUNDS),
            Column("Reference", 18),
        ],
        [[e.row, e.date, e.recipient, e.amount, e.reference] for e in matching.unmatched_entries],
        note="Issued by finance, but on no loaded form (it may be on a held one).",
    )
    report.table_sheet(
        "Matched",
        claim_columns + [Column("Ledger row", 10), Column("Issued", 12, DATE), Column("Reference", 18)],
        [
            [
                c.name,
                c.date,
                c.amount,
                c.activity,
                c.submission_id,
                c.line_no,
                c.source_file,
                e.row,
                e.date,
                e.reference,
            ]
            for c, e in matching.pairs
        ],
    )
    if ledger.unreadable_rows:
        report.table_sheet(
            "Ledger rows not read",
            [Column("Ledger row", 10), Column("Why", 60, wrap=True)],
            ledger.unreadable_rows,
            note="Rows of the ledger that could not be read, so are in no figure here: correct them in the ledger.",
        )
