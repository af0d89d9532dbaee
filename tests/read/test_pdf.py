"""pipeline.read.pdf: the fields of a fillable form, read by pdfium, land where pdfplumber puts
the page's words (and its own annotations), on upright and turned pages alike."""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber
import pytest

from pipeline.document import TICKED, UNTICKED
from pipeline.read.pdf import _first_pass, _widgets, read_pdf
from tests.read.turned import turned_pdf

GOLDEN = Path(__file__).parents[1] / "golden"
FILLABLE = sorted(GOLDEN.glob("*/fillable_*.pdf"))


def _field_boxes_by_pdfplumber(page) -> list[tuple[float, float, float, float]]:
    boxes = []
    for annot in page.annots:
        data = annot["data"]
        if getattr(data.get("Subtype"), "name", None) == "Widget":
            boxes.append(tuple(round(annot[k], 2) for k in ("x0", "top", "x1", "bottom")))
    return boxes


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
@pytest.mark.parametrize("path", FILLABLE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fields_are_placed_as_pdfplumber_places_annotations(path, degrees):
    data = turned_pdf(path.read_bytes(), degrees)
    facts = _first_pass(data)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page, seen in zip(pdf.pages, facts, strict=True):
            ticks = [w for w in seen.widgets if w.ticked is not None]
            tokens = _widgets(ticks, page)
            expected = set(_field_boxes_by_pdfplumber(page))
            assert ticks and all(
                (round(t.x0, 2), round(t.top, 2), round(t.x1, 2), round(t.bottom, 2)) in expected for t in tokens
            )


@pytest.mark.parametrize("path", FILLABLE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_filled_form_has_ticked_and_unticked_boxes_and_typed_values(path):
    facts = _first_pass(path.read_bytes())
    widgets = [w for page in facts for w in page.widgets]
    assert {True, False} <= {w.ticked for w in widgets}
    assert any(w.ticked is None and w.text.strip() for w in widgets)
    doc = read_pdf(path.read_bytes())
    text = "\n".join(line.text for line in doc.lines)
    assert TICKED in text and UNTICKED in text and "fillable PDF: field values read" in doc.notes
