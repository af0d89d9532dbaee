"""The original file of a submission, shown beside its values, with each problem's place marked.

The file is always found by the submission's SHA-256 in the archive (never by a path from the
request). What the page shows depends on the file:

- a PDF, a scan or a photo: its pages as pictures (pypdfium2 for PDF pages, Pillow for pictures).
  The place a problem names is boxed on the picture: the boxes are the cells the reader itself
  read (its own numbering of tables, rows and columns), so a box is exactly where the problem's
  location says. A scan is shown as its reader straightened it (turned, deskewed, the table
  squared), where its boxes are; working that out runs OCR again (seconds a page, once a file).
  A PDF's pages without text (a scanner's) are shown unboxed.
- a Word or Excel file (or an old .doc/.xls, an OpenDocument file, through LibreOffice as the run
  does): an HTML rendering of what the reader read, in order: Word's paragraphs and tables, each
  sheet as a grid with its row numbers and column letters. A problem's paragraph or cell is
  marked, and carries the problem's number (the mark is never colour alone).

Working all this out reads the whole file, with the same time and memory limits as a run's
reading (pipeline.read.isolated: a file is hostile until read); it is done once per file and kept
in OUTPUTS/web-cache/<sha256>/ (the pages' pictures and view.json). The marks are drawn on each
request, since problems change as the admin acts.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.files import private_dir, write_atomically
from pipeline.intake.archive import archive_path

PAGE_SCALE = 1.5  # page pictures at 108 dots an inch: a form's text is readable beside the values
IMAGE_WIDTH = 1240  # a scan or photo is shown this many pixels wide at most
MAX_PAGES = 40  # pages shown of one file (a form has a few)
MAX_SHEET_ROWS = 400  # an Excel sheet's rows shown
MAX_SHEET_COLUMNS = 40
MAX_SHOWN_BYTES = 30 * 1024 * 1024  # a form is far smaller; a bigger file is not rendered here
CACHE_VERSION = 3
MARK_COLOUR = (212, 53, 28)  # GOV.UK red: the box and its number

_SHEET_CELL = re.compile(r"^(?P<sheet>.+)!\$?(?P<col>[A-Z]{1,3})\$?(?P<row>\d+)$")
_PAGE_CELL = re.compile(r"^page (?P<page>\d+)\b")


@dataclass
class Original:
    """What the page shows of one file."""

    kind: str  # "pages" (pictures of pages), "word", "excel" or "none" (nothing can be shown)
    pages: int = 0
    # a PDF's cells: location as stored (e.g. "page 1, table 1, row 3, column 5") -> [page, x0, top, x1, bottom]
    # in the page picture's pixels
    boxes: dict[str, list[float]] = field(default_factory=dict)
    blocks: list[dict] = field(default_factory=list)  # word: paragraphs and tables, in order
    sheets: list[dict] = field(default_factory=list)  # excel: each sheet's grid
    note: str | None = None  # said above the original, e.g. why nothing is marked on a scan

    def page_of(self, location: str | None) -> int | None:
        """The page a location is on (a PDF's or a scan's), if it names one."""
        if not location:
            return None
        if location in self.boxes:
            return int(self.boxes[location][0])
        found = _PAGE_CELL.match(location)
        return int(found["page"]) if found and int(found["page"]) <= self.pages else None


def cache_dir(outputs: Path, sha256: str) -> Path:
    return outputs / "web-cache" / sha256


def original_of(outputs: Path, sha256: str) -> Original:
    """The file's rendering, worked out on first use and then read from the cache."""
    folder = cache_dir(outputs, sha256)
    view = folder / "view.json"
    if view.is_file():
        kept = json.loads(view.read_text())
        if kept.get("version") == CACHE_VERSION:
            return Original(**kept["original"])
    source = archive_path(outputs / "archive", sha256)
    if not source.is_file():
        return Original("none", note="The original file is not in the archive.")
    if source.stat().st_size > MAX_SHOWN_BYTES:
        return Original("none", note="The original is too large to show here: open it from the archive.")
    original, pictures = _survey_isolated(source.read_bytes())
    private_dir(folder)
    for number, png in enumerate(pictures, start=1):
        write_atomically(folder / f"page-{number}.png", png)
    write_atomically(view, json.dumps({"version": CACHE_VERSION, "original": original.__dict__}).encode())
    return original


def page_picture(outputs: Path, sha256: str, page: int, marks: list[tuple[int, list[float]]]) -> bytes | None:
    """A page's picture as PNG, with each mark (problem number, [page, x0, top, x1, bottom]) boxed
    and numbered; None when the file has no such page."""
    from PIL import Image, ImageDraw, ImageFont

    original = original_of(outputs, sha256)
    if original.kind != "pages" or not 1 <= page <= original.pages:
        return None
    path = cache_dir(outputs, sha256) / f"page-{page}.png"
    if not path.is_file():
        return None
    if not marks:
        return path.read_bytes()
    with Image.open(path) as picture:
        image = picture.convert("RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=18)
    for number, (_page, x0, top, x1, bottom) in marks:
        draw.rectangle((x0 - 3, top - 3, x1 + 3, bottom + 3), outline=MARK_COLOUR, width=4)
        label = str(number)
        # the number sits on the box's top right corner, above it: a cell's words start on its left
        width = 12 + 11 * len(label)
        left, label_top = max(0, x1 + 3 - width), max(0, top - 3 - 26)
        draw.rectangle((left, label_top, left + width, label_top + 24), fill=MARK_COLOUR)
        draw.text((left + 6, label_top + 2), label, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# ------------------------------------------------------------ in a limited child process


def _survey_isolated(data: bytes) -> tuple[Original, list[bytes]]:
    from pipeline.read.errors import UnreadableFile
    from pipeline.read.isolated import read_isolated

    try:
        kind, original, pictures = read_isolated(survey, data, seconds=_seconds_for(data))
    except UnreadableFile as exc:
        return Original("none", note=f"The original cannot be shown: {exc.message}"), []
    return Original(kind=kind, **original), pictures


def _seconds_for(data: bytes) -> float:
    """The time a reading may take: a run's, and a scan's OCR allowance for each page it may hold."""
    from pipeline.read.isolated import SECONDS
    from pipeline.read.limits import ReadLimits, ocr_max_pages
    from pipeline.read.sniff import IMAGE_FORMATS, Format, sniff

    fmt = sniff(data)
    if fmt not in IMAGE_FORMATS:
        return SECONDS
    pages = ocr_max_pages() if fmt in (Format.TIFF, Format.HEIC) else 1
    return SECONDS + pages * ReadLimits().ocr_page_seconds


def survey(data: bytes) -> tuple[str, dict, list[bytes]]:
    """(kind, the Original's other fields, the pages' pictures as PNG): run in a limited child."""
    from pipeline.read.sniff import IMAGE_FORMATS, Format, sniff

    fmt = sniff(data)
    if fmt is Format.PDF:
        return _survey_pdf(data)
    if fmt in IMAGE_FORMATS:
        return _survey_picture(data)
    return _survey_document(data)


def _survey_pdf(data: bytes) -> tuple[str, dict, list[bytes]]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        pictures = []
        for number in range(min(len(pdf), MAX_PAGES)):
            page = pdf[number]
            image = page.render(scale=PAGE_SCALE).to_pil().convert("RGB")
            page.close()
            pictures.append(_png(image))
    finally:
        pdf.close()
    return "pages", {"pages": len(pictures), "boxes": _pdf_cell_boxes(data)}, pictures


def _pdf_cell_boxes(data: bytes) -> dict[str, list[float]]:
    """Where each table cell the PDF reader read is on its page, by the reader's own location of
    it (pipeline.read.pdf.cell_boxes), scaled to the page pictures. Pages with no text layer are
    not OCR'd here (their cells are a scan's, not boxed)."""
    from pipeline.read.pdf import cell_boxes

    try:
        found = cell_boxes(data)
    except Exception:  # the boxes are a help; the page pictures are shown without them
        return {}
    return {str(location): [page_no, *(v * PAGE_SCALE for v in box)] for location, (page_no, *box) in found.items()}


def _survey_picture(data: bytes) -> tuple[str, dict, list[bytes]]:
    """A scan's pages as the reader straightened them (turned, deskewed, its table squared), with
    the box of every cell and line it read: the reader is run again, OCR and all (seconds a page,
    once per file), with its page cleaning watched (in this child process only). Should that
    fail, the pictures as they came, unboxed."""
    from PIL import Image

    from pipeline.read.scan import page as scan_page
    from pipeline.read.scan import reader

    straightened: dict[int, object] = {}
    current = {"page": 0}
    read_page, clean = reader.read_page, scan_page.clean

    def watched_page(image, page_no, doc, table_no):
        current["page"] = page_no
        return read_page(image, page_no, doc, table_no)

    def watched_clean(image):
        cleaned = clean(image)
        straightened[current["page"]] = cleaned.grey
        return cleaned

    reader.read_page, scan_page.clean = watched_page, watched_clean
    try:
        doc = reader.read_image(data)
    except Exception:
        return _pictures_as_they_came(data)
    pictures, scales = [], {}
    for number in range(1, max(straightened, default=0) + 1):
        grey = straightened.get(number)
        if grey is None:  # not a page (too small to read): nothing to box on it
            return _pictures_as_they_came(data)
        image = Image.fromarray(grey)
        scales[number] = min(1.0, IMAGE_WIDTH / image.width)
        if scales[number] < 1:
            size = (IMAGE_WIDTH, round(image.height * scales[number]))
            image = image.resize(size, Image.Resampling.LANCZOS)
        pictures.append(_png(image))
    boxes: dict[str, list[float]] = {}
    for line in doc.lines:
        for cell in line.cells:
            where = cell.location
            if where.box is not None and where.page in scales:
                scale = scales[where.page]
                boxes[str(where)] = [where.page, *(v * scale for v in where.box)]
    note = "A scan or photo, shown as it was straightened for reading."
    return "pages", {"pages": len(pictures), "boxes": boxes, "note": note}, pictures


def _pictures_as_they_came(data: bytes) -> tuple[str, dict, list[bytes]]:
    from PIL import Image

    from pipeline.read.scan.images import decode_pages

    pictures = []
    for page in decode_pages(data, MAX_PAGES):
        if page.width > IMAGE_WIDTH:
            page = page.resize((IMAGE_WIDTH, round(page.height * IMAGE_WIDTH / page.width)), Image.Resampling.LANCZOS)
        pictures.append(_png(page))
    note = (
        "A scan or photo: the places of its problems are not boxed on it (it could not be straightened again "
        "as it was for reading); the picture of each doubtful spot is shown with its problem."
    )
    return "pages", {"pages": len(pictures), "note": note}, pictures


def _survey_document(data: bytes) -> tuple[str, dict, list[bytes]]:
    from pipeline.read import read_document

    doc = read_document(data)
    sheets: dict[str, dict[tuple[int, int], str]] = {}
    blocks: list[dict] = []
    for line in doc.lines:
        for cell in line.cells:
            if cell.location.sheet is not None and cell.location.cell:
                found = _SHEET_CELL.match(f"{cell.location.sheet}!{cell.location.cell}")
                if found:
                    grid = sheets.setdefault(cell.location.sheet, {})
                    grid[(int(found["row"]), _column_number(found["col"]))] = cell.text
        if line.kind == "paragraph" and line.cells[0].location.sheet is None:
            blocks.append({"type": "p", "text": line.cells[0].text, "where": str(line.cells[0].location)})
        elif line.kind == "row" and line.cells[0].location.sheet is None:
            _add_row(blocks, line)
    if sheets:
        return "excel", {"sheets": [_sheet(name, grid) for name, grid in sheets.items()]}, []
    return "word", {"blocks": blocks}, []


def _add_row(blocks: list[dict], line) -> None:
    """A table row, with a place for every column up to its last (blank cells are not in the
    Document, but a problem may name one: a value left out)."""
    first = line.cells[0].location
    if not blocks or blocks[-1]["type"] != "table" or blocks[-1]["no"] != first.table:
        blocks.append({"type": "table", "no": first.table, "rows": [], "columns": 0})
    table = blocks[-1]
    # keys as text: the rendering is kept as JSON, whose keys are text
    by_col = {str(c.location.col): c.text for c in line.cells if c.location.col}
    table["columns"] = max(table["columns"], max((int(col) for col in by_col), default=0))
    table["rows"].append({"no": first.row, "cells": by_col})


def _sheet(name: str, grid: dict[tuple[int, int], str]) -> dict:
    last_row = min(max(r for r, _ in grid), MAX_SHEET_ROWS)
    last_col = min(max(c for _, c in grid), MAX_SHEET_COLUMNS)
    letters = [_column_letters(c) for c in range(1, last_col + 1)]
    rows = [
        {
            "no": r,
            "cells": [
                {"text": grid.get((r, c), ""), "where": f"{name}!{letters[c - 1]}{r}"} for c in range(1, last_col + 1)
            ],
        }
        for r in range(1, last_row + 1)
    ]
    return {"name": name, "columns": letters, "rows": rows}


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def normal_location(location: str | None) -> str | None:
    """A location as the renderings name places ("Vouchers!$E$7" -> "Vouchers!E7")."""
    return location.replace("$", "") if location else location
