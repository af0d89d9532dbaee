"""pipeline.read.pdf_objects: a page's objects equal pdfplumber's own (`Page.parse_objects`), for
every sample PDF, turned pages, and a hand-made page with what the samples lack (a MediaBox
that does not start at 0,0, a Form XObject, a Bézier curve, a standard font)."""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
import pytest

from pipeline.read.pdf_objects import page_objects, use_fast_objects
from tests.read.turned import turned_pdf

TESTS = Path(__file__).parents[1]
SAMPLES = sorted(p for p in (TESTS / "golden").rglob("*.pdf") if p.parent.name != "unreadable")


def _hand_made_pdf() -> bytes:
    """One page, MediaBox [10 20 622 812]: text in Helvetica, a ruled box, a curve, and a Form
    XObject holding more text and a line."""
    content = (
        b"BT /F1 12 Tf 60 700 Td (Name of project: Lunch club) Tj ET\n"
        b"0.5 w 50 650 200 30 re S\n"
        b"100 600 m 120 640 160 640 180 600 c S\n"
        b"q 1 0 0 1 40 -100 cm /X1 Do Q\n"
    )
    form = b"BT /F1 10 Tf 70 500 Td (Inside a figure) Tj ET\n70 490 m 300 490 l S\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [10 20 622 812] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /X1 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Length %d >>\nstream\n" % len(form) + form + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _assert_same_objects(data: bytes) -> None:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            assert page_objects(page) == page.parse_objects()


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_objects_equal_pdfplumbers_for_every_sample(path):
    _assert_same_objects(path.read_bytes())


@pytest.mark.parametrize("degrees", [90, 270])
def test_objects_equal_pdfplumbers_on_turned_pages(degrees):
    for path in (
        TESTS / "golden" / "voucher" / "pdf_table_total_row.pdf",
        TESTS / "golden" / "evaluation" / "pdf_ticks_legacy.pdf",
    ):
        _assert_same_objects(turned_pdf(path.read_bytes(), degrees))


def test_objects_equal_pdfplumbers_with_an_offset_mediabox_a_figure_and_a_curve():
    data = _hand_made_pdf()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        kinds = {kind for kind, objs in pdf.pages[0].parse_objects().items() if objs}
        assert {"char", "rect", "curve", "line"} <= kinds  # the page has what it is meant to test
    _assert_same_objects(data)


def test_a_page_reads_its_words_from_the_fast_objects():
    with pdfplumber.open(io.BytesIO(_hand_made_pdf())) as pdf:
        page = use_fast_objects(pdf.pages[0])
        words = " ".join(w["text"] for w in page.extract_words())
    assert words == "Name of project: Lunch club Inside a figure"
