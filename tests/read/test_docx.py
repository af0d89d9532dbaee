"""The docx reader: every tick encoding of FORMS.md, and the Word features python-docx's
paragraph.text would lose."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.document import TICKED, UNTICKED
from pipeline.read.docx import read_docx
from tests.fixtures.wordml import ENCODINGS, WordDoc, image_run, run, tick


def _read(doc: WordDoc, tmp_path: Path):
    path = tmp_path / "t.docx"
    doc.save(path)
    return read_docx(path.read_bytes())


@pytest.mark.parametrize("encoding", [e for e in ENCODINGS if e != "typed_x"])
def test_each_tick_encoding_becomes_the_canonical_glyph(encoding, tmp_path):
    doc = _read(WordDoc().p(tick(True, encoding), run(" Agree")).p(tick(False, encoding), run(" Disagree")), tmp_path)
    assert [line.text for line in doc.lines] == [f"{TICKED} Agree", f"{UNTICKED} Disagree"]


@pytest.mark.parametrize(
    "box, expected",
    [
        ('<w:checkBox><w:default w:val="1"/></w:checkBox>', TICKED),  # default only: ticked
        ('<w:checkBox><w:default w:val="1"/><w:checked w:val="0"/></w:checkBox>', UNTICKED),  # checked wins
        ('<w:checkBox><w:default w:val="0"/><w:checked/></w:checkBox>', TICKED),  # no w:val means true
        ('<w:checkBox><w:default w:val="0"/></w:checkBox>', UNTICKED),
    ],
)
def test_legacy_form_field_checkbox(box, expected, tmp_path):
    field = (
        f'<w:r><w:fldChar w:fldCharType="begin"><w:ffData>{box}</w:ffData></w:fldChar></w:r>'
        '<w:r><w:instrText> FORMCHECKBOX </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    doc = _read(WordDoc().p(field, run(" Agree")), tmp_path)
    assert doc.lines[0].text == f"{expected} Agree"


def test_private_use_symbol_characters_from_a_libreoffice_round_trip(tmp_path):
    doc = _read(
        WordDoc().p(run("\uf0fe", font="Wingdings"), run(" Yes")).p(run("\uf0a8", font="Wingdings"), run(" No")),
        tmp_path,
    )
    assert [line.text for line in doc.lines] == [f"{TICKED} Yes", f"{UNTICKED} No"]


def test_tracked_changes_content_controls_and_fields_keep_their_text(tmp_path):
    p = (
        '<w:ins w:id="1" w:author="A"><w:r><w:t>Sunshine</w:t></w:r></w:ins>'
        '<w:del w:id="2" w:author="A"><w:r><w:delText>Rain</w:delText></w:r></w:del>'
        '<w:sdt><w:sdtPr><w:alias w:val="Project"/></w:sdtPr><w:sdtContent><w:r><w:t> Café</w:t></w:r></w:sdtContent></w:sdt>'  # noqa: E501
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> DATE </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t> 03/04/2025</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    doc = _read(WordDoc().p(p), tmp_path)
    assert doc.lines[0].text == "Sunshine Café 03/04/2025"


def test_text_box_is_read_once_not_twice(tmp_path):
    box = (
        '<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>In a box</w:t>'
        "</w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r>"
        "<w:t>In a box</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    doc = _read(WordDoc().p(run("Before"), box), tmp_path)
    assert [line.text for line in doc.lines].count("In a box") == 1


def test_table_cells_carry_columns_merges_and_pictures(tmp_path):
    doc = _read(
        WordDoc().table([["Name", "Signed by recipient"], ["Grace", image_run()], ["Wide", "x"]], spans={(2, 0): 2}),
        tmp_path,
    )
    header, signed, wide = doc.lines
    assert [c.col for c in header.cells] == [0, 1]
    assert signed.cells[1].has_image and signed.cells[1].text == ""
    assert str(signed.cells[0].location) == "table 1, row 2, column 1"
    assert [c.col for c in wide.cells] == [0, 2]  # the merged cell spans columns 1-2


def test_a_macro_enabled_document_is_read_and_its_macros_are_not_run(tmp_path):
    import io
    import zipfile

    path = tmp_path / "t.docx"
    WordDoc().p("Project Name: Sunshine").save(path)
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "[Content_Types].xml":  # as Word saves a .docm
                data = data.replace(b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml")
            dst.writestr(item, data)
        dst.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 never executed")
    assert read_docx(out.getvalue()).lines[0].text == "Project Name: Sunshine"
