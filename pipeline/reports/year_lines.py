"""OUTPUTS/voucher_lines/voucher_lines_YYYY-YY.xlsx: the voucher lines of each earlier financial year.

The reconciliation workbook lists the lines of the current financial year (and every line of a
held form or without a date); each earlier year's loaded lines have a workbook of their own,
rewritten only when one of its lines changes (a late form, a correction, an admin's action). So
what a weekly run writes follows the year's volume, not every voucher line ever claimed.

Which years changed is known by a fingerprint of each year's rows, kept beside the files: the
rows are fetched every run (cheap), only the workbooks are not rewritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.files import write_atomically
from pipeline.reports.workbook import Column, Report

YEARS_FOLDER = "voucher_lines"
_FINGERPRINTS = ".fingerprints.json"
FIRST_MONTH = 4  # the council's financial year runs from 1 April to 31 March
_YEAR = re.compile(r"\d{4}-\d{2}")


def financial_year(day: dt.date) -> str:
    """'2025-26' for any day from 1 April 2025 to 31 March 2026."""
    first = day.year if day.month >= FIRST_MONTH else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def year_span(year: str) -> str:
    first = int(year[:4])
    return f"1 April {first} to 31 March {first + 1}"


def year_file_name(year: str) -> str:
    return f"{YEARS_FOLDER}/voucher_lines_{year}.xlsx"


def _fingerprint(columns: list[Column], rows: list[list]) -> str:
    digest = hashlib.sha256(repr([c.title for c in columns]).encode())
    for row in rows:
        digest.update(repr(row).encode())
    return digest.hexdigest()


@dataclass
class YearWorkbooks:
    """The earlier years' line workbooks: the ones to (re)write now, and what to record after."""

    folder: Path
    to_write: dict[Path, Report] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    stale: list[Path] = field(default_factory=list)

    def finish(self) -> None:
        """Once the workbooks are written: remember what they hold, and remove the files of years
        that no longer have a loaded line (every form of that year corrected away or rejected)."""
        for path in self.stale:
            path.unlink(missing_ok=True)
        if self.fingerprints or self.folder.exists():
            write_atomically(
                self.folder / _FINGERPRINTS, json.dumps(self.fingerprints, indent=1, sort_keys=True).encode()
            )


def year_workbooks(outputs: Path, columns: list[Column], rows_by_year: dict[str, list[list]]) -> YearWorkbooks:
    """The workbooks of the years whose rows differ from what their file was written with (or
    whose file is missing); the others are left as they are."""
    folder = outputs / YEARS_FOLDER
    try:
        written = json.loads((folder / _FINGERPRINTS).read_text())
    except (OSError, ValueError):
        written = {}  # none yet, or unreadable: every year is written again
    years = YearWorkbooks(folder)
    for year, rows in sorted(rows_by_year.items()):
        fingerprint = _fingerprint(columns, rows)
        years.fingerprints[year] = fingerprint
        path = outputs / year_file_name(year)
        if written.get(year) != fingerprint or not path.exists():
            report = Report()
            report.table_sheet(
                "Lines",
                columns,
                rows,
                note=f"Voucher lines of loaded forms dated in financial year {year} "
                f"({year_span(year)}). The figures are in voucher_reconciliation.xlsx; this "
                "workbook is rewritten whenever one of its lines changes.",
            )
            years.to_write[path] = report
    years.stale = [
        outputs / year_file_name(year) for year in written if year not in rows_by_year and _YEAR.fullmatch(year)
    ]
    return years
