"""pipeline.read.pdfium_tables: ruled tables are the tables pdfplumber's `find_tables` finds
(the same cells, rows and boxes), on every page of the sample PDFs, from pdfium's ruling lines
and from pdfminer's."""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
import pytest

from pipeline.read.pdfium_page import PdfiumPage, declared_descents
from pipeline.read.pdfium_tables import cells_of, find_tables

ROOT = Path(__file__).parents[1]
PDFS = sorted((ROOT / "golden").glob("*/*.pdf")) + sorted((ROOT / "corpus" / "public" / "pdfplumber").glob("*.pdf"))
PDFS = [p for p in PDFS if p.name not in ("password_protected.pdf", "password-example.pdf", "empty.pdf")]


def _tables(tables) -> list:
    return [(t.bbox, [(row.bbox, row.cells) for row in t.rows]) for t in tables]


@pytest.mark.parametrize("path", PDFS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_tables_are_pdfplumbers_tables(path):
    data = path.read_bytes()
    pdf = pdfium.PdfDocument(data)
    try:
        for n, page in enumerate(pdf, start=1):
            pdfium_page = PdfiumPage(page, n, declared_descents(data))
            ours = find_tables(pdfium_page)
            assert _tables(ours) == _tables(pdfium_page.find_tables())
    finally:
        pdf.close()
    with pdfplumber.open(io.BytesIO(data)) as plumber:
        for page in plumber.pages[:3]:
            assert _tables(find_tables(page)) == _tables(page.find_tables())


def test_a_grid_of_crossings_makes_its_cells():
    """Four crossings joined by two horizontal and two vertical lines are one cell; a crossing
    whose lines do not join another makes none."""
    top, bottom = {"x0": 0, "top": 0, "x1": 10, "bottom": 0}, {"x0": 0, "top": 5, "x1": 10, "bottom": 5}
    left, right = {"x0": 0, "top": 0, "x1": 0, "bottom": 5}, {"x0": 10, "top": 0, "x1": 10, "bottom": 5}
    crossings = {
        (0, 0): {"v": [left], "h": [top]},
        (10, 0): {"v": [right], "h": [top]},
        (0, 5): {"v": [left], "h": [bottom]},
        (10, 5): {"v": [right], "h": [bottom]},
        (20, 20): {"v": [], "h": []},
    }
    assert cells_of(crossings) == [(0, 0, 10, 5)]
