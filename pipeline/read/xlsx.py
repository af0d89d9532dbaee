"""Excel .xlsx -> Document: one Line per non-empty row of every visible sheet.

openpyxl parses through defusedxml when it is installed (it is a dependency), so entity
tricks are refused. Rows and columns are capped so a sheet that declares a huge range
cannot exhaust memory. Cells keep their typed value (dates, numbers, booleans) beside the
text, so a real Excel date is never re-parsed from its display. A cell's text is cut at
MAX_CELL_CHARS and a workbook of absurd amounts of text is refused: 12,000 cells pointing at
one 1 MB shared string would otherwise be 12 GB of text.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile

import openpyxl
from openpyxl.utils import get_column_letter

from pipeline.document import Cell, Document, Location
from pipeline.problems import ProblemCode
from pipeline.read.errors import UnreadableFile
from pipeline.read.sniff import UnsafeZip, check_zip_is_safe
from pipeline.read.ticks import normalise_glyphs

MAX_ROWS = 5_000
MAX_COLS = 64
MAX_CELL_CHARS = 10_000
MAX_TOTAL_CHARS = 2_000_000  # 5,000 rows of a voucher sheet are ~500,000


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    # cut before anything else touches it: a shared string of a megabyte may fill every cell
    return normalise_glyphs(str(value)[:MAX_CELL_CHARS]).strip()


def _check_text_size(sheets_cells: list[dict]) -> int:
    """How many cells' text will be cut; refuses the workbook when its text, each cell cut to
    MAX_CELL_CHARS, passes MAX_TOTAL_CHARS. Measured before any text is processed, so such a
    file is refused at once."""
    total = cut = 0
    for cells in sheets_cells:
        for cell in cells.values():
            value = getattr(cell, "value", None)
            if isinstance(value, str):
                total += min(len(value), MAX_CELL_CHARS)
                cut += len(value) > MAX_CELL_CHARS
    if total > MAX_TOTAL_CHARS:
        raise UnreadableFile(
            ProblemCode.TOO_LARGE,
            f"The Excel file holds more than {MAX_TOTAL_CHARS:,} characters of text; a form "
            f"has far less, so it was not read.",
        )
    return cut


def _image_cells(ws) -> set[tuple[int, int]]:
    """(row, col) of every cell an embedded picture (a signature) is anchored to."""
    cells = set()
    for image in getattr(ws, "_images", []):
        start = getattr(getattr(image, "anchor", None), "_from", None)
        if start is not None:
            cells.add((start.row + 1, start.col + 1))
    return cells


def read_xlsx(data: bytes, own_conversion: bool = False) -> Document:
    """`own_conversion`: the bytes are LibreOffice's output of our own conversion (no zip-ratio
    check; the size caps hold)."""
    try:
        check_zip_is_safe(data, check_ratio=not own_conversion)
    except UnsafeZip as exc:
        raise UnreadableFile(ProblemCode.TOO_LARGE, f"The Excel file expands to an unsafe size ({exc}).") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about data validation, styles, ...
            # keep_links=False: links to other workbooks are not needed, and openpyxl fails on
            # those LibreOffice writes (a link part with no relationships of its own)
            wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True, rich_text=False, keep_links=False)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, IndexError, AttributeError) as exc:
        raise UnreadableFile(
            ProblemCode.CORRUPT_FILE, f"The Excel file could not be opened ({type(exc).__name__})."
        ) from exc
    except Exception as exc:
        raise UnreadableFile(
            ProblemCode.CORRUPT_FILE, f"The Excel file could not be opened ({type(exc).__name__})."
        ) from exc

    doc = Document(format="xlsx")
    sheets = []
    for sheet_no, ws in enumerate(wb.worksheets, start=1):
        if ws.sheet_state != "visible":
            continue  # hidden sheets hold option lists for validation, not answers
        images = _image_cells(ws)
        # Only the cells the file really holds, by position: iterating the declared range would
        # create every empty cell of a sheet that claims A1:XFD1048576. A signature picture may
        # sit in a cell with no value, so its position counts too.
        positions = {pos: cell for pos, cell in ws._cells.items() if cell.value not in (None, "")}
        positions.update({pos: ws._cells.get(pos) for pos in images if pos not in positions})
        kept = {pos: cell for pos, cell in positions.items() if pos[0] <= MAX_ROWS and pos[1] <= MAX_COLS}
        if len(kept) < len(positions):
            doc.notes.append(f"sheet {ws.title} cut to {MAX_ROWS} rows x {MAX_COLS} columns")
        sheets.append((sheet_no, ws.title, images, kept))
    cut_cells = _check_text_size([kept for *_, kept in sheets])
    for sheet_no, title, images, kept in sheets:
        by_row: dict[int, list] = {}
        for (r, c), xl_cell in sorted(kept.items()):
            by_row.setdefault(r, []).append((c, xl_cell))
        for r, row in by_row.items():
            cells = []
            for c, xl_cell in row:
                value = getattr(xl_cell, "value", None)
                has_image = (r, c) in images
                text = _cell_text(value)
                if not text and not has_image:
                    continue
                ref = f"{get_column_letter(c)}{r}"
                typed = value if not isinstance(value, str) else None
                cells.append(Cell(text, Location(sheet=title, cell=ref), c - 1, typed, has_image))
            doc.add_row(cells, sheet_no)
    wb.close()
    if cut_cells:
        doc.notes.append(f"{cut_cells} cell(s) cut to {MAX_CELL_CHARS:,} characters")
    return doc
