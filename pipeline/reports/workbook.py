"""Formatted, filterable workbooks that never carry a formula from input.

Every string is written as a string cell (openpyxl would otherwise turn "=..." into a
formula); the sheet gets a bold frozen header, a filter, sensible widths and UK formats.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.files import write_atomically

POUNDS = '"£"#,##0.00'
DATE = "dd/mm/yyyy"
DATETIME = "dd/mm/yyyy hh:mm"
LONDON = ZoneInfo("Europe/London")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
_CONTROL = dict.fromkeys(range(32))
del _CONTROL[9], _CONTROL[10]


@dataclass(frozen=True)
class Column:
    title: str
    width: int = 16
    format: str | None = None  # POUNDS, DATE, DATETIME
    wrap: bool = False


def local_time(value: dt.datetime | None) -> dt.datetime | None:
    """UTC (as stored) -> London wall-clock time, naive, as Excel wants it."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(LONDON).replace(tzinfo=None)


def write_cell(ws: Worksheet, row: int, col: int, value: object, number_format: str | None = None):
    if isinstance(value, str):
        value = value.translate(_CONTROL)  # control characters are not allowed in xlsx
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    elif isinstance(value, Decimal) and number_format is None:
        cell.number_format = POUNDS  # Decimal is only ever money here
    if number_format:
        cell.number_format = number_format
    return cell


def add_table_sheet(wb: Workbook, title: str, columns: Sequence[Column], rows: Iterable[Sequence[object]],
                    note: str | None = None) -> Worksheet:
    ws = wb.create_sheet(title)
    top = 1
    if note:
        write_cell(ws, 1, 1, note).font = Font(italic=True)
        top = 3
    for c, column in enumerate(columns, start=1):
        cell = write_cell(ws, top, c, column.title)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(c)].width = column.width
    r = top
    for r, row in enumerate(rows, start=top + 1):
        lines = 1
        for c, (column, value) in enumerate(zip(columns, row, strict=True), start=1):
            cell = write_cell(ws, r, c, value, column.format)
            if column.wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                lines = max(lines, _wrapped_lines(value, column.width))
        if lines > 1:  # neither Excel nor LibreOffice sizes rows of a generated file
            ws.row_dimensions[r].height = 15 * lines
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(columns))}{max(r, top)}"
    # printed, it fits the page width, landscape, with the header on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.print_title_rows = f"{top}:{top}"
    return ws


def _wrapped_lines(value: object, width: int) -> int:
    if not isinstance(value, str) or not value:
        return 1
    per_line = max(width - 2, 1)
    return min(sum(-(-len(part) // per_line) or 1 for part in value.split("\n")), 15)


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def save_atomically(wb: Workbook, path: Path) -> None:
    """Save so that a reader (or a crash) never meets half a workbook."""
    buffer = io.BytesIO()
    wb.save(buffer)
    write_atomically(path, buffer.getvalue())
