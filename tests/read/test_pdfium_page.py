"""pipeline.read.pdfium_page: a page's characters, lines, boxes and pictures read by pdfium give
the same Document as pdfminer's (pdfplumber's) objects did; where the two libraries disagree,
each test says which is right and why."""

from __future__ import annotations

import ctypes
import io
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
import pytest
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfplumber.utils import extract_words

import pipeline.read.pdf as reader
from pipeline.document import Location
from pipeline.problems import ProblemCode
from pipeline.read.errors import UnreadableFile
from pipeline.read.pdf_objects import use_fast_objects
from pipeline.read.pdfium_page import PdfiumPage, declared_descents
from pipeline.read.pdfium_words import words
from tests.corpus.make_hostile import _pdf
from tests.read.crafted import _FONT, _stream
from tests.read.turned import turned_pdf

ROOT = Path(__file__).parents[1]
GOLDEN_PDFS = sorted((ROOT / "golden").glob("*/*.pdf"))
TICKS = ROOT / "golden" / "evaluation" / "pdf_ticks_glyph.pdf"  # LibreOffice: ligatures, hyphens
GRID = ROOT / "golden" / "evaluation" / "pdf_grid_table_legacy.pdf"
FILLABLE = ROOT / "golden" / "evaluation" / "fillable_named_fields.pdf"  # reportlab: Helvetica, undescribed
SHEET = ROOT / "golden" / "voucher" / "pdf_of_excel_sheet.pdf"


def _public(name: str) -> bytes:
    """A file of the public test corpus (tests/corpus/public, fetched by tests/corpus/build_public.py,
    not committed): the test is skipped where the corpus was not fetched."""
    path = ROOT / "corpus" / "public" / name
    if not path.exists():
        pytest.skip(f"public corpus file {name} not fetched")
    return path.read_bytes()


def _document(data: bytes, objects: str, monkeypatch) -> object:
    """The reading as lines of (kind, table, cells), or the problem's code."""
    monkeypatch.setattr(reader, "PAGE_OBJECTS", objects)
    monkeypatch.setattr(reader, "_with_scanned_pages", lambda doc, data, pages: doc)  # (OCR is not compared)
    try:
        doc = reader.read_pdf(data)
    except UnreadableFile as exc:
        return exc.code
    return [
        (line.kind, line.table, [(c.text, c.location, c.col, c.has_image) for c in line.cells]) for line in doc.lines
    ], doc.notes


def _pages(path: Path):
    """(pdfplumber's page with pdfminer's objects, the same page from pdfium) for each page."""
    data = path.read_bytes()
    descents = declared_descents(data)
    with pdfplumber.open(io.BytesIO(data)) as plumber:
        pdf = pdfium.PdfDocument(data)
        try:
            for n, (page, pdfium_page) in enumerate(zip(plumber.pages, pdf, strict=True), start=1):
                yield use_fast_objects(page), PdfiumPage(pdfium_page, n, descents)
        finally:
            pdf.close()


def _page_pdf(content: bytes) -> bytes:
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(b"<<", content),
            _FONT,
        ]
    )


# ---------------------------------------------------------------- the same Document


@pytest.mark.parametrize("path", GOLDEN_PDFS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_golden_pdf_reads_the_same_from_pdfium_as_from_pdfminer(path, monkeypatch):
    data = path.read_bytes()
    assert _document(data, "pdfium", monkeypatch) == _document(data, "pdfminer", monkeypatch)


@pytest.mark.parametrize("path", [TICKS, SHEET, FILLABLE], ids=lambda p: p.name)
def test_a_page_turned_upside_down_reads_as_pdfminer_reads_it(path, monkeypatch):
    """pdfium lists a turned page's text in the order it reads it as shown; the reader puts the
    characters back in the content's order, as pdfminer gives them (its layout depends on it)."""
    data = turned_pdf(path.read_bytes(), 180)
    assert _document(data, "pdfium", monkeypatch) == _document(data, "pdfminer", monkeypatch)


@pytest.mark.parametrize("path", [TICKS, FILLABLE, SHEET], ids=lambda p: p.name)
def test_characters_are_pdfminers_characters(path):
    """Same text, same order, same boxes. A character's right edge is its advance; where a glyph
    overhangs its advance and the next letter is kerned closer, pdfium cannot tell the two apart
    and the edge may be a fraction of a point off (never enough to join or split a word)."""
    for plumber_page, pdfium_page in _pages(path):
        expected, got = plumber_page.chars, pdfium_page.chars
        assert [c["text"] for c in got] == [c["text"] for c in expected]
        for want, have in zip(expected, got, strict=True):
            for key in ("x0", "top", "bottom", "size"):
                assert have[key] == pytest.approx(want[key], abs=0.01), (want["text"], key)
            assert have["x1"] == pytest.approx(want["x1"], abs=0.3), want["text"]
            assert have["upright"] == want["upright"]


@pytest.mark.parametrize("path", [GRID, TICKS, SHEET, FILLABLE], ids=lambda p: p.name)
def test_ruling_lines_boxes_and_curves_are_pdfminers(path):
    """Paths split at each move and classified as pdfminer does: a straight segment is a line, a
    closed four-sided rectilinear path a box, anything else a curve."""

    def shapes(objects, kind):  # (pdfium measures in single precision: a hundredth of a point)
        return sorted(tuple(round(o[k], 1) for k in ("x0", "top", "x1", "bottom")) for o in objects.get(kind, []))

    for plumber_page, pdfium_page in _pages(path):
        for kind in ("rect", "line", "curve", "image"):
            got, expected = shapes(pdfium_page.objects, kind), shapes(plumber_page.objects, kind)
            assert len(got) == len(expected), kind
            for have, want in zip(got, expected, strict=True):
                assert have == pytest.approx(want, abs=0.11), kind


@pytest.mark.parametrize("path", GOLDEN_PDFS[:12], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_words_are_the_words_pdfplumber_makes(path):
    data = path.read_bytes()
    pdf = pdfium.PdfDocument(data)
    try:
        for n, page in enumerate(pdf, start=1):
            pdfium_page = PdfiumPage(page, n, declared_descents(data))
            chars = [{**c, "doctop": c["top"]} for c in pdfium_page.chars]  # (pdfplumber's words want a doctop)
            expected = [
                (w["text"], w["x0"], w["x1"], w["top"], w["bottom"], w["size"])
                for w in extract_words(chars, keep_blank_chars=False, use_text_flow=False, extra_attrs=("size",))
            ]
            assert words(pdfium_page.char_rows) == expected
    finally:
        pdf.close()


# ---------------------------------------------------------------- where pdfium and pdfminer disagree


def test_text_printed_twice_over_itself_reads_once(monkeypatch):
    """A word printed twice a fraction of a point apart (fake bold, a shadow) is one word on the
    page. pdfium notices and keeps one copy; pdfminer reads both and interleaves their letters
    ("PPrroojjeecctt"). pdfium is right, and the reader follows it."""
    data = _page_pdf(
        b"BT /F1 12 Tf 72 720 Td (Project Name: Bold letters here) Tj ET "
        b"BT /F1 12 Tf 72.3 720 Td (Project Name: Bold letters here) Tj ET"
    )
    lines, _ = _document(data, "pdfium", monkeypatch)
    assert [cell[0] for _kind, _table, cells in lines for cell in cells] == ["Project Name: Bold letters here"]
    old, _ = _document(data, "pdfminer", monkeypatch)
    assert old[0][2][0][0].startswith("PPrroojj")


def test_invisible_text_is_read_as_pdfminer_reads_it(monkeypatch):
    """Text drawn invisible (render mode 3) is a scan's OCR layer (ocrmypdf writes its text so):
    both libraries read it, rightly, since it is the only text such a page has."""
    data = _page_pdf(
        b"BT /F1 12 Tf 72 720 Td (Project Name: Visible) Tj ET "
        b"BT 3 Tr /F1 12 Tf 72 700 Td (Hidden layer text here) Tj ET"
    )
    assert _document(data, "pdfium", monkeypatch) == _document(data, "pdfminer", monkeypatch)
    lines, _ = _document(data, "pdfium", monkeypatch)
    assert lines[1][2][0][0] == "Hidden layer text here"


def test_a_ligature_is_one_character_as_printed():
    """LibreOffice prints "fl" as one glyph whose text is two letters. pdfium spells it out as
    two characters at the same place, each as wide as the glyph; pdfminer gives one character
    "fl". One is right: one printed shape, one box, its advance once (two boxes would count the
    width twice in a cell's wrap test). The reader joins pdfium's letters back into one."""
    data = TICKS.read_bytes()
    pdf = pdfium.PdfDocument(data)
    try:
        textpage = pdf[0].get_textpage()
        raw = textpage.get_text_range()
        assert "fl" in raw
        chars = PdfiumPage(pdf[0], 1, declared_descents(data)).chars
    finally:
        pdf.close()
    ligatures = [c for c in chars if c["text"] == "fl"]
    assert ligatures and all(c["x1"] - c["x0"] < 8 for c in ligatures)


def test_a_hyphen_that_ends_a_line_stays_a_hyphen():
    """pdfium marks a hyphen at the end of a line as a soft one (its text U+0002 or U+FFFE,
    FPDFText_IsHyphen): it would join "co-" and "production" across the line. The hyphen is
    printed, and a paragraph's lines are joined by the reader's own rule (a hyphen between
    letters joins without a space), so it stays "-", as pdfminer reads it."""
    chars = next(pdfium_page.chars for _, pdfium_page in _pages(TICKS))
    text = "".join(c["text"] for c in chars)
    assert "co-" in text and "\x02" not in text and "\ufffe" not in text


def test_spaces_pdfium_adds_between_words_and_lines_are_not_characters():
    """pdfium adds a space where words are set apart by position only, and a line end after each
    line (FPDFText_IsGenerated); nothing is printed there. pdfminer has no such characters and
    the reader's words split on the gap itself, so they are left out: the characters are the
    printed ones, as pdfminer's."""
    for plumber_page, pdfium_page in _pages(TICKS):
        assert "".join(c["text"] for c in pdfium_page.chars) == "".join(c["text"] for c in plumber_page.chars)
        assert not any(c["text"] in "\r\n" for c in pdfium_page.chars)


def test_a_characters_box_hangs_from_the_descent_the_font_declares():
    """LibreOffice declares /Descent 0 for every font it embeds; pdfium measures the descent
    from the font file instead (DejaVu Sans: about a fifth of the size below the baseline).
    pdfium is right about the glyphs, but the reader's lines, cells and rows were cut on
    pdfminer's boxes, which hang from the declared descent: a character's box sits on its
    baseline here, so the readings stay as they were."""
    data = TICKS.read_bytes()
    assert set(declared_descents(data).values()) == {0.0}
    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[0]
        height = page.get_height()
        textpage = page.get_textpage()
        pdfium_bottom = textpage.get_charbox(0, loose=True)[1]  # pdfium's own box for the first letter
        x, y = ctypes.c_double(), ctypes.c_double()
        pdfium.raw.FPDFText_GetCharOrigin(textpage.raw, 0, x, y)
        chars = PdfiumPage(page, 1, declared_descents(data)).chars
    finally:
        pdf.close()
    assert chars[0]["bottom"] == pytest.approx(height - y.value, abs=0.01)  # on the baseline
    assert height - pdfium_bottom > chars[0]["bottom"] + 1  # pdfium's own box hangs lower


def test_standard_fonts_without_a_description_use_their_published_descent():
    """A PDF may use Helvetica without describing it (reportlab's fillable forms do): pdfminer
    takes the descent from the font's published metrics (AFM), pdfium from its substitute font.
    The published one is the font's; the reader uses it, as pdfminer does."""
    for plumber_page, pdfium_page in _pages(FILLABLE):
        first, ours = plumber_page.chars[0], pdfium_page.chars[0]
        assert ours["bottom"] == pytest.approx(first["bottom"], abs=0.01)


def test_a_file_pdfium_had_to_repair_keeps_pdfminers_verdict():
    """pdfium rebuilds a damaged file's table of objects and reads on; pdfminer refuses some such
    files. For a damaged file (and only then, as it costs a parse) pdfminer is asked too, and a
    file it cannot open is a corrupt file, as before: a form in a damaged file is not trusted."""
    data = _public("pillow/trailer_loop.pdf")
    with pytest.raises(UnreadableFile) as caught:
        reader.read_pdf(data)
    assert caught.value.code is ProblemCode.CORRUPT_FILE


def test_a_page_without_a_size_is_damaged():
    """A page must say its size (/MediaBox, PDF 1.7 7.7.3.3). pdfium takes a page without one
    to be Letter size and reads it; pdfplumber failed on it. In a repaired file this is damage:
    a corrupt file, as before."""
    data = _public("pdfjs/operator_list_cycle.pdf")
    with pytest.raises(UnreadableFile) as caught:
        reader.read_pdf(data)
    assert caught.value.code is ProblemCode.CORRUPT_FILE
    assert "no size" in caught.value.message


# ---------------------------------------------------------------- cell boxes


def test_cell_boxes_say_where_each_cell_read_is_on_its_page():
    data = GRID.read_bytes()
    doc = reader.read_pdf(data)
    boxes = reader.cell_boxes(data)
    cells = [c for line in doc.lines if line.kind == "row" for c in line.cells]
    assert cells and all(c.location in boxes for c in cells)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for cell in cells:
            page_no, x0, top, x1, bottom = boxes[cell.location]
            page = pdf.pages[page_no - 1]
            assert 0 <= x0 < x1 <= page.width and 0 <= top < bottom <= page.height
            words_in = page.crop((x0, top, x1, bottom)).extract_text().split()
            first_word = cell.text.split()[0]
            assert first_word in words_in or cell.text.startswith(("\u2610", "\u2612"))
    assert Location(page=1, table=1, row=1, col=1) in boxes


def test_a_fault_in_pdfiums_page_objects_falls_back_to_pdfminer(monkeypatch):
    """Should reading a page's objects from pdfium fail (a fault in pipeline/read/pdfium_page.py,
    not in the file), the file is read as before, from pdfminer's objects, and says so."""

    def broken(*args, **kwargs):
        raise ValueError("a fault in the pdfium page reader")

    data = GRID.read_bytes()
    expected = _document(data, "pdfminer", monkeypatch)
    monkeypatch.setattr(reader, "PdfiumPage", broken)
    lines, notes = _document(data, "pdfium", monkeypatch)
    assert lines == expected[0]
    assert notes == [*expected[1], "read with pdfminer: pdfium's page objects failed (ValueError)"]


def test_a_sound_file_whose_pages_pdfminer_cannot_find_is_read():
    """pdf.js's filled IRS form 1040 keeps its objects in compressed object streams; pdfminer
    finds no page in it (the reader called it damaged), pdfium and every viewer show its two
    pages. pdfium is right: the pages written in the file (in its object streams) are the two
    pdfium counts, so pdfminer is not asked and the form is read."""
    data = _public("pdfjs/prefilled_f1040.pdf")
    assert not list(PDFPage.create_pages(PDFDocument(PDFParser(io.BytesIO(data)))))
    doc = reader.read_pdf(data)
    assert "1040" in doc.lines[0].text and {line.location.page for line in doc.lines} == {1, 2}


def test_object_streams_are_read_for_what_the_bytes_may_hold():
    """Word and pypdf compress most objects into object streams: their contents are looked at
    (page objects counted, Form XObject names sought) without pdfminer. An object stream that
    cannot be read so (here: encrypted) rules nothing out, and pdfminer is asked as before."""
    plain = _public("pypdf/form.pdf")
    assert b"ObjStm" in plain and not reader._PAGE_OBJECT.findall(plain)
    assert len(reader._PAGE_OBJECT.findall(reader._with_object_streams(plain))) == 1
    encrypted = _public("pypdf/crazyones-encrypted-256.pdf")
    assert reader._with_object_streams(encrypted) is None


def test_a_damaged_string_in_a_page_does_not_lose_the_rest_of_the_page(monkeypatch):
    """A fuzzed copy of a paper (pdf.js's poppler-90-0-fuzzed.pdf) has a broken hex string in a
    page's content. pdfminer gives up on the page, and the reader called the file corrupt; pdfium
    skips the broken string and reads the rest. pdfium is followed: a form with one damaged
    string still has its other answers, and the file is not a form either way (it is then an
    unknown form, not a corrupt file)."""
    data = _public("pdfjs/poppler-90-0-fuzzed.pdf")
    assert _document(data, "pdfminer", monkeypatch) is ProblemCode.CORRUPT_FILE
    lines, _ = _document(data, "pdfium", monkeypatch)
    assert any("Key" in cell[0] for _kind, _table, cells in lines for cell in cells)
