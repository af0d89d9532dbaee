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
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pipeline.collector import cycle_collector_paused
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


@dataclass
class _Figures:
    """Every figure of the reconciliation, made in one pass over one read of the voucher lines
    (queries.loaded_and_held_lines_with_claim_keys) rather than a query per sheet. Sums are Decimal,
    exact, as the warehouse's own would be; a group's sum stays None until one of its lines has a
    value, as SQL's sum() does."""

    lines: list  # every loaded and held line, as the query gives it
    lines_loaded: int = 0
    pounds_loaded: Decimal = ZERO
    lines_held: int = 0
    pounds_held: Decimal = ZERO
    unsigned: int = 0
    pounds_unsigned: Decimal = ZERO
    # the month's first day, or the activity -> [lines, forms (a set of submission ids), pounds, minutes]
    by_month: dict = field(default_factory=dict)
    by_activity: dict = field(default_factory=dict)
    # person_key -> the same, then the name as first written, its form and its line
    by_person: dict = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)  # by date, form and line
    claimants: list[str] = field(default_factory=list)  # each claim's person_key
    keyed: dict = field(default_factory=dict)  # claim key -> its loaded line, or a list of its lines


def _figures(rows: list) -> _Figures:
    f = _Figures(rows)
    months, activities, people, claims, keyed = f.by_month, f.by_activity, f.by_person, f.claims, f.keyed
    claimants = f.claimants
    # few objects made per line, and none kept that the sheets do not need: a run's process holds
    # many objects, and each one made here adds to the garbage collector's passes over them all
    for row in rows:
        status, sid, line_no, name, day, activity, minutes, amount, signed, source_file = row[:10]
        if status != "loaded":
            f.lines_held += 1
            if amount is not None:
                f.pounds_held += amount
            continue
        f.lines_loaded += 1
        if amount is not None:
            f.pounds_loaded += amount
        if signed is False:  # SQL's NOT signed: a line whose signature is unknown is not counted
            f.unsigned += 1
            if amount is not None:
                f.pounds_unsigned += amount
        month = None if day is None else day.replace(day=1)
        if (by_month := months.get(month)) is None:
            by_month = months[month] = [0, set(), None, None]
        if (by_activity := activities.get(activity)) is None:
            by_activity = activities[activity] = [0, set(), None, None]
        key = row.claim_key
        # a line's claim key begins with its person's key (pipeline.validate.names.claim_key; kept so
        # whenever a name changes: privacy.changes, migration 0003): read there, not worked out again
        # for every name of every year, each run (~75 ms for 13,500 names)
        person = None if name is None else person_key(name) if key is None else key.partition("|")[0]
        if (by_person := people.get(person)) is None:
            by_person = people[person] = [0, set(), None, None, name, sid, line_no]
        elif (sid, line_no) < (by_person[5], by_person[6]):  # the lines come by date: shown as first written
            by_person[4:] = name, sid, line_no
        for tally in (by_month, by_activity, by_person):  # [lines, forms, pounds, minutes, ...]
            tally[0] += 1
            tally[1].add(sid)
            if amount is not None:
                tally[2] = amount if tally[2] is None else tally[2] + amount
            if minutes is not None:
                tally[3] = minutes if tally[3] is None else tally[3] + minutes
        if name is not None and day is not None and amount is not None:
            claims.append(Claim(sid, line_no, name, day, amount, activity, source_file))
            claimants.append(person)
        if key is not None:
            if (same := keyed.get(key)) is None:
                keyed[key] = row
            elif isinstance(same, list):
                same.append(row)
            else:
                keyed[key] = [same, row]
    return f


def _grouped(groups: dict) -> list[tuple]:
    return [(key, lines, len(forms), pounds, minutes) for key, (lines, forms, pounds, minutes) in groups.items()]


def _by_recipient(figures: _Figures) -> list[list]:
    """As _group, per person (pipeline.validate.names.person_key: one row however the name's spelling
    varies in case, spacing, invisible characters or look-alike letters), shown as the name was
    first written (by form and line). In name order, the lines without a name last."""
    rows = [
        [name, lines, len(forms), pounds, None if minutes is None else minutes / 60]
        for lines, forms, pounds, minutes, name, _, _ in figures.by_person.values()
    ]
    return sorted(rows, key=lambda r: (r[0] is None, r[0] or ""))


def claimed_lines(warehouse: Warehouse) -> list[Claim]:
    """Every loaded voucher line with a name, a date and an amount."""
    return [Claim(*row) for row in queries.claimed_lines(warehouse)]


def _double_claim_lines(figures: _Figures) -> list[tuple]:
    """As queries.double_claim_lines: the loaded lines whose claim key is on more than one loaded form,
    each as (claim_key, name, date, activity, amount, submission_id, line_no, source_file, sender,
    location)."""
    return [
        (
            row.claim_key,
            row.name,
            row.date,
            row.activity,
            row.amount,
            row.submission_id,
            row.line_no,
            row.source_file,
            row.sender,
            row.location,
        )
        for lines in figures.keyed.values()
        if isinstance(lines, list) and len({row.submission_id for row in lines}) > 1
        for row in lines
    ]


def _double_claims(rows: list[tuple]) -> list[list]:
    """Sorted here (not by the database's collation): each claim by its first-written name,
    date and activity in lower-case words, then form and line. (The claim key itself, a
    look-alike skeleton, would sort "Mei" as "rnei".)"""
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
    with cycle_collector_paused():
        return _gathered(warehouse, outputs, settings or Settings(outputs=outputs), today)


def _gathered(warehouse: Warehouse, outputs: Path, settings: Settings, today: dt.date | None) -> VoucherReports:
    this_year = financial_year(today or dt.date.today())
    report = Report()
    forms = queries.voucher_forms_by_status(warehouse)
    figures = _figures(queries.loaded_and_held_lines_with_claim_keys(warehouse))
    claims = figures.claims
    ledger = read_ledger(settings.ledger_path) if settings.ledger_path else None
    control = [
        ["Voucher forms loaded", forms.get("loaded", 0)],
        ["Voucher lines loaded", figures.lines_loaded],
        ["£ loaded (signed and unsigned)", figures.pounds_loaded],
        ["Voucher forms held (errors to correct)", forms.get("held", 0)],
        ["Lines in held forms", figures.lines_held],
        ["£ in held forms (not yet loaded)", figures.pounds_held],
        ["Loaded lines not signed by the recipient", figures.unsigned],
        ["£ on loaded lines not signed", figures.pounds_unsigned],
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
        _group(_grouped(figures.by_month), lambda month: month.strftime("%Y-%m")),
    )
    report.table_sheet(
        "By activity",
        [Column("Activity", 36), Column("Lines", 8), Column("Forms", 8), Column("£", 14, POUNDS), hours],
        _group(_grouped(figures.by_activity)),
    )
    report.table_sheet(
        "By recipient",
        [Column("Recipient", 30), Column("Lines", 8), Column("Forms", 8), Column("£", 14, POUNDS), hours],
        _by_recipient(figures),
    )
    current, earlier, by_year = _lines_by_year(figures.lines, this_year)
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
        _double_claims(_double_claim_lines(figures)),
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
            for o in over_threshold(claims, settings.declare_threshold, people=figures.claimants)
        ],
        note=f"Recipients whose vouchers in some 12 months add up to more than £{settings.declare_threshold:,.2f} "
        "(setting declare_threshold): people on benefits must declare such payments.",
    )
    return VoucherReports(report, year_workbooks(outputs, LINE_COLUMNS, earlier))


def _lines_by_year(lines: list, this_year: str) -> tuple[list[list], dict[str, list[list]], list[list]]:
    """Every loaded or held line as a row of the Lines sheets: the ones the reconciliation lists
    (this year's and later, held, undated), each earlier year's loaded ones, and the counts and
    pounds per year."""
    current: list[list] = []
    earlier: dict[str, list[list]] = {}
    counts: dict[str | None, list] = {}
    years: dict[dt.date | None, str | None] = {None: None}  # of each date: a few hundred dates, many lines
    for row in lines:
        status, day, amount = row[0], row[4], row[7]
        if (year := years.get(day, "")) == "":
            year = years[day] = financial_year(day)
        line = [*row[:8], "yes" if row[8] else "NO", *row[9:13]]
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
