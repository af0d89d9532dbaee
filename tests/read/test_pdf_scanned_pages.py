"""A PDF's pages without a text layer are read by OCR, in their place among its text pages."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
from PIL import Image

from pipeline.read.pdf import read_pdf
from tests.conftest import GOLDEN

TYPED_SHEET = GOLDEN / "voucher" / "pdf_table_total_row.pdf"
SCANNED_SHEET = GOLDEN.parent / "golden_scans" / "voucher" / "clean_300dpi.png"


def _pdf_of(pages: list[bytes | Image.Image]) -> bytes:
    """One PDF of the pages given: a PDF's bytes (its first page, text and all) or a picture (a scan)."""
    out = pdfium.PdfDocument.new()
    for page in pages:
        if isinstance(page, Image.Image):
            buffer = io.BytesIO()
            page.save(buffer, format="PDF", resolution=300)
            page = buffer.getvalue()
        out.import_pages(pdfium.PdfDocument(page), [0])
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def test_a_scanned_page_after_a_typed_one_is_read_by_ocr_in_its_place():
    data = _pdf_of([TYPED_SHEET.read_bytes(), Image.open(SCANNED_SHEET).convert("L")])
    doc = read_pdf(data)
    assert doc.format == "pdf"
    pages = [line.location.page for line in doc.lines]
    assert pages == sorted(pages) and set(pages) == {1, 2}
    typed = [c for line in doc.lines if line.location.page == 1 for c in line.cells]
    scanned = [c for line in doc.lines if line.location.page == 2 for c in line.cells]
    assert {c.source for c in typed} == {"text"} and {c.source for c in scanned} == {"ocr"}
    assert all(c.reading is not None for c in scanned)
    # the scanned page's table comes after the typed page's: numbers never collide
    typed_tables = {line.table for line in doc.lines if line.location.page == 1 and line.table}
    scanned_tables = {line.table for line in doc.lines if line.location.page == 2 and line.table}
    assert typed_tables and scanned_tables and max(typed_tables) < min(scanned_tables)
    assert any("Voucher Amount Received" in " ".join(c.text.split()) for c in scanned)


def test_a_pdf_that_is_all_scan_is_read_as_a_scan():
    doc = read_pdf(_pdf_of([Image.open(SCANNED_SHEET).convert("L")]))
    assert doc.format == "scan"
    assert any(line.kind == "row" for line in doc.lines)
