"""A Word tick box is read as a person sees it: where a checkbox content control's glyph and its
recorded state (w14:checked) disagree, the glyph gives the answer and the Cell notes the box."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.document import TICKED, UNTICKED
from pipeline.read.docx import read_docx
from pipeline.read.ticks import normalise_glyphs
from tests.fixtures.wordml import WordDoc, run

DATA = Path(__file__).parent / "data"


def checkbox(recorded: bool, shown: str, font: str = "MS Gothic", states: tuple[str, str] = ("2612", "2610")) -> str:
    """A checkbox content control as Word writes it, its glyph run (`shown`, raw XML or a
    character) set apart from its recorded state, as copy-pastes and some editors leave it."""
    glyph = shown if shown.startswith("<") else run(shown, font=font)
    return (
        '<w:sdt><w:sdtPr><w:id w:val="-1"/><w14:checkbox>'
        f'<w14:checked w14:val="{int(recorded)}"/>'
        f'<w14:checkedState w14:val="{states[0]}" w14:font="{font}"/>'
        f'<w14:uncheckedState w14:val="{states[1]}" w14:font="{font}"/></w14:checkbox></w:sdtPr>'
        f"<w:sdtContent>{glyph}</w:sdtContent></w:sdt>"
    )


def _read(doc: WordDoc, tmp_path: Path):
    path = tmp_path / "t.docx"
    doc.save(path)
    return read_docx(path.read_bytes())


@pytest.mark.parametrize(
    "recorded, shown, read_as, disputed",
    [
        (False, TICKED, TICKED, (0,)),  # shows a tick, recorded unticked: ticked, with a note
        (True, UNTICKED, UNTICKED, (0,)),  # shows an empty box, recorded ticked: not ticked, with a note
        (True, TICKED, TICKED, ()),  # both say ticked
        (False, UNTICKED, UNTICKED, ()),  # both say empty
    ],
)
def test_a_checkbox_is_read_as_its_glyph_shows_and_a_disagreement_is_noted(
    recorded, shown, read_as, disputed, tmp_path
):
    doc = _read(WordDoc().p(checkbox(recorded, shown), run(" Agree")), tmp_path)
    assert doc.lines[0].text == f"{read_as} Agree"
    assert doc.lines[0].cells[0].disputed_ticks == disputed


def test_a_checkbox_with_no_glyph_is_read_from_its_recorded_state(tmp_path):
    doc = _read(WordDoc().p(checkbox(True, "<w:r/>"), run(" Agree")), tmp_path)
    assert doc.lines[0].text == f"{TICKED} Agree"
    assert doc.lines[0].cells[0].disputed_ticks == ()


@pytest.mark.parametrize(
    "glyph, states",
    [
        ('<w:r><w:sym w:font="Wingdings" w:char="F0FE"/></w:r>', ("00FE", "00A8")),  # Word's w:sym
        (
            '<w:r><w:rPr><w:rFonts w:ascii="Wingdings" w:hAnsi="Wingdings"/></w:rPr><w:t>\uf0fe</w:t></w:r>',
            ("00FE", "00A8"),
        ),
        ('<w:r><w:sym w:font="Wingdings 2" w:char="F053"/></w:r>', ("0053", "00A3")),
        ('<w:r><w:sym w:font="Wingdings" w:char="F078"/></w:r>', ("0078", "00A8")),  # ⌧, an X in a box
        ('<w:r><w:sym w:font="Segoe UI Symbol" w:char="2611"/></w:r>', ("2611", "2610")),
        (run("✔", font="Segoe UI Symbol"), ("2714", "2610")),
    ],
)
def test_a_symbol_font_tick_in_a_checkbox_is_read_as_what_it_shows(glyph, states, tmp_path):
    font = "Wingdings 2" if "Wingdings 2" in glyph else "Wingdings"
    doc = _read(WordDoc().p(checkbox(False, glyph, font, states), run(" Agree")), tmp_path)
    assert doc.lines[0].text == f"{TICKED} Agree"
    assert doc.lines[0].cells[0].disputed_ticks == (0,)


def test_the_checked_symbol_a_checkbox_declares_is_a_tick_whatever_the_character(tmp_path):
    """Word lets the checked symbol be any character: a checkbox drawing 'Y' when ticked."""
    doc = _read(WordDoc().p(checkbox(False, "Y", "Calibri", ("0059", "004E")), run(" Agree")), tmp_path)
    assert doc.lines[0].text == f"{TICKED} Agree"
    assert doc.lines[0].cells[0].disputed_ticks == (0,)


def test_the_disputed_box_is_counted_among_the_boxes_of_its_line_and_cell(tmp_path):
    several = run("Yes ") + checkbox(False, UNTICKED) + run(" No ") + checkbox(False, TICKED)
    split = checkbox(True, TICKED) + run(" Man") + "<w:r><w:br/></w:r>" + checkbox(True, UNTICKED) + run(" Woman")
    doc = _read(WordDoc().p(several).p(split).table([["Gender", split]]), tmp_path)
    assert [(line.text, line.cells[-1].disputed_ticks) for line in doc.lines] == [
        (f"Yes {UNTICKED} No {TICKED}", (1,)),
        (f"{TICKED} Man", ()),  # a line break makes a line of its own: the count starts again
        (f"{UNTICKED} Woman", (0,)),
        (f"Gender {TICKED} Man\n{UNTICKED} Woman", (1,)),  # a cell keeps its lines: counted across them
    ]


def test_libreoffice_writes_a_checkbox_whose_glyph_and_state_disagree_and_it_is_read_as_shown():
    """LibreOffice Writer's own checkbox content controls (tests/read/data/ticks_libreoffice.fodt),
    saved as .docx by LibreOffice: the w14:checkbox it writes keeps the glyph apart from the state."""
    doc = read_docx((DATA / "ticks_libreoffice.docx").read_bytes())
    read = [(line.text, [c.disputed_ticks for c in line.cells]) for line in doc.lines if line.text]
    assert read == [
        ("Shows ticked, recorded unticked:", [()]),
        (f"{TICKED} Agree", [(0,)]),
        ("Shows empty, recorded ticked:", [()]),
        (f"{UNTICKED} Disagree", [(0,)]),
        ("Both agree:", [()]),
        (f"{TICKED} Yes {UNTICKED} No", [()]),
        (f"{UNTICKED} Woman {UNTICKED} Man {TICKED} Non-binary", [(), (1,)]),
    ]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_the_libreoffice_fixture_is_what_libreoffice_makes_of_its_source(tmp_path):
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "docx"]
        + ["--outdir", str(tmp_path), str(DATA / "ticks_libreoffice.fodt")],
        check=True,
        capture_output=True,
        timeout=180,
    )
    made = read_docx((tmp_path / "ticks_libreoffice.docx").read_bytes())
    kept = read_docx((DATA / "ticks_libreoffice.docx").read_bytes())
    assert made.lines == kept.lines


@pytest.mark.parametrize("ticked", ["☒", "☑", "⌧", "🗹", "🗷", "✓", "✔", "✗", "✘", "✅", "⮽"])
def test_tick_glyphs_typed_or_pasted_read_as_ticked(ticked):
    assert normalise_glyphs(f"{ticked} Yes") == f"{TICKED} Yes"


@pytest.mark.parametrize("empty", ["☐", "□", "▢", "◻", "⬜", "❏", "❑"])
def test_empty_box_glyphs_read_as_unticked(empty):
    assert normalise_glyphs(f"{empty} Yes") == f"{UNTICKED} Yes"
