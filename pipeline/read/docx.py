"""Word .docx -> Document, walking word/document.xml ourselves.

python-docx opens the package (relationships, content types, .docm included), but its
`paragraph.text` drops content controls, symbol glyphs, field results and text boxes, so
the main part's XML is walked here with a parser that never resolves entities.

Every walk looks at each element once (a text box is walked where it sits, never again by the
text boxes around it: nested text boxes made the old walk exponential), and what is read is
capped: a form has a few hundred rows, so a file of millions of tiny cells is refused quickly.

A tick box is what a person sees on the page: a checkbox content control whose glyph and
recorded state disagree (what some editors and copy-pastes leave) is read as its glyph shows,
and the Cell notes the box (Cell.disputed_ticks) so that validation can warn.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from docx.opc.package import OpcPackage
from lxml import etree

from pipeline.document import TICKED, UNTICKED, Cell, Document, Location
from pipeline.problems import ProblemCode
from pipeline.read.errors import UnreadableFile
from pipeline.read.sniff import UnsafeZip, check_zip_is_safe
from pipeline.read.ticks import glyph_state, normalise_glyphs, symbol_char_state

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"

_SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)

# Tags in document.xml ('<' counted on the raw bytes, before parsing): ~1M elements. A long
# report has a few hundred thousand; 60 MB of tiny table cells has ~9M.
MAX_XML_TAGS = 2_000_000
MAX_ROWS = 5_000  # table rows, all tables together (nested ones too)
MAX_CELLS = 100_000
MAX_PARAGRAPHS = 20_000  # in the body, in cells and in text boxes
MAX_CELL_CHARS = 10_000  # one paragraph's or one cell's text is cut there
MAX_TOTAL_CHARS = 2_000_000  # ~1,000 pages

_SKIPPED = {
    "pPr",
    "rPr",
    "sdtPr",
    "sdtEndPr",
    "delText",
    "del",
    "moveFrom",
    "instrText",
    "tblPr",
    "tblGrid",
    "trPr",
    "tcPr",
    "proofErr",
    "bookmarkStart",
    "bookmarkEnd",
    "commentRangeStart",
    "commentRangeEnd",
    "commentReference",
    "footnoteReference",
}


def _local(el: etree._Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


def _on(el: etree._Element | None, attr: str = _w("val")) -> bool:
    """OOXML on/off property: present with no value means on."""
    if el is None:
        return False
    return el.get(attr, "true").lower() not in ("0", "false", "off")


class _Inline:
    """Collects the text of one paragraph and what else it holds. Text past MAX_CELL_CHARS is
    dropped as it comes, so one paragraph of a million runs never builds a huge string."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.has_image = False
        self.text_boxes: list[etree._Element] = []  # the outermost ones only: they are walked later
        self.boxes = 0  # TICKED/UNTICKED characters kept so far
        self.disputed: list[int] = []  # of those, the boxes whose glyph and control state disagree

    def add(self, text: str) -> None:
        if self.length <= MAX_CELL_CHARS:
            self.parts.append(text)
            self.length += len(text)
            self.boxes += count_boxes(text)

    def add_box(self, ticked: bool, disputed: bool = False) -> None:
        if disputed and self.length <= MAX_CELL_CHARS:
            self.disputed.append(self.boxes)
        self.add(TICKED if ticked else UNTICKED)

    def add_text(self, text: str, font: str | None) -> None:
        """Text of a w:t, its tick glyphs made canonical: only as much as can still be kept (one
        character more, so that the cut is seen)."""
        room = MAX_CELL_CHARS + 1 - self.length
        if room > 0:
            self.add(normalise_glyphs(text[:room], font))

    def text(self) -> str:
        return "".join(self.parts)


def _run_font(run: etree._Element) -> str | None:
    fonts = run.find(f"{_w('rPr')}/{_w('rFonts')}")
    if fonts is None:
        return None
    return fonts.get(_w("ascii")) or fonts.get(_w("hAnsi")) or fonts.get(_w("cs"))


def count_boxes(text: str) -> int:
    return text.count(TICKED) + text.count(UNTICKED)


def _symbol_key(code: int) -> int:
    """Word writes a symbol font's character as F0xx in w:sym and in text, 00xx in a checkbox's
    checkedState: the same character."""
    return code - 0xF000 if 0xF000 <= code <= 0xF0FF else code


def _declared_states(box: etree._Element) -> dict[int, bool]:
    """The characters the checkbox says it shows when ticked and when not (w14:checkedState,
    w14:uncheckedState): Word's default is ☒/☐ in MS Gothic, but any character may be chosen."""
    declared: dict[int, bool] = {}
    for tag, state in (("uncheckedState", False), ("checkedState", True)):
        el = box.find(f"{{{W14}}}{tag}")
        if el is None:
            continue
        try:
            key = _symbol_key(int(el.get(f"{{{W14}}}val", ""), 16))
        except ValueError:
            continue
        if declared.get(key, state) != state:  # the same character for both: it tells nothing
            return {}
        declared[key] = state
    return declared


def _shown_state(content: etree._Element | None, declared: dict[int, bool]) -> bool | None:
    """Whether the glyph a checkbox shows is a tick, read as a person would (None: no box glyph)."""
    if content is None:
        return None
    for el in content.iter(_w("t"), _w("sym")):
        if _local(el) == "sym":
            try:
                codes = [ord(chr(int(el.get(_w("char"), ""), 16)))]
            except (ValueError, OverflowError):  # not hexadecimal, or past the last code point
                continue
            font, is_symbol = el.get(_w("font")), True
        else:
            codes = [ord(ch) for ch in el.text or "" if not ch.isspace()]
            run = el.getparent()
            font, is_symbol = (_run_font(run) if run is not None else None), False
        for code in codes:
            state = declared.get(_symbol_key(code))
            if state is None and (is_symbol or 0xF000 <= code <= 0xF0FF):
                state = symbol_char_state(font, code)
            elif state is None:
                state = glyph_state(chr(code))
            if state is not None:
                return state
    return None


def _checkbox_sdt(sdt: etree._Element) -> tuple[bool, bool] | None:
    """A checkbox content control: (ticked as its glyph shows, whether its recorded state says
    otherwise); None if the control is not a checkbox. A person reads the glyph, so the glyph
    gives the answer; the recorded state decides only where no box glyph shows."""
    box = sdt.find(f"{_w('sdtPr')}/{{{W14}}}checkbox")
    if box is None:
        return None
    recorded = _on(box.find(f"{{{W14}}}checked"), f"{{{W14}}}val")
    shown = _shown_state(sdt.find(_w("sdtContent")), _declared_states(box))
    if shown is None:
        return recorded, False
    return shown, shown != recorded


def _legacy_checkbox_state(fld_char: etree._Element) -> bool | None:
    box = fld_char.find(f"{_w('ffData')}/{_w('checkBox')}")
    if box is None:
        return None
    checked = box.find(_w("checked"))
    if checked is not None:  # w:checked wins over w:default
        return _on(checked)
    return _on(box.find(_w("default")))


_IMAGE_TAGS = frozenset(("pic", "imagedata", "blip"))


def _scan_drawing(drawing: etree._Element, out: _Inline) -> None:
    """The text boxes and pictures of a drawing (w:drawing, w:pict, w:object), walked without
    recursion. A text box's own content is not entered: the caller walks it as blocks, and the
    text boxes nested inside it are found then, so each element is looked at once."""
    stack = [iter(drawing)]
    while stack:
        for child in stack[-1]:
            tag = _local(child)
            if tag == "txbxContent":
                out.text_boxes.append(child)
            elif tag == "Fallback":  # mc:Fallback repeats the mc:Choice beside it
                continue
            else:
                if tag in _IMAGE_TAGS:
                    out.has_image = True
                stack.append(iter(child))
                break
        else:
            stack.pop()


def _collect_inline(el: etree._Element, out: _Inline, font: str | None = None) -> None:
    for child in el:
        tag = _local(child)
        if not tag or tag in _SKIPPED:
            continue
        if tag == "r":
            _collect_inline(child, out, _run_font(child) or font)
        elif tag == "t":
            out.add_text(child.text or "", font)
        elif tag == "tab":
            out.add("\t")
        elif tag in ("br", "cr"):
            out.add("\n")
        elif tag == "noBreakHyphen":
            out.add("-")
        elif tag == "sym":
            out.add(_symbol(child))
        elif tag == "sdt":
            checkbox = _checkbox_sdt(child)
            if checkbox is not None:
                out.add_box(*checkbox)
            else:
                content = child.find(_w("sdtContent"))
                if content is not None:
                    _collect_inline(content, out, font)
        elif tag == "fldChar":
            state = _legacy_checkbox_state(child)
            if state is not None:
                out.add_box(state)
        elif tag in ("drawing", "pict", "object"):
            _scan_drawing(child, out)
        elif tag == "AlternateContent":
            choice = child.find(f"{{{MC}}}Choice")  # Fallback repeats the same content
            if choice is not None:
                _collect_inline(choice, out, font)
        else:  # hyperlink, smartTag, ins, fldSimple, customXml, moveTo, sdtContent, ...
            _collect_inline(child, out, font)


def _symbol(sym: etree._Element) -> str:
    try:
        code = int(sym.get(_w("char"), "0"), 16)
        character = chr(code)
    except (ValueError, OverflowError):  # not hexadecimal, or past the last code point
        return ""
    state = symbol_char_state(sym.get(_w("font")), code)
    return character if state is None else (TICKED if state else UNTICKED)


def _rows(tbl: etree._Element):
    """A table's own rows, also those wrapped in a content control; never a nested table's."""
    for child in tbl:
        tag = _local(child)
        if tag == "tr":
            yield child
        elif tag == "sdt":
            content = child.find(_w("sdtContent"))
            if content is not None:
                yield from _rows(content)
        elif tag == "customXml":
            yield from _rows(child)


def _row_cells(tr: etree._Element):
    for child in tr:
        tag = _local(child)
        if tag == "tc":
            yield child
        elif tag == "sdt":
            yield from child.iterfind(f"{_w('sdtContent')}/{_w('tc')}")
        elif tag == "customXml":
            yield from _row_cells(child)


class _Budget:
    """How much of document.xml has been read. A form has a few hundred rows and paragraphs: a
    file far beyond that is refused as soon as it passes a cap, rather than read to the end."""

    def __init__(self) -> None:
        self.rows = 0
        self.cells = 0
        self.paragraphs = 0
        self.chars = 0
        self.cut_cells = 0

    def _over(self, count: int, limit: int, what: str) -> None:
        if count > limit:
            raise UnreadableFile(
                ProblemCode.TOO_LARGE,
                f"The Word file has more than {limit:,} {what}; a form has far fewer, so it was not read.",
            )

    def row(self) -> None:
        self.rows += 1
        self._over(self.rows, MAX_ROWS, "table rows")

    def cell(self) -> None:
        self.cells += 1
        self._over(self.cells, MAX_CELLS, "table cells")

    def paragraph(self) -> None:
        self.paragraphs += 1
        self._over(self.paragraphs, MAX_PARAGRAPHS, "paragraphs")

    def text(self, text: str) -> str:
        """The text, cut to MAX_CELL_CHARS, counted against the whole file's MAX_TOTAL_CHARS."""
        if len(text) > MAX_CELL_CHARS:
            self.cut_cells += 1
            text = text[:MAX_CELL_CHARS]
        self.chars += len(text)
        self._over(self.chars, MAX_TOTAL_CHARS, "characters of text")
        return text


class _DocxWalker:
    def __init__(self) -> None:
        self.doc = Document(format="docx")
        self.budget = _Budget()
        self.paragraph_no = 0
        self.table_no = 0

    def walk_blocks(self, container: etree._Element) -> None:
        for child in container:
            tag = _local(child)
            if tag == "p":
                self.paragraph(child)
            elif tag == "tbl":
                self.table(child)
            elif tag == "sdt":
                content = child.find(_w("sdtContent"))
                if content is not None:
                    self.walk_blocks(content)
            elif tag in ("customXml", "ins", "moveTo"):
                self.walk_blocks(child)
            elif tag == "AlternateContent":
                choice = child.find(f"{{{MC}}}Choice")
                if choice is not None:
                    self.walk_blocks(choice)

    def paragraph(self, p: etree._Element) -> None:
        self.budget.paragraph()
        self.paragraph_no += 1
        inline = _Inline()
        _collect_inline(p, inline)
        location = Location(paragraph=self.paragraph_no)
        first_box = 0  # the paragraph's first box on this line, counted from the paragraph's start
        for line in self.budget.text(inline.text()).split("\n"):
            boxes = count_boxes(line)
            disputed = tuple(n - first_box for n in inline.disputed if first_box <= n < first_box + boxes)
            self.doc.add_paragraph(line.strip(), location, has_image=inline.has_image, disputed_ticks=disputed)
            first_box += boxes
        for box in inline.text_boxes:
            self.walk_blocks(box)

    def table(self, tbl: etree._Element) -> None:
        self.table_no += 1
        table_no = self.table_no
        for row_no, tr in enumerate(_rows(tbl), start=1):
            self.budget.row()
            cells: list[Cell] = []
            col = 0
            for cell in _row_cells(tr):
                self.budget.cell()
                span_el = cell.find(f"{_w('tcPr')}/{_w('gridSpan')}")
                span = _span(span_el)
                vmerge = cell.find(f"{_w('tcPr')}/{_w('vMerge')}")
                continued = vmerge is not None and vmerge.get(_w("val"), "continue") == "continue"
                cell_text = _CellText() if continued else self.cell_text(cell)
                location = Location(table=table_no, row=row_no, col=col + 1)
                cells.append(
                    Cell(
                        cell_text.text,
                        location,
                        col,
                        None,
                        cell_text.has_image,
                        disputed_ticks=tuple(cell_text.disputed),
                    )
                )
                col += span
            self.doc.add_row([c for c in cells if not c.is_blank] or [], table_no)

    def cell_text(self, tc: etree._Element) -> _CellText:
        """A cell's text, a line per paragraph: its own, those of the tables nested in it (read as
        its text) and of its text boxes, each once."""
        cell = _CellText()
        self._cell_lines(tc, cell)
        cell.text = self.budget.text("\n".join(line for line in cell.lines if line).strip())
        return cell

    def _cell_lines(self, container: etree._Element, cell: _CellText) -> None:
        for child in container:
            tag = _local(child)
            if not tag or tag in _SKIPPED:
                continue
            if tag == "p":
                self.budget.paragraph()
                inline = _Inline()
                _collect_inline(child, inline)
                cell.add_line(inline)
                for box in inline.text_boxes:
                    self._cell_lines(box, cell)
            elif tag == "tbl":
                for tr in _rows(child):
                    self.budget.row()
                    for tc in _row_cells(tr):
                        self.budget.cell()
                        self._cell_lines(tc, cell)
            elif tag == "sdt":
                content = child.find(_w("sdtContent"))
                if content is not None:
                    self._cell_lines(content, cell)
            elif tag == "AlternateContent":
                choice = child.find(f"{{{MC}}}Choice")
                if choice is not None:
                    self._cell_lines(choice, cell)
            else:  # customXml, ins, moveTo, ...: containers of blocks
                self._cell_lines(child, cell)


class _CellText:
    """A table cell's paragraphs as they are read, with its disputed tick boxes counted from the
    cell's first box."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.text = ""
        self.has_image = False
        self.boxes = 0
        self.disputed: list[int] = []

    def add_line(self, inline: _Inline) -> None:
        self.lines.append(inline.text().strip())
        self.has_image = self.has_image or inline.has_image
        self.disputed.extend(self.boxes + n for n in inline.disputed)
        self.boxes += inline.boxes


def _span(grid_span: etree._Element | None) -> int:
    if grid_span is None:
        return 1
    try:
        return max(1, min(int(grid_span.get(_w("val"), "1")), 64))
    except ValueError:
        return 1


def _check_tag_counts(data: bytes) -> None:
    """Refuse an XML part of millions of elements before anything parses it (python-docx parses
    document.xml as it opens the package): '<' counted on the bytes, a megabyte at a time."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if not info.filename.endswith((".xml", ".rels")):
                    continue
                tags = 0
                with zf.open(info) as part:
                    while chunk := part.read(1 << 20):
                        tags += chunk.count(b"<")
                if tags > MAX_XML_TAGS:
                    raise UnreadableFile(
                        ProblemCode.TOO_LARGE,
                        "The Word file holds millions of table cells or paragraphs; a form has "
                        "far fewer, so it was not read.",
                    )
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
        # zlib.error: a part's compressed bytes damaged (a file garbled in sending)
        raise UnreadableFile(
            ProblemCode.CORRUPT_FILE, f"The Word file could not be opened ({type(exc).__name__})."
        ) from exc


def read_docx(data: bytes, own_conversion: bool = False) -> Document:
    """`own_conversion`: the bytes are LibreOffice's output of our own conversion, whose parts
    may compress far better than a zip bomb's threshold; the absolute size caps still hold."""
    try:
        check_zip_is_safe(data, check_ratio=not own_conversion)
    except UnsafeZip as exc:
        raise UnreadableFile(ProblemCode.TOO_LARGE, f"The Word file expands to an unsafe size ({exc}).") from exc
    _check_tag_counts(data)
    try:
        package = OpcPackage.open(io.BytesIO(data))
        blob = package.main_document_part.blob
        root = etree.fromstring(blob, _SAFE_PARSER)
    except Exception as exc:
        raise UnreadableFile(
            ProblemCode.CORRUPT_FILE, f"The Word file could not be opened ({type(exc).__name__})."
        ) from exc
    body = root.find(_w("body"))
    walker = _DocxWalker()
    if body is not None:
        walker.walk_blocks(body)
    if walker.budget.cut_cells:
        walker.doc.notes.append(
            f"{walker.budget.cut_cells} paragraph(s) or cell(s) cut to {MAX_CELL_CHARS:,} characters"
        )
    return walker.doc
