"""A row written whole (pipeline.reports.workbook._RowsSheet.write_values) is byte for byte what
xlsxwriter writes cell by cell: every kind of value a report holds, and the strings xlsxwriter
escapes, shortens or reads as rich text, give the same workbook either way."""

from __future__ import annotations

import datetime as dt
import enum
import io
import zipfile
from decimal import Decimal
from pathlib import PurePosixPath

import pytest

from pipeline.reports import workbook
from pipeline.reports.workbook import DATE, DATETIME, POUNDS, Column, Report


class Colour(str, enum.Enum):  # noqa: UP042 (str() of it is "Colour.RED", its text "red")
    RED = "red"


class Size(enum.IntEnum):
    LARGE = 3


VALUES = [
    None,
    "",
    "plain",
    "Smith & Sons <ltd> \"quoted\" 'single'",
    " leading space",
    "trailing space ",
    "two\nlines",
    "ends in a new line\n",
    "\n",
    "\u00a0no-break space first",
    "ideographic space last\u3000",
    "\u2028line separator first",
    "\ttab first",
    "bell\x07 and escape\x1b removed",
    "looks like an escape: _x0041_",
    "a non-character \ufffe here",
    "<r>rich to xlsxwriter</r>",
    "x" * 20_000,  # shortened by xlsxwriter past 32,767 UTF-16 units? not this one, but it is long
    "😀" * 17_000,  # 34,000 UTF-16 units: shortened
    "=1+1",
    "émigré – “quotes”",
    0,
    -1,
    2**53 + 1,
    1.5,
    1 / 3,
    1e20,
    -0.0,
    True,
    False,
    Decimal("0.00"),
    Decimal("-12.345"),
    Decimal("1234567.89"),
    dt.date(2025, 4, 1),
    dt.date(1900, 2, 28),
    dt.datetime(2025, 10, 26, 1, 30, 15, 123456),
    PurePosixPath("ocr-crops/abc/def.png"),
    Colour.RED,
    Size.LARGE,
]
COLUMNS = [
    Column("Text", 12, wrap=True),
    Column("Any", 16),
    Column("Money", 12, POUNDS),
    Column("Date", 12, DATE),
    Column("When", 16, DATETIME),
    Column("Picture", 10, link_text="picture"),
]


def _report() -> Report:
    report = Report()
    rows = []
    for n, value in enumerate(VALUES):
        link = "ocr-crops/0123456789abcdef/spot_1.png" if n % 7 == 3 else None
        rows.append([value, VALUES[-1 - n], value, value, VALUES[(n * 5) % len(VALUES)], link])
    report.table_sheet("Every value", COLUMNS, rows, note="A note above the table.", print_columns=3)
    report.table_sheet("Empty", [Column("Nothing", 10)], [])
    report.table_sheet("One column", [Column("Only", 10)], [[value] for value in VALUES if value is not True])
    return report


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return {name: book.read(name) for name in book.namelist() if name != "docProps/core.xml"}


def test_rows_written_whole_are_the_bytes_xlsxwriter_writes_cell_by_cell(monkeypatch):
    whole = _parts(_report().render())
    monkeypatch.setattr(workbook._RowsSheet, "write_values", lambda *_args: False)
    cell_by_cell = _parts(_report().render())
    assert whole.keys() == cell_by_cell.keys()
    for name in whole:
        assert whole[name] == cell_by_cell[name], name


def test_most_rows_are_written_whole(monkeypatch):
    """Else the test above would hold however write_values wrote."""
    written = []
    original = workbook._RowsSheet.write_values

    def counted(self, row, values, formats):
        written.append(done := original(self, row, values, formats))
        return done

    monkeypatch.setattr(workbook._RowsSheet, "write_values", counted)
    _report().render()
    assert written.count(True) > len(VALUES)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_number_xlsxwriter_refuses_is_refused_as_before(value):
    report = Report()
    report.table_sheet("Numbers", [Column("n", 8)], [[value]])
    with pytest.raises(TypeError):
        report.render()
