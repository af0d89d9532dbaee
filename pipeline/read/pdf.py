"""PDF -> Document: text PDFs exported from Word, LibreOffice or Excel, and fillable forms.

pdfium (pypdfium2) reads everything a page holds: a first pass (encrypted? any text at all?
which pages are scans? the fields of a fillable form and their values), then each page's
characters, ruling lines, boxes and pictures (pipeline/read/pdfium_page.py), as the dicts
pdfplumber would build, so pdfplumber's table finder and the layout below work on them
unchanged. Each page is loaded once for both. Two things are laid over the words at their place
on the page before lines are built, so extraction sees ☒/☐ and values exactly where a person
sees them: tick boxes drawn as small squares (with an X or a tick drawn inside when ticked),
and the widgets of a fillable form (AcroForm) with their values. A checkbox named "Check Box 17"
therefore belongs to the label printed beside it, like any other tick.

pdfminer (through pdfplumber) still serves where pdfium cannot:
- the safety check on Form XObjects (`_check_form_xobjects`), before pdfium loads any page: a
  form that draws itself makes pdfium draw until the process dies, so it must be found
  without pdfium; run only where a page's resources can name a form;
- the page tree of a file pdfium had to repair, or whose pages are not all written plainly
  (`_pages_both_count`): the pages both libraries find are read, and a file pdfminer cannot
  open stays a corrupt file, as before;
- the whole reading, should pdfium's page objects fail on a page (`_PdfiumObjectsFailed`, a
  fault of ours, not the file's): the file is then read from pdfminer's objects, with a note;
- `PAGE_OBJECTS = "pdfminer"`: the reader before pdfium's, kept for comparison (tests).

Tables with ruling lines become rows of cells; other text becomes paragraphs, re-joining
lines that were wrapped at the right margin.
"""

from __future__ import annotations

import bisect
import contextvars
import ctypes
import dataclasses
import io
import itertools
import logging
import math
import re
import zlib
from dataclasses import dataclass, field
from operator import attrgetter

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pypdfium2_raw.bindings as pdfium_bindings
from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import PDFStream, resolve1

from pipeline.document import TICKED, UNTICKED, Cell, Document, Line, Location
from pipeline.problems import ProblemCode
from pipeline.read import pdf_columns
from pipeline.read.errors import UnreadableFile
from pipeline.read.pdf_objects import use_fast_objects
from pipeline.read.pdfium_page import CHAR_KEYS, Char, PdfiumPage, declared_descents
from pipeline.read.pdfium_tables import find_tables as find_ruled_tables
from pipeline.read.pdfium_words import words as words_of
from pipeline.read.ticks import TICKED_GLYPHS, UNTICKED_GLYPHS, normalise_glyphs

log = logging.getLogger(__name__)

MAX_PAGES = 60
# Form XObjects (drawings a page reuses, which may draw others): a form drawing itself twice, or
# forms nesting exponentially, make pdfium draw until the process runs out of memory and
# aborts. A page is refused past this many draws, nested ones included; real forms draw a few
# dozen at most.
MAX_FORM_DRAWS = 2_000
PDFIUM_FORM_LEVELS = 40
MIN_TEXT_CHARS = 20  # less text than this on every page, and no filled fields: a scan
BOX_MIN, BOX_MAX = 5.0, 18.0  # points: the size of a drawn tick box


@dataclass(slots=True)
class _Token:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 0.0  # font size; 0 for overlaid boxes and field values

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)


# ---------------------------------------------------------------- first pass (pypdfium2)

TICK_FIELDS = (pdfium_c.FPDF_FORMFIELD_CHECKBOX, pdfium_c.FPDF_FORMFIELD_RADIOBUTTON)
TEXT_FIELDS = (pdfium_c.FPDF_FORMFIELD_TEXTFIELD, pdfium_c.FPDF_FORMFIELD_COMBOBOX, pdfium_c.FPDF_FORMFIELD_LISTBOX)
_FIELD_KINDS = frozenset(TICK_FIELDS + TEXT_FIELDS)


@dataclass
class _Widget:
    """A field of a fillable form, as pdfium reads it."""

    rect: tuple[float, float, float, float]  # left, bottom, right, top in PDF units (unrotated)
    ticked: bool | None  # a tick box's state; None for a text or choice field
    text: str = ""


@dataclass
class _PageFacts:
    text_chars: int  # characters of text
    annotated: bool  # has annotations of any kind
    has_fields: bool  # has widgets (the fields of a fillable form), whatever their kind
    widgets: list[_Widget] = field(default_factory=list)  # the tick, text and choice fields
    has_picture: bool = False  # (counted on pages without text only) draws an image: a scanned page
    opened: tuple | None = field(default=None, repr=False, compare=False)  # (page, text page, text), kept open


def _has_picture(page) -> bool:
    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))


# The calls made for every annotation of a page (a fillable form's page has dozens of fields),
# bound afresh with plain pointers: an annotation is then an address (an int), with no ctypes
# pointer object made and checked at every call.
_VOID = ctypes.c_void_p


def _bound(name: str, argtypes: list, restype):
    function = pdfium_bindings._libs["pdfium"][name]
    function.argtypes, function.restype = argtypes, restype
    return function


_GET_ANNOT = _bound("FPDFPage_GetAnnot", [_VOID, ctypes.c_int], _VOID)
_CLOSE_ANNOT = _bound("FPDFPage_CloseAnnot", [_VOID], None)
_ANNOT_SUBTYPE = _bound("FPDFAnnot_GetSubtype", [_VOID], ctypes.c_int)
_FIELD_TYPE = _bound("FPDFAnnot_GetFormFieldType", [_VOID, _VOID], ctypes.c_int)
_ANNOT_RECT = _bound("FPDFAnnot_GetRect", [_VOID, ctypes.POINTER(pdfium_c.FS_RECTF)], ctypes.c_int)
_IS_CHECKED = _bound("FPDFAnnot_IsChecked", [_VOID, _VOID], ctypes.c_int)
_FIELD_VALUE = _bound("FPDFAnnot_GetFormFieldValue", [_VOID, _VOID, _VOID, ctypes.c_ulong], ctypes.c_ulong)


def _address(pointer) -> int | None:
    return ctypes.cast(pointer, _VOID).value if pointer else None


_TEXT_BUFFER = ctypes.c_char * 4096


def _field_value(form: int, annot: int) -> str:
    size = _FIELD_VALUE(form, annot, None, 0)  # bytes, UTF-16LE with a NUL
    if size <= 2:
        return ""
    # (a buffer of a size met before: ctypes makes a new array type for each new size, a costly
    # type that only the cycle collector frees)
    buffer = _TEXT_BUFFER() if size <= ctypes.sizeof(_TEXT_BUFFER) else ctypes.create_string_buffer(size)
    _FIELD_VALUE(form, annot, buffer, size)
    return buffer.raw[: size - 2].decode("utf-16-le", "replace")


def _page_facts(page, form, keep: bool = False) -> _PageFacts:
    """What pdfium sees on a page; with `keep`, the page and its text page stay open in the facts
    (read_pdf reads them next, without loading the page again)."""
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    chars = len(text.strip())
    facts = _PageFacts(chars, False, False)
    if keep:
        facts.opened = (page, textpage, text)
    else:
        textpage.close()
    if chars < MIN_TEXT_CHARS:
        facts.has_picture = _has_picture(page)
    count = pdfium_c.FPDFPage_GetAnnotCount(page.raw)
    if count <= 0:
        return facts
    facts.annotated = True
    page_ref = _VOID(_address(page.raw))
    rect = pdfium_c.FS_RECTF()
    for i in range(count):
        annot = _GET_ANNOT(page_ref, i)
        if not annot:
            continue
        try:
            if _ANNOT_SUBTYPE(annot) != pdfium_c.FPDF_ANNOT_WIDGET:
                continue
            facts.has_fields = True
            kind = _FIELD_TYPE(form, annot) if form else -1
            if kind not in _FIELD_KINDS:
                continue  # a push button, a signature, or a widget outside any form
            if not _ANNOT_RECT(annot, rect):
                continue
            place = (rect.left, rect.bottom, rect.right, rect.top)
            if kind in TICK_FIELDS:
                facts.widgets.append(_Widget(place, bool(_IS_CHECKED(form, annot))))
            else:
                facts.widgets.append(_Widget(place, None, _field_value(form, annot)))
        finally:
            _CLOSE_ANNOT(annot)
    return facts


def _first_pass(data: bytes) -> list[_PageFacts]:
    """What pdfium sees on each page; raises UnreadableFile for encrypted or broken files."""
    pdf, facts = _open_pdf(data, keep=False)
    pdf.close()
    return facts


def _open_pdf(data: bytes, keep: bool):
    """The document opened by pdfium and the facts of each of its pages (the pages kept open in
    them with `keep`; closing the document closes them); raises UnreadableFile for encrypted or
    broken files, the document closed."""
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise UnreadableFile(ProblemCode.ENCRYPTED, "The PDF is protected by a password.") from exc
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"The PDF could not be opened ({exc}).") from exc
    try:
        if len(pdf) == 0:
            raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The PDF has no pages.")
        if len(pdf) > MAX_PAGES:
            raise UnreadableFile(ProblemCode.TOO_LARGE, f"The PDF has {len(pdf)} pages; forms have far fewer.")
        _check_form_xobjects(data)  # before pdfium loads (and so parses) any page
        pages = []
        try:
            pdf.init_forms()  # before any page is loaded; no form environment when there is no AcroForm
            form = _address(pdf.formenv.raw) if pdf.formenv is not None else None
            for page in pdf:
                pages.append(_page_facts(page, form, keep))
                if not keep:
                    page.close()
        except pdfium.PdfiumError as exc:  # a page tree that loops, a page that is not there, a broken form
            raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"The PDF's pages are damaged ({exc}).") from exc
        return pdf, pages
    except BaseException:
        pdf.close()
        raise


# ---------------------------------------------------------------- form XObjects (pdfminer)


class _FormDrawsUnsafe(Exception):
    pass


# "/Name Do" in a content stream; a name may hold #xx escapes
_DO = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s*Do(?=[\s/\[\]()<>{}%]|$)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def _names_drawn(stream: PDFStream) -> list[str]:
    names = []
    for match in _DO.finditer(stream.get_data()):
        raw = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        names.append(raw.decode("utf-8", "replace"))
    return names


def _forms_of(resources) -> dict[str, PDFStream]:
    """The Form XObjects a resources dictionary names."""
    resources = resolve1(resources)
    xobjects = resolve1(resources.get("XObject")) if isinstance(resources, dict) else None
    forms = {}
    if isinstance(xobjects, dict):
        for name, ref in xobjects.items():
            xobj = resolve1(ref)
            if isinstance(xobj, PDFStream) and getattr(xobj.get("Subtype"), "name", None) == "Form":
                forms[str(name)] = xobj
    return forms


class _FormDraws:
    """How many times the forms of one page are drawn, nested draws included, as pdfium draws
    them: it does not notice a form drawing itself, and stops at PDFIUM_FORM_LEVELS levels of
    nesting (kMaxFormLevel), so a form drawing itself twice is 2**40 draws. pdfminer never
    re-enters a form it is inside, so it draws no more than this unless more than
    PDFIUM_FORM_LEVELS distinct forms nest, which is refused too. Each (form, level) is counted
    once, and counting stops as soon as the page passes MAX_FORM_DRAWS."""

    def __init__(self) -> None:
        self.counted: dict[tuple[int, int], int] = {}
        self.drawn: dict[int, list[str]] = {}  # a form's content: the names it draws, read once
        self.total = 0

    def page(self, contents: list[PDFStream], resources) -> None:
        for content in contents:
            self.total += self._draws_in(self._names(content), resources, 1)
            self._check(self.total)

    def _names(self, stream: PDFStream) -> list[str]:
        key = self._key(stream)
        if key not in self.drawn:
            self.drawn[key] = _names_drawn(stream)
        return self.drawn[key]

    @staticmethod
    def _key(stream: PDFStream) -> int:
        return stream.objid if stream.objid is not None else id(stream)

    @staticmethod
    def _check(count: int) -> None:
        if count > MAX_FORM_DRAWS:
            raise _FormDrawsUnsafe(f"drawings nested in drawings more than {MAX_FORM_DRAWS:,} times")

    def _draws_in(self, names: list[str], resources, level: int) -> int:
        """The draws made by content naming `names`, run at nesting `level` (the page is 1)."""
        forms = _forms_of(resources)
        total = 0
        for name in names:
            form = forms.get(name)
            if form is not None:
                total += self._form(form, resources, level)
                self._check(self.total + total)
        return total

    def _form(self, form: PDFStream, caller_resources, level: int) -> int:
        key = (self._key(form), level)
        if key not in self.counted:
            own = form.get("Resources")  # none: the caller's (PDF 1.7, 4.9.1)
            resources = own if own is not None else caller_resources
            names = self._names(form)
            if level >= PDFIUM_FORM_LEVELS:  # pdfium draws nothing deeper
                if len(self.drawn) > PDFIUM_FORM_LEVELS and _forms_of(resources).keys() & set(names):
                    raise _FormDrawsUnsafe(f"drawings nested more than {PDFIUM_FORM_LEVELS} deep")
                self.counted[key] = 1
            else:
                self.counted[key] = 1 + self._draws_in(names, resources, level + 1)
        return self.counted[key]


# A Form XObject's /Subtype /Form is in the file's bytes as they are (a stream's dictionary is
# never compressed), unless the name is written with #xx escapes or sits (through an indirect
# /Subtype) in a compressed object stream: looked for with the object streams' contents too.
_MAY_HOLD_FORMS = re.compile(rb"/Form|/[^\s/\[\]()<>{}%]*#[0-9A-Fa-f]{2}")
# A page draws a form only by a name in its resources' /XObject dictionary (written in place or
# referred to); a fillable form's widgets have forms too (their appearances, /Type /XObject),
# which nothing draws as page content.
_MAY_DRAW_FORMS = re.compile(
    rb"/XObject(?:\s|%[^\r\n]*)*(?:<<|\d+(?:\s|%[^\r\n]*)+\d+(?:\s|%[^\r\n]*)+R)|/[^\s/\[\]()<>{}%]*#[0-9A-Fa-f]{2}"
)
_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm(?![A-Za-z0-9])")
_STREAM_KEYWORD = re.compile(rb"stream\r?\n")
MAX_OBJECT_STREAMS_BYTES = 20 * 1024 * 1024  # decompressed: more is not a form's
_expanded: tuple[bytes, bytes | None] | None = None  # the last file's (bytes, with its object streams)


def _with_object_streams(data: bytes) -> bytes | None:
    """The file's bytes followed by its object streams' contents, decompressed: the objects
    compressed in them (dictionaries, never streams) as plain text, so that what the bytes
    cannot hold can be ruled out for them too. Word saves PDFs so. None where an object stream
    cannot be read here (another filter, a predictor, encryption, damage, too large): then
    nothing can be ruled out by the bytes."""
    global _expanded
    if _expanded is not None and _expanded[0] is data:
        return _expanded[1]
    if b"ObjStm" not in data:
        return data
    parts = [data]
    streams = list(_OBJECT_STREAM.finditer(data))
    if len(streams) != data.count(b"ObjStm"):
        return None  # an object stream named otherwise (#xx escapes, /Type given indirectly)
    total = 0
    for match in streams:
        head_start = data.rfind(b"obj", 0, match.start())
        keyword = _STREAM_KEYWORD.search(data, match.end())
        if head_start < 0 or keyword is None:
            return None
        head = data[head_start : keyword.start()]
        if head.count(b"/Filter") != 1 or b"/FlateDecode" not in head or b"/DecodeParms" in head:
            return None
        end = data.find(b"endstream", keyword.end())
        if end < 0:
            return None
        inflater = zlib.decompressobj()
        try:
            plain = inflater.decompress(data[keyword.end() : end], MAX_OBJECT_STREAMS_BYTES - total)
        except zlib.error:
            return None
        if inflater.unconsumed_tail:
            return None
        total += len(plain)
        parts.append(plain)
    expanded = b"\n".join(parts)
    _expanded = (data, expanded)
    return expanded


def _check_form_xobjects(data: bytes) -> None:
    """Refuse a PDF whose Form XObjects draw themselves or nest exponentially, before pdfium (or
    pdfminer) renders them: pdfium follows such a drawing until the process runs out of memory
    and aborts, which no exception handler can catch. Run on pdfminer's objects, 4-13 ms a
    form; skipped for the files whose bytes (and object streams) cannot hold a Form XObject
    (most) or cannot draw one (a fillable form whose only forms are its widgets' appearances)."""
    text = _with_object_streams(data)
    if text is not None and (not _MAY_HOLD_FORMS.search(text) or not _MAY_DRAW_FORMS.search(text)):
        return
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        for page in itertools.islice(PDFPage.create_pages(document), MAX_PAGES):
            # (annotations' appearance streams are forms too, but neither pdfium's first pass nor
            # pdfminer draws them, and resolving every widget would cost a fillable form dearly)
            if not _forms_of(page.resources):
                continue  # no drawings to follow: the page's content need not be looked at
            contents = [resolve1(content) for content in page.contents]
            _FormDraws().page([c for c in contents if isinstance(c, PDFStream)], page.resources)
    except _FormDrawsUnsafe as exc:
        raise UnreadableFile(
            ProblemCode.CORRUPT_FILE, f"The PDF is damaged or hostile: {exc}; it was not read."
        ) from exc
    except PDFPasswordIncorrect as exc:
        raise UnreadableFile(ProblemCode.ENCRYPTED, "The PDF is protected by a password.") from exc
    except Exception as exc:  # pdfminer cannot follow the file: pdfplumber would fail on it the same way
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"The PDF could not be read ({type(exc).__name__}).") from exc


# ---------------------------------------------------------------- overlays


def _drawn_boxes(page) -> list[_Token]:
    """Small squares drawn on the page, ticked when a line or curve (an X, a tick) or a smaller
    filled square is drawn inside. An X often runs corner to corner, so a line may have the
    same bounding box as its box."""
    boxes = [r for r in page.rects if BOX_MIN <= r["width"] <= BOX_MAX and abs(r["width"] - r["height"]) < 1.5]
    strokes = list(page.lines) + list(page.curves)
    pad = 0.6

    def within(obj, box) -> bool:
        return (
            obj["x0"] >= box["x0"] - pad
            and obj["x1"] <= box["x1"] + pad
            and obj["top"] >= box["top"] - pad
            and obj["bottom"] <= box["bottom"] + pad
        )

    tokens = []
    seen: set[tuple[int, int]] = set()
    for box in boxes:
        key = (round(box["x0"]), round(box["top"]))
        if key in seen:  # the same box stroked twice
            continue
        seen.add(key)
        fills = [r for r in page.rects if r["width"] < box["width"] - 1 and within(r, box)]
        ticked = any(within(s, box) for s in strokes) or bool(fills)
        tokens.append(_Token(TICKED if ticked else UNTICKED, box["x0"], box["x1"], box["top"], box["bottom"]))
    return tokens


def _widgets(widgets: list[_Widget], page) -> list[_Token]:
    """A page's fields as ☒/☐ or their text, placed as pdfplumber places annotations
    (`Page.annots`: the rectangle turned with the page, then measured from the top)."""
    turns = page.rotation // 90

    def turned(point: tuple[float, float]) -> tuple[float, float]:
        for i in range(turns):
            x, y = point
            point = (y, (page.width if i == turns % 2 else page.height) - x)
        return point

    tokens = []
    for widget in widgets:
        left, bottom, right, top_ = widget.rect
        (ax, ay), (bx, by) = turned((left, bottom)), turned((right, top_))
        x0, x1 = sorted((ax, bx))
        y0, y1 = sorted((ay, by))
        top, bottom = page.root_page.height - y1, page.root_page.height - y0
        if widget.ticked is not None:
            tokens.append(_Token(TICKED if widget.ticked else UNTICKED, x0, x1, top, bottom))
            continue
        lines = widget.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        height = min(bottom - top, 12.0) if len(lines) == 1 else 12.0
        for i, line in enumerate(lines):
            if line.strip():
                tokens.append(_Token(line.strip(), x0 + 2, x1, top + i * height, top + (i + 1) * height))
    return tokens


# ---------------------------------------------------------------- layout


def _lines_of(tokens: list[_Token]) -> list[list[_Token]]:
    """Tokens grouped into lines (by vertical overlap with a line's first token), each sorted
    left to right. Tokens are taken top down, so the lines are made, and stay, in order of their
    tops."""
    lines: list[list[_Token]] = []
    # the lines a token may still join, in the order they were made, each with its first
    # token's top - 1 and bottom + 1. A line whose bottom is above every middle still to come
    # is dropped from them, so a token is compared with the few lines around it, not every
    # line of the page (the first line that takes it is the same).
    open_lines: list[tuple[list[_Token], float, float]] = []
    ordered = sorted(tokens, key=_top_then_left)
    mids = [(token.top + token.bottom) / 2 for token in ordered]
    lowest_to_come = mids[:]  # the least middle of this token and those after it
    for k in range(len(mids) - 2, -1, -1):
        if lowest_to_come[k + 1] < lowest_to_come[k]:
            lowest_to_come[k] = lowest_to_come[k + 1]
    least_high = math.inf  # the least bottom among the open lines
    for token, mid, lowest in zip(ordered, mids, lowest_to_come, strict=True):
        if least_high < lowest:
            open_lines = [entry for entry in open_lines if entry[2] >= lowest]
            least_high = min((entry[2] for entry in open_lines), default=math.inf)
        for line, low, high in open_lines:
            if low <= mid <= high:
                line.append(token)
                break
        else:
            line = [token]
            lines.append(line)
            open_lines.append((line, token.top - 1, token.bottom + 1))
            if token.bottom + 1 < least_high:
                least_high = token.bottom + 1
    for line in lines:
        line.sort(key=_left)
    return lines


_top_then_left = attrgetter("top", "x0")
_left = attrgetter("x0")


def _median(values: list[float]) -> float:
    """statistics.median, without its generality (it is asked of every line of every page)."""
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


_BOXES = frozenset((TICKED, UNTICKED))
# normalise_glyphs changes only tick glyphs and symbol fonts' private-use characters, none ASCII
_NO_ASCII_GLYPHS = not any(glyph.isascii() for glyph in TICKED_GLYPHS | UNTICKED_GLYPHS)


def _join(line: list[_Token]) -> str:
    text = " ".join([t.text for t in line])
    if text.isascii() and _NO_ASCII_GLYPHS:
        return text.strip()  # (no tick glyph is ASCII: most lines have none)
    # (glyphs normalised word by word, the same as the line at once, character by character: a
    # drawn box or a field's tick, already ☒/☐, then costs nothing)
    return " ".join([t.text if t.text in _BOXES else normalise_glyphs(t.text) for t in line]).strip()


def _font_size(line: list[_Token]) -> float:
    sizes = [t.size for t in line if t.size]
    return _median(sizes) if sizes else 0.0


def _paragraphs(lines: list[list[_Token]], right_edge: float) -> list[tuple[str, float]]:
    """Re-join lines wrapped at the right margin. A line continues the one above when its first
    word would not have fitted there, the gap between them is a line's (not a paragraph's
    spacing) and the font size is the same. Returns (text, top) per paragraph."""
    paragraphs: list[tuple[str, float]] = []
    previous: list[_Token] | None = None
    previous_font = 0.0
    for line in lines:
        text = _join(line)
        top = min([t.top for t in line])
        font = _font_size(line)  # (each line's measured once, as itself and as the line above the next)
        if previous is not None:
            first = line[0]
            gap = top - max([t.bottom for t in previous])
            if gap >= 0 and abs(font - previous_font) < 0.6 and first.text not in (TICKED, UNTICKED):
                height = _median([t.height for t in previous])
                would_fit = previous[-1].x1 + height * 0.3 + (first.x1 - first.x0) <= right_edge
                if gap < height * 0.5 and not would_fit:
                    prev_text, prev_top = paragraphs[-1]
                    joiner = (
                        "" if prev_text.endswith("-") and prev_text[-2:-1].isalpha() and text[:1].islower() else " "
                    )
                    paragraphs[-1] = (prev_text + joiner + text, prev_top)
                    previous, previous_font = line, font
                    continue
        paragraphs.append((text, top))
        previous, previous_font = line, font
    return paragraphs


def _cell_text(tokens: list[_Token], left: float, right: float) -> str:
    """A cell's lines: a word wrapped by the cell's width is joined with a space; any other
    break is kept as a new line, and the field's type decides later (a name joins with a
    space, the digits of a date or an amount with nothing)."""
    lines = _lines_of(tokens)
    if not lines:
        return ""
    padding = max(min(t.x0 for t in tokens) - left, 0.0)
    inner_right = right - padding  # Word and LibreOffice pad cells equally on both sides
    out = _join(lines[0])
    for previous, line in zip(lines, lines[1:], strict=False):
        last, first = previous[-1], line[0]
        space = (last.x1 - last.x0) / max(len(last.text), 1)
        wrapped = inner_right - last.x1 < space + (first.x1 - first.x0) and len(previous) > 1
        out += (" " if wrapped else "\n") + _join(line)
    return out


def _words(chars: list[Char]) -> list[_Token]:
    return [_Token(text, x0, x1, top, bottom, round(size, 1)) for text, x0, x1, top, bottom, size in words_of(chars)]


def _inside(token: _Token, bbox: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = bbox
    return x0 - 1 <= (token.x0 + token.x1) / 2 <= x1 + 1 and top - 1 <= (token.top + token.bottom) / 2 <= bottom + 1


class _Chars:
    """Characters found by where their centres are (in a cell, in a column): a page has a few
    thousand, and each of its cells asks for its own; kept in the page's order, which word
    finding follows."""

    def __init__(self, chars: list[Char]):
        self.chars = chars
        self.xs: list[float] | None = None  # (indexed when first asked: most pages never ask)

    def _index(self) -> None:
        chars = self.chars
        self.xs = [(c[1] + c[2]) / 2 for c in chars]
        ys = [(c[3] + c[4]) / 2 for c in chars]
        self.order = sorted(range(len(chars)), key=ys.__getitem__)
        self.ys = [ys[i] for i in self.order]

    def within(self, bbox: tuple[float, float, float, float]) -> list[Char]:
        if self.xs is None:
            self._index()
        x0, top, x1, bottom = bbox
        lo, hi = bisect.bisect_left(self.ys, top), bisect.bisect_right(self.ys, bottom)
        xs = self.xs
        picked = sorted(i for i in self.order[lo:hi] if x0 <= xs[i] <= x1)
        return [self.chars[i] for i in picked]


def _chars_of(page) -> _Chars:
    """The page's characters, indexed once per page."""
    index = getattr(page, "_coforms_chars", None)
    if index is None:
        index = page._coforms_chars = _Chars(_char_rows(page))
    return index


def _char_rows(page) -> list[Char]:
    """The page's characters as tuples (pdfium_page.CHAR_KEYS): pdfium's page has them so; a page
    of pdfminer's objects has pdfplumber's dicts, which are turned into them once."""
    rows = getattr(page, "char_rows", None)
    if rows is None:
        rows = page.char_rows = [tuple(c[key] for key in CHAR_KEYS) for c in page.chars]
    return rows


@dataclass
class _SheetTable:
    """A gridless table already read, kept so that a later page can continue it: downwards (no
    repeated header: the same columns) or across (a sheet too wide for the paper: the same rows,
    its next columns)."""

    page_no: int
    table: pdf_columns.GridlessTable
    lines: list[int]  # index in doc.lines of each row's Line (None for a row with nothing in it)
    columns: int  # how many columns the rows hold so far, counting joined pages


@dataclass
class _Sheets:
    tables: list[_SheetTable] = field(default_factory=list)

    def last_columns(self, page_no: int) -> list[tuple[float, float]] | None:
        """The columns of the last page's last gridless table, if the table ran to the page's end."""
        if self.tables and self.tables[-1].page_no == page_no - 1:
            return self.tables[-1].table.columns
        return None

    def headers(self, page_no: int) -> list[tuple[float, float]]:
        return [t.table.rows[t.table.header] for t in self.tables if t.page_no < page_no and t.table.has_header]

    def beside(self, page_no: int, table: pdf_columns.GridlessTable) -> tuple[_SheetTable, list[int]] | None:
        """An earlier page's table this one continues across: every row of this one lies at the
        height of its own row there (the one it overlaps most; cells aligned differently make
        the rows' printed heights differ a little). Returns that table and the row each row of this one joins."""
        if not table.has_header:
            return None
        for earlier in self.tables:
            if earlier.page_no >= page_no or not earlier.table.has_header:
                continue
            lefts = [left for left, _ in earlier.table.columns]
            if len(lefts) == len(table.columns) and all(
                abs(a - b) < 2 for a, (b, _) in zip(lefts, table.columns, strict=True)
            ):
                continue  # the same columns: its header repeated on a new page, not its next columns
            rows = earlier.table.rows
            header = earlier.table.header
            matched: list[int] = []
            for top, bottom in table.rows[table.header :]:
                overlap = [(min(b, bottom) - max(t, top), n) for n, (t, b) in enumerate(rows)]
                best, n = max(overlap)
                if best <= 0 or (matched and n <= matched[-1]):
                    break
                matched.append(n)
            else:
                if matched and matched[0] == header:  # header beside header
                    return earlier, [-1] * table.header + matched
        return None


# While cell_boxes runs: where each cell read is, by its Location (None otherwise)
_CELL_BOXES: contextvars.ContextVar[dict[Location, tuple[int, float, float, float, float]] | None] = (
    contextvars.ContextVar("pdf_cell_boxes", default=None)
)


def cell_boxes(data: bytes) -> dict[Location, tuple[int, float, float, float, float]]:
    """Where each table cell the reader reads is on its page: (page number, x0, top, x1, bottom)
    in points from the page's top left corner (as it is shown, turned by its /Rotate), by the
    cell's Location (the one its Cell and any Problem about it carry). Every cell the reader
    looks at is there, filled or not. Pages without a text layer are not read by OCR here
    (their cells are a scan's, found by another reader). Raises UnreadableFile as read_pdf does."""
    boxes: dict[Location, tuple[int, float, float, float, float]] = {}
    token = _CELL_BOXES.set(boxes)
    try:
        read_pdf(data)
    finally:
        _CELL_BOXES.reset(token)
    return boxes


def _cell(
    page, overlays, bbox, page_no: int, table_no: int, row_no: int, col_no: int, text_right: float | None = None
) -> Cell | None:
    boxes = _CELL_BOXES.get()
    if boxes is not None:
        x0, top, x1, bottom = (float(v) for v in bbox)
        boxes[Location(page=page_no, table=table_no, row=row_no, col=col_no + 1)] = (page_no, x0, top, x1, bottom)
    # characters, not words, are split between cells: in a printed sheet a date that fills its
    # column touches the next cell's text and would read as one word
    tokens = _words(_chars_of(page).within(bbox)) + [t for t in overlays if _inside(t, bbox)]
    text = _cell_text(tokens, bbox[0], bbox[2] if text_right is None else text_right)
    has_image = any(_inside(_Token("", im["x0"], im["x1"], im["top"], im["bottom"]), bbox) for im in page.images)
    if text or has_image:
        return Cell(text, Location(page=page_no, table=table_no, row=row_no, col=col_no + 1), col_no, None, has_image)
    return None


def _read_page(page, widgets: list[_Widget], page_no: int, doc: Document, table_no: int, sheets: _Sheets) -> int:
    overlays = _drawn_boxes(page) + _widgets(widgets, page)
    tables = find_ruled_tables(page)
    blocks: list[tuple[float, object]] = []
    for table in tables:
        table_no += 1
        for row_no, row in enumerate(table.rows, start=1):
            cells = []
            for col_no, bbox in enumerate(row.cells):
                if bbox is None:
                    continue  # covered by a merged cell
                cell = _cell(page, overlays, bbox, page_no, table_no, row_no, col_no)
                if cell is not None:
                    cells.append(cell)
            if cells:
                blocks.append((row.bbox[1], ("row", cells, table_no)))
    table_boxes = [t.bbox for t in tables]

    def outside_tables(char: Char) -> bool:
        cx, cy = (char[1] + char[2]) / 2, (char[3] + char[4]) / 2
        return not any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in table_boxes)

    chars = _char_rows(page)
    free_chars = _Chars([c for c in chars if outside_tables(c)] if table_boxes else chars)
    free = _words(free_chars.chars)
    free += [t for t in overlays if not any(_inside(t, box) for box in table_boxes)]
    lines = _lines_of(free)
    table_no = _read_sheet_tables(
        page, free_chars, lines, overlays, page_no, doc, table_no, sheets, blocks, table_boxes
    )
    if len(table_boxes) > len(tables):  # gridless tables found: their words are not paragraphs
        free = [t for t in free if not any(_inside(t, box) for box in table_boxes[len(tables) :])]
        lines = _lines_of(free)
    right_edge = max((line[-1].x1 for line in lines), default=0.0)
    for text, top in _paragraphs(lines, right_edge):
        blocks.append((top, ("paragraph", text)))
    blocks.sort(key=lambda b: b[0])
    for n, (_top, block) in enumerate(blocks, start=1):
        if block[0] == "row":
            if n == 1 and _continues_previous_row(doc, block[1]):
                _merge_into_last_row(doc, block[1])
            else:
                doc.add_row(block[1], block[2])
                if len(block) > 3:  # a gridless table's row: note where it landed
                    block[3][block[4]] = len(doc.lines) - 1
        else:
            doc.add_paragraph(block[1], Location(page=page_no, paragraph=n))
    return table_no


def _read_sheet_tables(page, free_chars, lines, overlays, page_no, doc, table_no, sheets, blocks, table_boxes) -> int:
    """Tables with no ruling lines (a sheet printed without gridlines), among the lines of free words."""

    def split(columns, top, bottom):
        tokens = []
        for left, right in columns:
            tokens += _words(free_chars.within((left, top, right, bottom)))
        return _lines_of(tokens)

    found = pdf_columns.find_tables(lines, split, page.width, sheets.last_columns(page_no), sheets.headers(page_no))
    for table in found:
        table_boxes.append(table.bbox)
        beside = sheets.beside(page_no, table)
        if beside is not None:
            _join_beside(page, overlays, page_no, doc, table, *beside)
            continue
        table_no += 1
        record = _SheetTable(page_no, table, [-1] * len(table.rows), len(table.columns))
        sheets.tables.append(record)
        for row_no, (top, _bottom) in enumerate(table.rows):
            cells = _sheet_cells(page, overlays, table, row_no, Location(page=page_no, table=table_no, row=row_no + 1))
            if cells:
                blocks.append((top, ("row", cells, table_no, record.lines, row_no)))
    return table_no


def _sheet_cells(page, overlays, table: pdf_columns.GridlessTable, row_no: int, at: Location, offset: int = 0):
    """The filled cells of one row of a gridless table; `at` says where (its column is set here)."""
    cells = []
    for col_no in range(len(table.columns)):
        bbox = table.cell_box(row_no, col_no)
        if bbox is None:
            continue  # text from the cell on its left runs over it
        cell = _cell(page, overlays, bbox, at.page, at.table, at.row, offset + col_no, table.text_right(row_no, col_no))
        if cell is not None:
            cells.append(cell)
    return cells


def _join_beside(page, overlays, page_no, doc, table, earlier: _SheetTable, rows: list[int]) -> None:
    """A sheet's next columns, printed on a page of their own: joined onto the rows beside them."""
    offset = earlier.columns
    for row_no, joins in enumerate(rows):
        at = earlier.lines[joins] if joins >= 0 else -1
        if at < 0:
            continue  # the row had nothing in its first columns; its rest is dropped with it
        line = doc.lines[at]
        where = Location(page=page_no, table=line.table, row=line.cells[0].location.row)
        extra = _sheet_cells(page, overlays, table, row_no, where, offset)
        doc.lines[at] = Line("row", line.cells + tuple(extra), line.table)
    earlier.columns += len(table.columns)


def _continues_previous_row(doc: Document, cells: list[Cell]) -> bool:
    """A table row that a page break cut in two: the page starts mid-sentence in a cell."""
    if not doc.lines or doc.lines[-1].kind != "row":
        return False
    first = cells[0].text.lstrip()
    return bool(first) and first[0].islower()


def _merge_into_last_row(doc: Document, cells: list[Cell]) -> None:
    last = doc.lines[-1]
    merged = {c.col: c for c in last.cells}
    for cell in cells:
        above = merged.get(cell.col)
        merged[cell.col] = (
            cell
            if above is None
            else Cell(
                f"{above.text}\n{cell.text}", above.location, above.col, above.value, above.has_image or cell.has_image
            )
        )
    doc.lines[-1] = Line("row", tuple(sorted(merged.values(), key=lambda c: c.col)), last.table)


# Where a page's characters, lines and boxes come from: "pdfium" (pipeline/read/pdfium_page.py,
# C++, a millisecond or two a page) or "pdfminer" (pdfplumber's own, in Python, 20-70 ms a page).
PAGE_OBJECTS = "pdfium"


class _PdfiumObjectsFailed(Exception):
    """pdfium could not give a page's objects (a fault in pdfium_page, not in the file)."""


def read_pdf(data: bytes) -> Document:
    global _expanded
    try:
        return _read(data)
    finally:
        _expanded = None  # (the file's object streams, kept while it is read)


def _read(data: bytes) -> Document:
    if PAGE_OBJECTS == "pdfium":
        try:
            return _read_pages_pdfium(data)
        except _PdfiumObjectsFailed as exc:
            # the fallback: the whole file read as before, from pdfminer's objects (20-70 ms a page)
            log.warning("pdfium's page objects failed (%s); the PDF is read with pdfminer's", exc.__cause__)
            doc = _read_pages_pdfminer(data, _first_pass(data))
            doc.notes.append(f"read with pdfminer: pdfium's page objects failed ({type(exc.__cause__).__name__})")
            return doc
    return _read_pages_pdfminer(data, _first_pass(data))


def _read_pages_pdfminer(data: bytes, facts: list[_PageFacts]) -> Document:
    """The pages read from pdfminer's objects, through pdfplumber (the reader before pdfium's)."""
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PDFPasswordIncorrect as exc:
        raise UnreadableFile(ProblemCode.ENCRYPTED, "The PDF is protected by a password.") from exc
    except Exception as exc:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"The PDF could not be opened ({type(exc).__name__}).") from exc
    doc = Document(format="pdf")
    try:
        table_no = 0
        sheets = _Sheets()  # gridless tables a later page may continue
        pages = pdf.pages
        if not pages:
            raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The PDF's pages are damaged (no page can be read).")
        if len(pages) != len(facts):  # pdfium and pdfminer walk a damaged page tree differently
            doc.notes.append(
                f"pdfium counts {len(facts)} pages, pdfminer {len(pages)}: the first {min(len(pages), len(facts))} read"
            )
        scanned_pages = []
        for page_no, (page, seen) in enumerate(zip(pages, facts, strict=False), start=1):
            if seen.text_chars < MIN_TEXT_CHARS and not seen.annotated:
                if seen.has_picture:
                    scanned_pages.append(page_no)
                else:
                    doc.notes.append(f"page {page_no} has no text layer")
                continue
            table_no = _read_page(use_fast_objects(page), seen.widgets, page_no, doc, table_no, sheets)
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"The PDF could not be read ({type(exc).__name__}).") from exc
    finally:
        pdf.close()
    return _finish(doc, data, facts, scanned_pages)


def _read_pages_pdfium(data: bytes) -> Document:
    """The pages read from pdfium's objects, each page loaded once for the first pass and the reading."""
    pdf, facts = _open_pdf(data, keep=True)
    doc = Document(format="pdf")
    try:
        agreed = _pages_both_count(data, len(facts), bool(pdfium_c.FPDF_DocumentHasValidCrossReferenceTable(pdf.raw)))
        if agreed < len(facts):
            doc.notes.append(f"pdfium counts {len(facts)} pages, pdfminer {agreed}: the first {agreed} read")
        descents = declared_descents(_with_object_streams(data) or data)
        table_no = 0
        sheets = _Sheets()
        scanned_pages = []
        for page_no, seen in enumerate(facts[:agreed], start=1):
            if seen.text_chars < MIN_TEXT_CHARS and not seen.annotated:
                if seen.has_picture:
                    scanned_pages.append(page_no)
                else:
                    doc.notes.append(f"page {page_no} has no text layer")
                continue
            page, textpage, text = seen.opened
            try:
                read = PdfiumPage(page, page_no, descents, textpage.raw, text)
            except Exception as exc:
                raise _PdfiumObjectsFailed(f"page {page_no}") from exc
            table_no = _read_page(read, seen.widgets, page_no, doc, table_no, sheets)
    except (UnreadableFile, _PdfiumObjectsFailed):
        raise
    except Exception as exc:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"The PDF could not be read ({type(exc).__name__}).") from exc
    finally:
        for seen in facts:
            seen.opened = None
        pdf.close()  # (closes its pages and text pages)
    return _finish(doc, data, facts, scanned_pages)


_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def _pages_both_count(data: bytes, pdfium_pages: int, sound: bool) -> int:
    """How many pages to read: pdfium's count, unless the file's page tree is damaged (a page
    listed twice, a loop), where pdfium and pdfminer count differently and the pages both see
    are read, as before pdfium read the pages. Asked of pdfminer only when the page objects
    written in the file (plainly or in its object streams) are not as many as pdfium's pages, an
    object stream cannot be read here, or pdfium had to rebuild the file's table of objects
    (not `sound`): pdfminer's verdict on a damaged file is kept (it cannot be opened, or has no
    pages). For a sound file, a few microseconds (a little more with object streams)."""
    text = _with_object_streams(data) if sound else None
    if text is not None and len(_PAGE_OBJECT.findall(text)) == pdfium_pages:
        return pdfium_pages
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        pages = list(itertools.islice(PDFPage.create_pages(document), MAX_PAGES + 1))
    except Exception as exc:  # (a wrong password too: pdfium opened the file without one)
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"The PDF could not be opened ({type(exc).__name__}).") from exc
    if not pages:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The PDF's pages are damaged (no page can be read).")
    if any(resolve1(page.attrs.get("MediaBox")) is None for page in pages):
        # pdfium takes such a page to be Letter size; a page must say its size (PDF 1.7, 7.7.3.3)
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The PDF's pages are damaged (a page has no size).")
    return min(len(pages), pdfium_pages)


def _finish(doc: Document, data: bytes, facts: list[_PageFacts], scanned_pages: list[int]) -> Document:
    has_fields = any(seen.has_fields for seen in facts)
    if scanned_pages and _CELL_BOXES.get() is not None:
        pass  # (cell_boxes: a scan's cells are not this reader's)
    elif scanned_pages:
        doc = _with_scanned_pages(doc, data, scanned_pages)
    elif all(seen.text_chars < MIN_TEXT_CHARS for seen in facts) and not has_fields:
        raise UnreadableFile(
            ProblemCode.SCANNED_DOCUMENT,
            "The PDF has no text and no pictures in it: there is nothing to read.",
        )
    if has_fields:
        doc.notes.append("fillable PDF: field values read")
    return doc


def _with_scanned_pages(doc: Document, data: bytes, page_numbers: list[int]) -> Document:
    """The pages without a text layer (a scanner's pictures) read by OCR, in their place among the
    pages that have text. A PDF that is all scan is a scan's Document."""
    from pipeline.read.scan.reader import read_scanned_pdf

    scanned = read_scanned_pdf(data, page_numbers)
    if not doc.lines:
        scanned.notes[:0] = doc.notes
        return scanned
    tables = max((line.table or 0 for line in doc.lines), default=0)
    moved = [_table_moved(line, tables) for line in scanned.lines]
    # a stable sort by page keeps each reader's own order within a page
    doc.lines = sorted(doc.lines + moved, key=lambda line: line.location.page or 0)
    doc.notes += scanned.notes
    doc.crops.update(scanned.crops)
    return doc


def _table_moved(line: Line, by: int) -> Line:
    """A scanned page's table renumbered after the text pages' tables."""
    if line.table is None or not by:
        return line
    cells = tuple(
        dataclasses.replace(c, location=dataclasses.replace(c.location, table=c.location.table + by))
        if c.location.table is not None
        else c
        for c in line.cells
    )
    return Line(line.kind, cells, line.table + by)


def read_pdf_isolated(data: bytes) -> Document:
    """read_pdf with a time and a memory limit (pipeline.read.isolated): PDF is the format most
    able to make a parser loop or balloon."""
    from pipeline.read.isolated import read_isolated

    return read_isolated(read_pdf, data)
