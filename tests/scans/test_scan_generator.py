"""The scan generator (tests/fixtures/scans): its truth says what was printed and drawn, and it is
deterministic. No OCR here: the reader's figures are in `make bench` (bench/scans.py)."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pdfplumber
import pytest

from tests.fixtures.scans import values
from tests.fixtures.scans.build import GOLDEN, GOLDEN_SCANS, ScanSpec, build
from tests.fixtures.scans.documents import print_to_pdf, templates, write_docx
from tests.fixtures.scans.formats import SUFFIX

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) prints the forms")
SMALL = [
    ScanSpec("voucher", "voucher", 11, 150, "png", "L", plan={"lines": 8}),
    ScanSpec("ticks", "evaluation", 12, 100, "tiff", "L", steps=(("skew", 1.0),), plan={"faint": 1, "ambiguous": 1}),
    ScanSpec("pdf", "planning", 13, 100, "pdf", "L", 70, (("noise", 3),)),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scans")
    build(SMALL, out)
    return out


def _truth(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".truth.json").read_text())


@needs_soffice
def test_drawn_ticks_are_inside_the_printed_boxes(built):
    truth = _truth(built / "evaluation" / "ticks.tif")
    drawn = [t for t in truth["marks"]["ticks"] if t["style"] in ("check", "cross", "blob") and not t["faint"]]
    assert drawn
    for t in drawn:
        left, top, right, bottom = t["square"]
        il, it, ir, ib = t["ink"]
        centre = ((il + ir) / 2, (it + ib) / 2)
        size = right - left
        assert left - size / 2 <= centre[0] <= right + size / 2 and top - size / 2 <= centre[1] <= bottom + size / 2, t


@needs_soffice
def test_the_truth_holds_the_hand_marks(built):
    truth = _truth(built / "evaluation" / "ticks.tif")
    (ambiguous,) = truth["marks"]["ambiguous"]
    principle, _, n = ambiguous.rpartition("_")
    assert truth["values"]["statements"][f"{principle}.{n}"]["answer"] is None
    assert {"code": "ambiguous_answer", "field": f"{principle}.{n}"} in truth["problems"]
    for t in truth["marks"]["ticks"]:
        if t["question"] != ambiguous and t["question"] != "themes":
            p, _, i = t["question"].rpartition("_")
            assert truth["values"]["statements"][f"{p}.{i}"]["answer"] == t["option"]
    voucher = _truth(built / "voucher" / "voucher.png")
    signed = {s["line_no"]: s["signed"] for s in voucher["marks"]["signatures"]}
    assert {line["line_no"]: line["signed"] for line in voucher["values"]["lines"]} == signed
    for s in voucher["marks"]["signatures"]:
        assert (s["ink"] is None) == (s["style"] == "none")


@needs_soffice
def test_the_printed_sheet_holds_the_typed_values(tmp_path):
    """What LibreOffice printed (before any degradation) is what was typed: each table cell's text."""
    plan = values.voucher(random.Random(5), 7)
    docx = write_docx(plan, templates(tmp_path / "templates"), tmp_path / "sheet.docx", truth=False)
    (pdf,) = print_to_pdf([docx], tmp_path / "pdf")
    with pdfplumber.open(pdf) as document:
        table = next(t for t in document.pages[0].extract_tables() if len(t[0]) == 6)
    squeeze = lambda text: "".join((text or "").split())  # noqa: E731 - a cell's text wraps inside its column
    for row, typed in zip(table[1:], plan.answers["lines"], strict=False):
        assert [squeeze(c) for c in row[:5]] == [squeeze(v) for v in typed]
        assert squeeze(row[5]) == ""  # the signature is drawn by hand, not printed


@needs_soffice
def test_the_build_is_deterministic_for_a_seed(built, tmp_path):
    build(SMALL, tmp_path)
    for spec in SMALL:
        name = f"{spec.form_type}/{spec.file_name}"
        assert (tmp_path / name).read_bytes() == (built / name).read_bytes(), name
        assert _truth(tmp_path / name) == _truth(built / name)


def test_the_golden_scans_cover_every_form_format_and_degradation():
    files = sorted(p for p in GOLDEN_SCANS.rglob("*") if p.is_file() and not p.name.endswith(".truth.json"))
    assert {f"{s.form_type}/{s.file_name}" for s in GOLDEN} == {str(p.relative_to(GOLDEN_SCANS)) for p in files}
    truths = [_truth(p) for p in files]
    assert all(t["form_type"] == p.parent.name for t, p in zip(truths, files, strict=True))
    assert {p.parent.name for p in files} == {"voucher", "evaluation", "monitoring", "planning"}
    assert sum(p.parent.name == "voucher" for p in files) >= len(files) / 2
    assert {t["scan"]["format"] for t in truths} == set(SUFFIX)
    steps = {d["step"] for t in truths for d in t["scan"]["degradations"]}
    assert {"paper", "light", "skew", "turn", "noise", "blur", "fax", "photo", "page_order"} <= steps
    assert {2, 1} <= {d["quarter_turns"] for t in truths for d in t["scan"]["degradations"] if d["step"] == "turn"}
    styles = {m["style"] for t in truths for m in t["marks"]["ticks"] + t["marks"]["signatures"]}
    assert {"check", "cross", "blob", "overflow", "circle", "printed", "scribble", "initials", "word", "none"} <= styles
    assert any(t["marks"]["ambiguous"] for t in truths) and any(t["marks"]["faint"] for t in truths)
    assert sum(p.stat().st_size for p in files) <= 15 * 1024**2
