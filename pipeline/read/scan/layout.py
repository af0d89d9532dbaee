"""One cleaned page's findings -> lines of the Document, as the PDF reader lays them out.

Table cells become rows (row and column numbered as the PDF reader numbers them, blank cells
kept inside a row that holds anything); everything else becomes one paragraph per printed
line, in reading order. A tick box becomes ☒/☐ where it is printed in its line. Each cell
and line says it came from OCR, keeps both engines' readings where a value could hide, and
names a picture of itself for the admin.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from rapidfuzz import fuzz

from pipeline.document import HANDWRITTEN, TICKED, UNTICKED, Cell, Document, Line, Location, Reading
from pipeline.read.scan import ink, ocr
from pipeline.read.scan.grid import Box, GridCell, Table
from pipeline.read.ticks import normalise_glyphs

PRIMARY, SECOND = "rapidocr", "tesseract"
MIN_SCORE = 0.5  # a reading below this is noise, not text
SURE_SCORE = 0.8  # a reading at least this good stands as text even where there is ink
CROP_MAX_BYTES = 20_000


@dataclass
class Token:
    text: str
    box: Box
    score: float = 1.0
    mark: ink.Mark | None = None  # a tick box

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2


@dataclass
class PageFindings:
    page_no: int
    grey: np.ndarray  # the cleaned page with ruling lines and tick boxes painted out
    px_per_mm: float
    tables: list[Table]
    tokens: list[Token] = field(default_factory=list)  # words read and tick boxes, placed


def lines_of(tokens: list[Token]) -> list[list[Token]]:
    """Tokens grouped into printed lines (a token joins the line its centre falls within)."""
    lines: list[list[Token]] = []
    for token in sorted(tokens, key=lambda t: (t.box[1], t.box[0])):
        _, cy = token.centre
        for line in lines:
            top = min(t.box[1] for t in line)
            bottom = max(t.box[3] for t in line)
            if top <= cy <= bottom:
                line.append(token)
                break
        else:
            lines.append([token])
    for line in lines:
        line.sort(key=lambda t: t.box[0])
    lines.sort(key=lambda line: min(t.box[1] for t in line))
    return lines


def _glyph(token: Token) -> str:
    if token.mark is None:
        return token.text
    return TICKED if token.mark is ink.Mark.TICKED else UNTICKED


def _join(line: list[Token]) -> str:
    return normalise_glyphs(" ".join(_glyph(t) for t in line if _glyph(t))).strip()


def _span(tokens: list[Token]) -> Box:
    return (
        min(t.box[0] for t in tokens),
        min(t.box[1] for t in tokens),
        max(t.box[2] for t in tokens),
        max(t.box[3] for t in tokens),
    )


def _crop(grey: np.ndarray, box: Box, pad: int = 0) -> np.ndarray:
    x0, y0, x1, y1 = box
    h, w = grey.shape
    return grey[max(0, y0 - pad) : min(h, y1 + pad), max(0, x0 - pad) : min(w, x1 + pad)]


def png(crop: np.ndarray) -> bytes:
    """A small grey PNG of a spot, halved until it is small enough to keep beside the form."""
    image = Image.fromarray(crop)
    while True:
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        if out.tell() <= CROP_MAX_BYTES or min(image.size) < 16:
            return out.getvalue()
        image = image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.Resampling.LANCZOS)


def _same_reading(a: str, b: str) -> bool:
    squash = re.compile(r"\s+")
    return fuzz.ratio(squash.sub("", a.casefold()), squash.sub("", b.casefold())) >= 70


# ---------------------------------------------------------------- tables


def _cell_inside(cell: GridCell, px_per_mm: float) -> Box:
    """The cell less its borders (and a little more, where a thick line bled)."""
    inset = max(2, round(px_per_mm * 0.35))
    x0, y0, x1, y1 = cell.box
    return x0 + inset, y0 + inset, x1 - inset, y1 - inset


def _cell_of(tables: list[Table], x: float, y: float) -> tuple[int, GridCell] | None:
    for t, table in enumerate(tables):
        for cell in table.cells:
            x0, y0, x1, y1 = cell.box
            if x0 <= x < x1 and y0 <= y < y1:
                return t, cell
    return None


_BROKEN_NUMBER = re.compile(r"[\d/.,:-]$")  # a date, time or amount cut at the cell's edge: "26/10/202" | "5"
# the last letter or two of a long word: "Papadopoulo" | "s" (alone, an s, o, c... is read as a capital:
# the shapes are the same)
_TAIL = re.compile(r"^(?:[a-z]|[COSVWXZ]){1,2}$")


def _broken_words(printed: list[list[Token]], inside: Box) -> set[int]:
    """The printed lines of a cell (by index) whose last word runs on at the start of the next:
    a word wider than the cell is broken where the cell ends, with no space. Such a line is one
    word that fills the cell to its right margin (within a letter), and the next line is a number's
    rest or the last letter or two of a word."""
    broken: set[int] = set()
    if not printed:
        return broken
    # the cell's own margin inside its borders, as the text shows it on the left
    padding = max(0, min(t.box[0] for line in printed for t in line) - inside[0])
    for n in range(len(printed) - 1):
        line, after = printed[n], printed[n + 1]
        text, rest = _join(line), _join(after)
        if not text or not rest or " " in text or any(t.mark is not None for t in line + after):
            continue
        left, right = min(t.box[0] for t in line), max(t.box[2] for t in line)
        letter = (right - left) / len(text)
        if inside[2] - right > padding + letter:
            continue
        if (_BROKEN_NUMBER.search(text) and rest[0].isdigit()) or (text[-1].isalpha() and _TAIL.match(rest)):
            broken.add(n)
    return broken


def _with_words_mended(lines: list[str], broken: set[int]) -> str:
    out = ""
    for n, line in enumerate(lines):
        if n - 1 in broken and _TAIL.match(line) and out[-1:].islower():
            line = line.lower()
        out += line + ("" if n in broken else "\n")
    return out.rstrip("\n")


def _table_cell(findings: PageFindings, table_no: int, cell: GridCell, tokens: list[Token], doc: Document) -> Cell:
    page = findings.page_no
    inside = _cell_inside(cell, findings.px_per_mm)
    crop = _crop(findings.grey, inside)
    name = f"p{page}-t{table_no}-r{cell.row}-c{cell.col}.png"
    location = Location(page=page, table=table_no, row=cell.row, col=cell.col, box=cell.box)
    printed = lines_of(tokens)
    broken = _broken_words(printed, inside)
    text = _with_words_mended([_join(line) for line in printed], broken)
    words = [t for t in tokens if t.mark is None]
    area = ink.cell_ink_mm2(findings.grey, inside, findings.px_per_mm)
    unsure = any(t.mark is ink.Mark.UNSURE for t in tokens)
    doc.crops[name] = png(crop)
    if not text and not ink.is_mark(area) and not unsure:
        return Cell("", location, cell.col - 1, source="ocr", reading=Reading(PRIMARY, "", crop=name))
    second = ocr.second_reading(crop, one_line=False) if crop.size else ""
    if broken and len(second.splitlines()) == len(printed):  # the same word broken in the same place
        second = _with_words_mended(second.splitlines(), broken)
    sure = bool(words) and (min(t.score for t in words) >= SURE_SCORE or _same_reading(text, second))
    if ink.is_mark(area) and not sure:
        reading = Reading(PRIMARY, text, SECOND, second, crop=name, unsure=unsure, handwritten=True)
        return Cell(HANDWRITTEN, location, cell.col - 1, has_image=True, source="ocr", reading=reading)
    reading = Reading(PRIMARY, text, SECOND, second, crop=name, unsure=unsure)
    return Cell(text, location, cell.col - 1, source="ocr", reading=reading)


def _table_rows(findings: PageFindings, t: int, table_no: int, placed: dict, doc: Document) -> list[tuple]:
    table = findings.tables[t]
    by_row: dict[int, list[GridCell]] = {}
    for cell in table.cells:
        by_row.setdefault(cell.row, []).append(cell)
    blocks = []
    for _row, cells in sorted(by_row.items()):
        row = [_table_cell(findings, table_no, c, placed.get((t, c), []), doc) for c in cells]
        if any(not c.is_blank or (c.reading and c.reading.unsure) for c in row):
            blocks.append((cells[0].box[1], ("row", row, table_no)))
        else:  # a blank row is left out, as the PDF reader leaves it out, and so is its picture
            for c in row:
                doc.crops.pop(c.reading.crop, None)
    return blocks


# ---------------------------------------------------------------- paragraphs


def _paragraph(findings: PageFindings, line: list[Token], doc: Document) -> tuple[str, Reading, Box]:
    # a word hyphenated at the margin ("co-" / "production") is one word again, as in the PDF reader
    text = re.sub(r"(?<=[A-Za-z])- (?=[a-z])", "-", _join(line))
    box = _span(line)
    unsure = any(t.mark is ink.Mark.UNSURE for t in line)
    second = None
    crop_name = None
    if re.search(r"\d", text) or unsure:
        words = [t for t in line if t.mark is None]
        crop = _crop(findings.grey, _span(words) if words else box, pad=3)
        if words and re.search(r"\d", text):
            second = ocr.second_reading(crop, one_line=True)
        crop_name = f"p{findings.page_no}-y{box[1]}.png"
        doc.crops[crop_name] = png(_crop(findings.grey, box, pad=3))
    reading = Reading(PRIMARY, text, SECOND if second is not None else None, second, crop=crop_name, unsure=unsure)
    return text, reading, box


_LABEL_START = re.compile(r"^[A-Z][\w/ '&()-]{0,40}:")


def _first_word_width(token: Token) -> float:
    x0, _, x1, _ = token.box
    text = token.text or " "
    return (x1 - x0) * (len(text.split()[0]) if text.split() else 1) / max(len(text), 1)


MIN_LETTERS_TO_MEASURE = 8  # a shorter reading's width per letter says little about its print


def _letter_width(tokens: list[Token]) -> float | None:
    letters = sum(len(t.text) for t in tokens if t.mark is None)
    if letters < MIN_LETTERS_TO_MEASURE:
        return None
    return sum(t.box[2] - t.box[0] for t in tokens if t.mark is None) / letters


def _same_print(above: list[Token], above_height: float, below: list[Token], below_height: float) -> bool:
    """Two printed lines in the same size of print: a heading's larger print is its own line.
    The detector's box is taller round a bold label than round plain words of the same size,
    so the width of a letter decides where both lines are long enough to measure it."""
    wide_above, wide_below = _letter_width(above), _letter_width(below)
    if wide_above is not None and wide_below is not None:
        return abs(wide_above - wide_below) <= 0.15 * max(wide_above, wide_below) and abs(
            above_height - below_height
        ) <= 0.25 * max(above_height, below_height)
    return abs(below_height - above_height) <= above_height * 0.12


def _rejoined(lines: list[list[Token]]) -> list[list[Token]]:
    """Printed lines re-joined where the text was wrapped at the right margin, as the PDF reader
    re-joins them: a line continues the one above when its first word would not have fitted
    there and the gap between them is a line's, not a paragraph's. (A section's prompt wraps,
    and extraction knows the prompt whole.)"""
    if not lines:
        return []
    # the text's right margin: where most long lines end (a speck or a page number further right
    # must not move it)
    ends = sorted(max(t.box[2] for t in line) for line in lines)
    right_edge = ends[int(len(ends) * 0.8)]
    out: list[list[Token]] = [lines[0]]
    for line in lines[1:]:
        previous = out[-1]
        last_line_top = max(t.box[1] for t in previous)
        height = max(t.box[3] for t in previous if t.box[1] >= last_line_top - 2) - last_line_top
        gap = min(t.box[1] for t in line) - max(t.box[3] for t in previous)
        first = line[0]
        own_height = max(t.box[3] for t in line) - min(t.box[1] for t in line)
        last_row = [t for t in previous if t.box[1] >= last_line_top - 2]
        same_size = _same_print(last_row, height, line, own_height)
        would_fit = max(t.box[2] for t in previous) + height * 0.3 + _first_word_width(first) <= right_edge
        # (detected boxes are padded: the lines of one paragraph may touch or overlap a little)
        # a "Label:" line starts its own paragraph (a form's header line after a long title)
        labelled = bool(_LABEL_START.match(first.text))
        if first.mark is None and not labelled and same_size and -height * 0.5 <= gap < height * 0.5 and not would_fit:
            out[-1] = previous + line
        else:
            out.append(line)
    return out


# ---------------------------------------------------------------- the page


def add_page(findings: PageFindings, doc: Document, table_no: int) -> int:
    """Add the page's lines to `doc`; returns the last table number used."""
    placed: dict[tuple[int, GridCell], list[Token]] = {}
    free: list[Token] = []
    for token in findings.tokens:
        found = _cell_of(findings.tables, *token.centre)
        if found is None:
            free.append(token)
        else:
            placed.setdefault(found, []).append(token)
    blocks: list[tuple[float, tuple]] = []
    for t in range(len(findings.tables)):
        table_no += 1
        blocks.extend(_table_rows(findings, t, table_no, placed, doc))
    for line in _rejoined(lines_of(free)):
        text, reading, box = _paragraph(findings, line, doc)
        if text:
            blocks.append((box[1], ("paragraph", text, reading, box)))
    blocks.sort(key=lambda b: b[0])
    for n, (_top, block) in enumerate(blocks, start=1):
        if block[0] == "row":
            doc.add_row(block[1], block[2])
        else:
            _, text, reading, box = block
            location = Location(page=findings.page_no, paragraph=n, box=box)
            doc.lines.append(_paragraph_line(text, location, reading))
    return table_no


def _paragraph_line(text: str, location: Location, reading: Reading) -> Line:
    return Line("paragraph", (Cell(text, location, 0, source="ocr", reading=reading),))
