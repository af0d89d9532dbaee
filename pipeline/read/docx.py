"""Word .docx -> Document, walking word/document.xml ourselves.

python-docx opens the package (relationships, content types, .docm included), but its
`paragraph.text` drops content controls, symbol glyphs, field results and text boxes, so
the main part's XML is walked here with a parser that never resolves entities.
"""

from __future__ import annotations

import io

from docx.opc.package import OpcPackage
from lxml import etree

from pipeline.document import TICKED, UNTICKED, Cell, Document, Location
from pipeline.read.errors import UnreadableFile
from pipeline.read.sniff import UnsafeZip, check_zip_is_safe
from pipeline.problems import ProblemCode
from pipeline.ticks import normalise_glyphs, symbol_char_state

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"

_SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)

_SKIPPED = {"pPr", "rPr", "sdtPr", "sdtEndPr", "delText", "del", "moveFrom", "instrText",
            "tblPr", "tblGrid", "trPr", "tcPr", "proofErr", "bookmarkStart", "bookmarkEnd",
            "commentRangeStart", "commentRangeEnd", "commentReference", "footnoteReference"}


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
    """Collects the text of one paragraph (or table cell) and what else it contains."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.has_image = False
        self.text_boxes: list[etree._Element] = []

    def text(self) -> str:
        return "".join(self.parts)


def _run_font(run: etree._Element) -> str | None:
    fonts = run.find(f"{_w('rPr')}/{_w('rFonts')}")
    if fonts is None:
        return None
    return fonts.get(_w("ascii")) or fonts.get(_w("hAnsi")) or fonts.get(_w("cs"))


def _checkbox_sdt_state(sdt: etree._Element) -> bool | None:
    box = sdt.find(f"{_w('sdtPr')}/{{{W14}}}checkbox")
    if box is None:
        return None
    return _on(box.find(f"{{{W14}}}checked"), f"{{{W14}}}val")


def _legacy_checkbox_state(fld_char: etree._Element) -> bool | None:
    box = fld_char.find(f"{_w('ffData')}/{_w('checkBox')}")
    if box is None:
        return None
    checked = box.find(_w("checked"))
    if checked is not None:  # w:checked wins over w:default
        return _on(checked)
    return _on(box.find(_w("default")))


def _collect_inline(el: etree._Element, out: _Inline, font: str | None = None) -> None:
    for child in el:
        tag = _local(child)
        if not tag or tag in _SKIPPED:
            continue
        if tag == "r":
            _collect_inline(child, out, _run_font(child) or font)
        elif tag == "t":
            out.parts.append(normalise_glyphs(child.text or "", font))
        elif tag == "tab":
            out.parts.append("\t")
        elif tag in ("br", "cr"):
            out.parts.append("\n")
        elif tag == "noBreakHyphen":
            out.parts.append("-")
        elif tag == "sym":
            code = int(child.get(_w("char"), "0"), 16)
            state = symbol_char_state(child.get(_w("font")), code)
            out.parts.append(chr(code) if state is None else (TICKED if state else UNTICKED))
        elif tag == "sdt":
            state = _checkbox_sdt_state(child)
            if state is not None:  # the control's state is the truth, not the glyph it shows
                out.parts.append(TICKED if state else UNTICKED)
            else:
                content = child.find(_w("sdtContent"))
                if content is not None:
                    _collect_inline(content, out, font)
        elif tag == "fldChar":
            state = _legacy_checkbox_state(child)
            if state is not None:
                out.parts.append(TICKED if state else UNTICKED)
        elif tag in ("drawing", "pict", "object"):
            out.text_boxes.extend(child.iter(_w("txbxContent")))
            if any(_local(e) in ("pic", "imagedata", "blip") for e in child.iter()):
                out.has_image = True
        elif tag == "AlternateContent":
            choice = child.find(f"{{{MC}}}Choice")  # Fallback repeats the same content
            if choice is not None:
                _collect_inline(choice, out, font)
        else:  # hyperlink, smartTag, ins, fldSimple, customXml, moveTo, sdtContent, ...
            _collect_inline(child, out, font)


class _DocxWalker:
    def __init__(self) -> None:
        self.doc = Document(format="docx")
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
        self.paragraph_no += 1
        inline = _Inline()
        _collect_inline(p, inline)
        location = Location(paragraph=self.paragraph_no)
        for line in inline.text().split("\n"):
            self.doc.add_paragraph(line.strip(), location, has_image=inline.has_image)
        for box in inline.text_boxes:
            self.walk_blocks(box)

    def table(self, tbl: etree._Element) -> None:
        self.table_no += 1
        table_no = self.table_no
        for row_no, tr in enumerate(tbl.iter(_w("tr")), start=1):
            if tr.getparent() is not tbl and _local(tr.getparent()) != "sdtContent":
                continue  # rows of nested tables are read as their cell's text
            cells: list[Cell] = []
            col = 0
            for tc in tr:
                if _local(tc) == "sdt":
                    tcs = tc.findall(f"{_w('sdtContent')}/{_w('tc')}")
                elif _local(tc) == "tc":
                    tcs = [tc]
                else:
                    continue
                for cell in tcs:
                    span_el = cell.find(f"{_w('tcPr')}/{_w('gridSpan')}")
                    span = int(span_el.get(_w("val"), "1")) if span_el is not None else 1
                    vmerge = cell.find(f"{_w('tcPr')}/{_w('vMerge')}")
                    continued = vmerge is not None and vmerge.get(_w("val"), "continue") == "continue"
                    text, has_image = ("", False) if continued else _cell_text(cell)
                    cells.append(Cell(text, Location(table=table_no, row=row_no, col=col + 1), col, None, has_image))
                    col += span
            self.doc.add_row([c for c in cells if not c.is_blank] or [], table_no)


def _cell_text(tc: etree._Element) -> tuple[str, bool]:
    lines: list[str] = []
    has_image = False
    for p in tc.iter(_w("p")):
        inline = _Inline()
        _collect_inline(p, inline)
        has_image = has_image or inline.has_image
        lines.append(inline.text().strip())
        for box in inline.text_boxes:
            lines.extend(t.strip() for t in box.itertext())
    return "\n".join(line for line in lines if line).strip(), has_image


def read_docx(data: bytes) -> Document:
    try:
        check_zip_is_safe(data)
    except UnsafeZip as exc:
        raise UnreadableFile(ProblemCode.TOO_LARGE, f"The Word file expands to an unsafe size ({exc}).") from exc
    try:
        package = OpcPackage.open(io.BytesIO(data))
        blob = package.main_document_part.blob
        root = etree.fromstring(blob, _SAFE_PARSER)
    except Exception as exc:  # any failure to open the package means the file is damaged
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"The Word file could not be opened ({type(exc).__name__}).") from exc
    body = root.find(_w("body"))
    walker = _DocxWalker()
    if body is not None:
        walker.walk_blocks(body)
    return walker.doc
