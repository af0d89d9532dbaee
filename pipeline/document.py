"""The neutral document every reader produces and every form spec reads.

A Document is an ordered list of Lines. A Line is either a paragraph (one cell) or one
row of a table or sheet (several cells, each knowing its column). Tick boxes, whatever
their encoding in the source file, arrive here as the two characters TICKED and UNTICKED,
so extraction never needs to know which reader produced the Document. A tick box is what the
page shows: where a Word box's glyph and its recorded state disagree, the glyph is kept and the
Cell notes the box (`disputed_ticks`).

Text that came from a picture (a scan or a photo) is marked as such: its Cell's `source` is
"ocr" and its `reading` keeps what each OCR engine read, whether the reader was unsure of a
mark, and the name of a picture of the spot (in `Document.crops`) for the admin to look at.
Validation decides from these whether a value can be trusted (pipeline/validate/ocr.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TICKED = "\u2612"  # ☒
UNTICKED = "\u2610"  # ☐
# What a scan's handwriting that OCR could not read becomes: kept, never invented.
HANDWRITTEN = "(handwritten, see the original)"

Source = Literal["text", "form_field", "ocr"]


@dataclass(frozen=True)
class Location:
    """Where a value was found, in words an admin can follow to the spot in the file."""

    page: int | None = None
    paragraph: int | None = None
    table: int | None = None
    row: int | None = None
    col: int | None = None
    sheet: str | None = None
    cell: str | None = None
    # In a scan: the spot's pixel box (left, top, right, bottom) on the page as straightened.
    box: tuple[int, int, int, int] | None = field(default=None, compare=False)

    def in_column(self, col: int) -> Location | None:
        """The same row's cell in column `col` (0-based, as Cell.col): where a blank cell of a table
        row is, which no reader writes down (None where the place is not a table cell)."""
        if self.sheet is not None and self.cell:
            row = self.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            return Location(sheet=self.sheet, cell=f"{_column_letters(col + 1)}{row}")
        if self.table is not None and self.row is not None:
            return Location(page=self.page, table=self.table, row=self.row, col=col + 1)
        return None

    def __str__(self) -> str:
        if self.sheet is not None:
            return f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        parts = []
        if self.page is not None:
            parts.append(f"page {self.page}")
        if self.table is not None:
            parts.append(f"table {self.table}, row {self.row}, column {self.col}")
        elif self.paragraph is not None:
            parts.append(f"paragraph {self.paragraph}")
        return ", ".join(parts) or "document"


def _column_letters(n: int) -> str:
    """Excel's letters for the n-th column (1 -> A, 27 -> AA)."""
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class Reading:
    """What OCR made of one cell or line of a picture.

    `text` is the primary engine's reading (the Cell's text is built from it); `second_text` is
    an independent engine's reading of the same spot (None where it was not read twice).
    `unsure` is a tick box or an ink mark the reader could not decide (the Cell's text then
    says unticked/unsigned, and validation holds the form: never guessed). `handwritten` is ink
    that no engine could read as words (the Cell's text is HANDWRITTEN). `crop` names the
    picture of the spot in Document.crops."""

    engine: str
    text: str
    second_engine: str | None = None
    second_text: str | None = None
    crop: str | None = None
    unsure: bool = False
    handwritten: bool = False


@dataclass(frozen=True)
class Cell:
    text: str
    location: Location
    col: int = 0
    # A typed value where the source had one (an Excel date, number or boolean cell).
    value: object | None = None
    has_image: bool = False  # a picture, or (in a scan) handwritten ink such as a signature
    source: Source = "text"
    reading: Reading | None = None  # set where source is "ocr"
    # Word tick boxes in `text` (counted from 0 among its TICKED/UNTICKED characters) whose glyph
    # on the page and recorded control state disagree: the text holds what the page shows, and
    # validation warns (tick_mismatch) where one of them answers a question.
    disputed_ticks: tuple[int, ...] = ()

    @property
    def is_blank(self) -> bool:
        return not self.text.strip() and not self.has_image and self.value in (None, "")


@dataclass(frozen=True)
class Line:
    kind: Literal["paragraph", "row"]
    cells: tuple[Cell, ...]
    table: int | None = None  # table (or sheet) number, so rows of one table stay together

    @property
    def text(self) -> str:
        return " ".join(c.text for c in self.cells if c.text.strip())

    @property
    def location(self) -> Location:
        return self.cells[0].location


@dataclass
class Document:
    format: str
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # provenance notes, e.g. "converted by LibreOffice"
    # pictures of the spots OCR read (PNG bytes by Reading.crop name), for the admin to look at
    crops: dict[str, bytes] = field(default_factory=dict)

    def add_paragraph(
        self, text: str, location: Location, has_image: bool = False, disputed_ticks: tuple[int, ...] = ()
    ) -> None:
        cell = Cell(text, location, 0, None, has_image, disputed_ticks=disputed_ticks)
        self.lines.append(Line("paragraph", (cell,)))

    def add_row(self, cells: list[Cell], table: int) -> None:
        if cells:
            self.lines.append(Line("row", tuple(cells), table))
