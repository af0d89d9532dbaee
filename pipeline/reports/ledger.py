"""Finance's ledger of vouchers issued (xlsx or csv): date, recipient, amount, voucher reference.

Columns are found by their heading (in any order, on the first rows of the first visible sheet);
dates are read day first and amounts exactly, as on the forms. A row that cannot be read is
listed with the reason, never silently dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pipeline.forms.labels import normalise
from schemas.values import ValueProblem, parse_money, parse_uk_date

# heading words for each column (normalised: lower case, no punctuation)
_HEADINGS = {
    "date": ("date", "date issued", "issue date", "issued", "date of issue"),
    "recipient": ("recipient", "name", "resident", "issued to", "recipient name", "paid to"),
    "amount": ("amount", "value", "voucher amount", "amount issued", "voucher value", "£"),
    "reference": (
        "reference",
        "voucher reference",
        "voucher ref",
        "ref",
        "voucher number",
        "voucher no",
        "voucher id",
        "code",
    ),
}
_HEADER_SEARCH_ROWS = 20


@dataclass(frozen=True)
class LedgerEntry:
    row: int  # row number in the file (1 = first row), for finance to find it
    date: dt.date
    recipient: str
    amount: Decimal
    reference: str | None


@dataclass
class Ledger:
    path: Path
    entries: list[LedgerEntry] = field(default_factory=list)
    unreadable_rows: list[tuple[int, str]] = field(default_factory=list)  # (row, why)
    error: str | None = None  # the whole file could not be used


def _rows_of(path: Path) -> list[list[object]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = next(ws for ws in book.worksheets if ws.sheet_state == "visible")
            return [list(row) for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):  # Excel on Windows saves CSV in cp1252
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:  # a title line or blank lines confuse the sniffer: Excel's own CSV then
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]


def _header(rows: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    for r, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for c, value in enumerate(row):
            text = normalise(str(value)) if value is not None else ""
            for column, words in _HEADINGS.items():
                if column not in found and text in words:
                    found[column] = c
        if {"date", "recipient", "amount"} <= found.keys():
            return r, found
    return None


def _why_not_opened(path: Path, exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{path.name} was not found in {path.parent.absolute()}: check the setting ledger_path."
    if isinstance(exc, PermissionError):
        return f"{path} cannot be read by this account: check the file's permissions."
    if isinstance(exc, IsADirectoryError):
        return f"{path} is a folder, not a file: the setting ledger_path names the ledger file itself."
    return f"{path} could not be opened: it may be damaged, or not an xlsx or csv file."


def read_ledger(path: Path) -> Ledger:
    ledger = Ledger(path)
    try:
        rows = _rows_of(path)
    except Exception as exc:  # a missing, damaged or locked file: say so in the report, not a crash
        ledger.error = _why_not_opened(path, exc)
        return ledger
    header = _header(rows)
    if header is None:
        ledger.error = (
            f"{path.name} has no heading row with Date, Recipient and Amount "
            "(and optionally Reference) in its first rows."
        )
        return ledger
    top, columns = header
    for r, row in enumerate(rows[top + 1 :], start=top + 2):
        values = [_cell(row, columns, name) for name in ("date", "recipient", "amount")]
        if all(v is None or str(v).strip() == "" for v in values):
            continue  # a blank row
        recipient = " ".join(str(_cell(row, columns, "recipient") or "").split())
        if any(str(v).strip().lower().startswith("total") for v in row if v is not None):
            continue  # a total row
        try:
            date = parse_uk_date(_cell(row, columns, "date"))
            amount = parse_money(_cell(row, columns, "amount"))
        except ValueProblem as exc:
            ledger.unreadable_rows.append((r, exc.message))
            continue
        if not recipient:
            ledger.unreadable_rows.append((r, "no recipient"))
            continue
        reference = _cell(row, columns, "reference")
        ledger.entries.append(
            LedgerEntry(r, date, recipient, amount, str(reference).strip() if reference not in (None, "") else None)
        )
    return ledger


def _cell(row: tuple, columns: dict[str, int], name: str) -> object:
    """The value in the ledger's column `name` on this row (None where there is none)."""
    c = columns.get(name)
    return row[c] if c is not None and c < len(row) else None
