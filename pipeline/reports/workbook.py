"""Formatted, filterable workbooks that never carry a formula from input.

Gathered as plain rows, then written with xlsxwriter row by row in constant memory: every
string is written as a string cell, never a formula, whatever it starts with; each sheet gets
a bold frozen header, a filter, sensible widths, UK formats and print setup.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from pipeline.files import write_atomically

POUNDS = '"£"#,##0.00'
DATE = "dd/mm/yyyy"
DATETIME = "dd/mm/yyyy hh:mm"
LONDON = ZoneInfo("Europe/London")
_CONTROL = dict.fromkeys(range(32))
del _CONTROL[9], _CONTROL[10]


@dataclass(frozen=True)
class Column:
    title: str
    width: int = 16
    format: str | None = None  # POUNDS, DATE, DATETIME
    wrap: bool = False
    # its values are paths relative to the workbook's folder (a picture beside it), each written as
    # a link that opens the file; a value the caller has not checked must never be one
    link_text: str | None = None


def local_time(value: dt.datetime | None) -> dt.datetime | None:
    """UTC (as stored) -> London wall-clock time, naive, as Excel wants it."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(LONDON).replace(tzinfo=None)


def _wrapped_lines(value: object, width: int) -> int:
    if not isinstance(value, str) or not value:
        return 1
    per_line = max(width - 2, 1)
    if len(value) <= per_line and "\n" not in value:
        return 1
    return min(sum(-(-len(part) // per_line) or 1 for part in value.split("\n")), 15)


def _write_cell(ws, row: int, col: int, value: object, cell_format) -> None:
    if value is None:
        ws.write_blank(row, col, None, cell_format)
    elif isinstance(value, str):
        ws.write_string(row, col, value.translate(_CONTROL), cell_format)  # never a formula
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, cell_format)
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value), cell_format)
    elif isinstance(value, (dt.datetime, dt.date)):
        ws.write_datetime(row, col, value, cell_format)
    else:
        ws.write_string(row, col, str(value).translate(_CONTROL), cell_format)


def _kind(value: object) -> type | None:
    """How a value is written (as _write_cell writes it): str, None (blank), dt.date (a date or a
    time), bool, Decimal (a number in money format unless the column has its own) or int (a number)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return bool
    if isinstance(value, Decimal):
        return Decimal
    if isinstance(value, (int, float)):
        return int
    if isinstance(value, (dt.datetime, dt.date)):
        return dt.date
    return str


_KINDS = {kind: _kind(value) for kind, value in [(str, ""), (int, 0), (float, 0.0), (Decimal, Decimal(0))]}
_KINDS |= {type(None): None, bool: bool, dt.date: dt.date, dt.datetime: dt.date}
_UNSEEN = object()

# in a string, what xlsxwriter escapes (&<>), or writes otherwise (_x, non-characters, <r>)
_MARKUP = re.compile("[&<>\ufffe\uffff]|_x")
_KEEP_SPACE = ' xml:space="preserve"'


class _RowsSheet(Worksheet):
    """xlsxwriter's worksheet (constant memory) with one more way in: write_values, a row of plain
    values written as one string of XML, byte for byte what write_string, write_number,
    write_datetime and write_blank write cell by cell (~70,000 cells a run: called cell by cell,
    xlsxwriter's checks and calls per cell were most of the time a workbook took). A value it does
    not write itself (a boolean, NaN, a string xlsxwriter escapes or shortens) sends the row back to
    those calls. tests/reports/test_workbook_rows.py holds the two to the same bytes."""

    def __init__(self) -> None:
        super().__init__()
        self._xf_of: dict[object, int] = {}  # a format -> its index, given as xlsxwriter gives it
        self._letters: list[str] = []  # the columns' letters
        # the rows given a height by set_row: row_info since xlsxwriter 3.3, set_rows before
        self._set_rows: dict = self.row_info if hasattr(self, "row_info") else self.set_rows

    def write_values(self, row: int, values: Sequence[object], formats: Sequence[tuple[object, object]]) -> bool:
        """Write `values` from column A on `row`, each in its column's format (the second of its
        pair for a Decimal); False, having written nothing, if the row must be written cell by cell."""
        if row > self.previous_row:  # the row before, if written cell by cell, is finished first
            self._write_single_row(row)
        xf_of, letters = self._xf_of, self._letters
        while len(letters) < len(values):
            letters.append(xl_col_to_name(len(letters)))
        number_at = str(row + 1)
        half_of_longest = self.xls_strmax // 2
        cells = []
        for letter, value, (plain, money) in zip(letters, values, formats, strict=False):
            if (kind := _KINDS.get(type(value), _UNSEEN)) is _UNSEEN:
                kind = _kind(value)
            cell_format = money if kind is Decimal else plain
            # an index for each format in the order xlsxwriter gives them: as the cells are written
            if (xf := xf_of.get(cell_format)) is None:
                xf = xf_of[cell_format] = cell_format._get_xf_index()
            if kind is str:
                text = (value if isinstance(value, str) else str(value)).translate(_CONTROL)
                if len(text) > half_of_longest:
                    return False  # perhaps shortened by xlsxwriter
                if _MARKUP.search(text):
                    # written otherwise by xlsxwriter: a string holding what looks like its own escape
                    # of a control character (_x0000_) or a non-character, rich text (<r>...</r>)
                    if "_x" in text or "\ufffe" in text or "\uffff" in text:
                        return False
                    if text.startswith("<r>") and text.endswith("</r>"):
                        return False
                    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                # leading or trailing white space kept, where xlsxwriter's ^\s|\s$ finds it
                kept = _KEEP_SPACE if text and (text[0].isspace() or text[-1].isspace()) else ""
                cells.append(f'<c r="{letter}{number_at}" s="{xf}" t="inlineStr"><is><t{kept}>{text}</t></is></c>')
            elif kind is int or kind is Decimal:
                number = float(value)
                if number - number != 0:  # NaN or infinite: xlsxwriter raises, or writes an error
                    return False
                cells.append(f'<c r="{letter}{number_at}" s="{xf}"><v>{number:.16G}</v></c>')
            elif kind is None:
                cells.append(f'<c r="{letter}{number_at}" s="{xf}"/>')
            elif kind is dt.date:
                cells.append(f'<c r="{letter}{number_at}" s="{xf}"><v>{self._convert_date_time(value):.16G}</v></c>')
            else:  # a boolean
                return False
        if not cells:
            return True
        self._check_dimensions(row, 0)
        self._check_dimensions(row, len(values) - 1)
        if row in self._set_rows or self.default_row_height != self.original_row_height or self.excel_version != 2007:
            self._write_row(row, None, self._set_rows.get(row))  # a <row> with a height or more
            self.fh.write("".join(cells) + "</row>")
        else:  # what _write_row writes for a row of the default height
            self.fh.write(f'<row r="{number_at}">' + "".join(cells) + "</row>")
        # written: xlsxwriter must not write this row again (an empty one, were its height set)
        self.previous_row = row + 1
        return True


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: list[list[object]]
    note: str | None = None
    # printed: only the first this many columns (the ones a person reads on paper; the rest are for
    # filtering and looking up); None prints them all
    print_columns: int | None = None


class Report:
    """One workbook: its sheets are gathered first, as plain values (so a report gathered here can
    be rendered in another process while this one gathers the next), then rendered to bytes or
    saved in place atomically."""

    def __init__(self) -> None:
        self.sheets: list[Sheet] = []

    def table_sheet(
        self,
        title: str,
        columns: Sequence[Column],
        rows: Iterable[Sequence[object]],
        note: str | None = None,
        print_columns: int | None = None,
    ) -> Sheet:
        # a row that is a list already is kept, not copied: the reconciliation's longest sheets are
        # lists made for it, some 10^4 rows
        sheet = Sheet(
            title, list(columns), [row if type(row) is list else list(row) for row in rows], note, print_columns
        )
        for row in sheet.rows:
            if len(row) != len(sheet.columns):
                raise ValueError(f"{title}: a row has {len(row)} values for {len(sheet.columns)} columns")
        self.sheets.append(sheet)
        return sheet

    def cells(self) -> int:
        return sum(len(sheet.rows) * len(sheet.columns) for sheet in self.sheets)

    def render(self) -> bytes:
        return _Rendering().workbook(self.sheets)

    def save(self, path: Path) -> None:
        """Save so that a reader (or a crash) never meets half a workbook."""
        write_atomically(path, self.render())


class _Rendering:
    """One workbook being written by xlsxwriter, row by row in constant memory."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self.book = xlsxwriter.Workbook(
            self._buffer,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self._formats: dict[tuple, object] = {}

    def fmt(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.book.add_format(props)
        return self._formats[key]

    def _column_formats(self, column: Column) -> tuple[object, object]:
        """The cell format of a column's values, and of its Decimal values (money, unless the
        column says otherwise): decided once per column, not per cell."""
        # every value at the top of its row: a row made tall by one wrapped cell still reads across
        wrap = {"text_wrap": True, "valign": "top"} if column.wrap else {"valign": "top"}

        def made(number_format: str | None):
            return self.fmt(**({"num_format": number_format} if number_format else {}) | wrap)

        return made(column.format), made(column.format or POUNDS)

    def workbook(self, sheets: Sequence[Sheet]) -> bytes:
        for sheet in sheets:
            self._sheet(sheet)
        self.book.close()
        return self._buffer.getvalue()

    def _sheet(self, sheet: Sheet) -> None:
        columns = sheet.columns
        ws = self.book.add_worksheet(sheet.title, worksheet_class=_RowsSheet)
        top = 0
        if sheet.note:
            ws.write_string(0, 0, sheet.note, self.fmt(italic=True))
            top = 2
        header = self.fmt(bold=True, font_color="#FFFFFF", bg_color="#1F4E78", text_wrap=True, valign="vcenter")
        for c, column in enumerate(columns):
            ws.set_column(c, c, column.width)
        formats = [self._column_formats(column) for column in columns]
        for c, column in enumerate(columns):
            ws.write_string(top, c, column.title, header)
        wrapped = [(c, column.width) for c, column in enumerate(columns) if column.wrap]
        links = [c for c, column in enumerate(columns) if column.link_text]
        r = top
        for r, row in enumerate(sheet.rows, start=top + 1):
            if wrapped and (lines := max(_wrapped_lines(row[c], width) for c, width in wrapped)) > 1:
                ws.set_row(r, 15 * lines)  # neither Excel nor LibreOffice sizes rows of a generated file
            if (
                row
                and not (links and any(isinstance(row[c], str) and row[c] for c in links))
                and ws.write_values(r, row, formats)
            ):
                continue
            for c, value in enumerate(row):
                plain, money = formats[c]
                if columns[c].link_text and isinstance(value, str) and value:
                    ws.write_url(
                        r, c, "external:" + value, self.fmt(font_color="blue", underline=1), columns[c].link_text
                    )
                    continue
                _write_cell(ws, r, c, value, money if isinstance(value, Decimal) else plain)
        ws.freeze_panes(top + 1, 0)
        ws.autofilter(top, 0, max(r, top), len(columns) - 1)
        # printed, it fits the page width, landscape, with the header on every page
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.5)
        ws.hide_gridlines(0)  # gridlines printed too: a row of wrapped text is followed across the page
        ws.repeat_rows(top)
        if sheet.print_columns:
            ws.print_area(0, 0, max(r, top), sheet.print_columns - 1)
