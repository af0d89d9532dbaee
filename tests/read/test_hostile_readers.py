"""Readers on hostile and unusual files (issue 16): every walk linear, every read bounded, and
the right Problem code for each. The files are built in tests/read/crafted.py; the two
password-protected files in tests/read/data were saved by LibreOffice 7.4 (File > Save with a
password, through its UNO API)."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pytest

from pipeline.problems import ProblemCode
from pipeline.read import UnreadableFile, read_document
from pipeline.read.docx import MAX_CELL_CHARS as DOCX_CELL_CHARS
from pipeline.read.docx import MAX_ROWS as DOCX_ROWS
from pipeline.read.docx import read_docx
from pipeline.read.limits import deadline
from pipeline.read.xlsx import MAX_CELL_CHARS as XLSX_CELL_CHARS
from pipeline.read.xlsx import read_xlsx
from tests.conftest import GOLDEN
from tests.fixtures.wordml import WordDoc, run
from tests.read import crafted

DATA = Path(__file__).parent / "data"


@contextmanager
def within(seconds: float):
    """Fails the test, rather than hanging it, when the block runs longer than `seconds` (the
    deadline every file is read under in a worker, pipeline.read.limits)."""
    with deadline(seconds):
        yield


def _refused(reader, data: bytes) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as err:
        reader(data)
    assert err.value.message
    return err.value


# ---------------------------------------------------------------- docx


def test_nested_text_boxes_are_each_read_once():
    doc = read_docx(crafted.nested_text_boxes_docx(12))
    assert [line.text for line in doc.lines] == ["Top"] + [f"level {n}" for n in range(1, 13)]


def test_text_boxes_nested_40_deep_are_read_at_once():
    started = time.perf_counter()
    with within(5):
        doc = read_docx(crafted.nested_text_boxes_docx(40))
    assert len(doc.lines) == 41 and doc.lines[-1].text == "level 40"
    assert time.perf_counter() - started < 1


def test_a_text_box_in_a_table_cell_is_read_once():
    cell = run("Name:") + crafted.text_box("", "Grace Adeyemi")
    xml = WordDoc().table([[cell, "Date"]]).xml().replace("<w:document ", "<w:document " + crafted.VML, 1)
    doc = read_docx(crafted._docx(xml))
    assert doc.lines[0].cells[0].text == "Name:\nGrace Adeyemi"


def test_rows_after_a_nested_table_keep_their_own_numbers():
    nested = WordDoc().table([["a"], ["b"], ["c"]]).blocks[0]
    outer = WordDoc().table([["Name", "Grace"], ["Date", "06/05/2025"]]).blocks[0]
    outer = outer.replace(
        '<w:t xml:space="preserve">Grace</w:t></w:r></w:p>',
        '<w:t xml:space="preserve">Grace</w:t></w:r></w:p>' + nested,
        1,
    )
    doc = WordDoc()
    doc.blocks.append(outer)
    read = read_docx(crafted._docx(doc.xml()))
    assert [c.text for c in read.lines[0].cells] == ["Name", "Grace\na\nb\nc"]
    assert read.lines[1].cells[0].location.row == 2


def test_a_symbol_with_a_broken_character_code_is_skipped():
    doc = read_docx(
        crafted._docx(WordDoc().p('<w:r><w:sym w:font="Wingdings" w:char="ZZZZ"/></w:r>', run(" Agree")).xml())
    )
    assert doc.lines[0].text == "Agree"


def test_sixty_megabytes_of_tiny_table_cells_are_refused_at_once():
    data = crafted.tiny_cells_docx(60)
    started = time.perf_counter()
    with within(10):
        err = _refused(read_docx, data)
    assert err.code is ProblemCode.TOO_LARGE and "form" in err.message
    assert time.perf_counter() - started < 2


def test_more_table_rows_than_a_form_has_are_refused():
    rows = "".join(f"<w:tr><w:tc><w:p>{run(str(n))}</w:p></w:tc></w:tr>" for n in range(DOCX_ROWS + 1))
    head, tail = WordDoc().xml().split("<w:sectPr>", 1)
    err = _refused(read_docx, crafted._docx(head + "<w:tbl>" + rows + "</w:tbl><w:sectPr>" + tail))
    assert err.code is ProblemCode.TOO_LARGE and f"{DOCX_ROWS:,} table rows" in err.message


def test_a_huge_cell_is_cut_and_noted():
    doc = read_docx(crafted._docx(WordDoc().table([["Name", "x" * 30_000]]).xml()))
    assert len(doc.lines[0].cells[1].text) == DOCX_CELL_CHARS
    assert any("cut to" in note for note in doc.notes)


# ---------------------------------------------------------------- xlsx


def test_poi_shared_strings_bomb_is_refused_in_well_under_a_second_or_two():
    data = crafted.shared_strings_bomb_xlsx()
    started = time.perf_counter()
    with within(10):
        err = _refused(read_xlsx, data)
    assert err.code is ProblemCode.TOO_LARGE
    assert time.perf_counter() - started < 2


def test_a_long_cell_is_cut_and_noted():
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["B1"] = "Name", "y" * 25_000
    buffer = io.BytesIO()
    wb.save(buffer)
    doc = read_xlsx(buffer.getvalue())
    assert [len(c.text) for c in doc.lines[0].cells] == [4, XLSX_CELL_CHARS]
    assert any("cut to" in note for note in doc.notes)


def test_a_workbook_linking_another_workbook_is_read():
    doc = read_xlsx(crafted.external_link_xlsx())
    assert doc.lines[0].text == "Project Name: Riverside Garden"


def _very_compressible_xlsx() -> bytes:
    """A sheet whose part expands more than the zip-bomb ratio, as LibreOffice's output can
    (its sheets repeat the same markup over and over; here, 2 MB of the same blank)."""
    sheet = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>' + " " * 2_000_000
    data = crafted._xlsx(sheet, ["Project Name:", "Riverside Garden"])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
        assert info.file_size > 1_000_000 and info.file_size / info.compress_size > 200
    return data


def test_our_own_conversions_output_is_not_taken_for_a_zip_bomb(monkeypatch):
    import pipeline.read.convert as convert

    data = _very_compressible_xlsx()
    assert _refused(read_xlsx, data).code is ProblemCode.TOO_LARGE  # from a sender: refused
    monkeypatch.setattr(convert, "convert_with_libreoffice", lambda _data, _kind, _seconds=120: data)
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as zf:  # what is inside does not matter: the conversion is replaced
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    doc = read_document(ods.getvalue())
    assert doc.lines[0].text == "Project Name: Riverside Garden"
    assert doc.notes[-1] == "converted from .ods by LibreOffice"


# ---------------------------------------------------------------- formats


def test_an_excel_binary_workbook_is_unsupported_and_says_to_save_as_xlsx():
    err = _refused(read_document, crafted.xlsb())
    assert err.code is ProblemCode.UNSUPPORTED_FORMAT and ".xlsx" in err.message


@pytest.mark.parametrize(
    "original, rename",
    [
        ("planning/legacy_toolkit_layout.doc", ("WordDocument", "WORDDOCUMENT")),
        ("voucher/legacy_sheet.xls", ("Workbook", "WORKBOOK")),
        ("voucher/legacy_sheet.xls", ("Workbook", "BOOK")),
    ],
)
def test_ole_stream_names_are_case_insensitive(original, rename, monkeypatch):
    import pipeline.read.convert as convert

    data = crafted.renamed_stream((GOLDEN / original).read_bytes(), *rename)
    monkeypatch.setattr(convert, "soffice", lambda: None)  # recognised: it would be converted
    err = _refused(read_document, data)
    assert err.code is ProblemCode.LEGACY_FORMAT


@pytest.mark.parametrize("name", ["password_libreoffice.doc", "password_libreoffice.xls"])
def test_password_protected_doc_and_xls_are_encrypted(name, monkeypatch):
    import pipeline.read.convert as convert

    monkeypatch.setattr(convert, "convert_with_libreoffice", lambda *a: pytest.fail("sent to LibreOffice"))
    err = _refused(read_document, (DATA / name).read_bytes())
    assert err.code is ProblemCode.ENCRYPTED


# ---------------------------------------------------------------- pdf


def _read_pdf_in_a_child(data: bytes, tmp_path: Path) -> str:
    """read_pdf in a child process with 1.5 GB of address space, so that a reader that dies (as
    pdfium does on these files) fails this test instead of killing the test run. The reading
    itself is in-process there, as in a parsing worker."""
    source = tmp_path / "hostile.pdf"
    source.write_bytes(data)
    code = (
        "import resource, sys, logging\n"
        "logging.disable(logging.WARNING)\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))\n"
        "from pipeline.read.pdf import read_pdf\n"
        "from pipeline.read.errors import UnreadableFile\n"
        "import time\n"
        f"data = open({str(source)!r}, 'rb').read()\n"
        "started = time.perf_counter()\n"
        "try:\n"
        "    doc = read_pdf(data)\n"
        "    print('read', len(doc.lines))\n"
        "except UnreadableFile as exc:\n"
        "    print(exc.code.value)\n"
        "print(time.perf_counter() - started)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.returncode == 0, f"the reader died ({proc.returncode}): {proc.stderr[-500:]}"
    outcome, seconds = proc.stdout.split("\n")[:2]
    assert float(seconds) < 1, "the reader took its time"
    return outcome


@pytest.mark.parametrize(
    "data",
    [crafted.self_drawing_xobject_pdf(2), crafted.fan_out_xobjects_pdf()],
    ids=["form_drawing_itself_twice", "forms_fanning_out"],
)
def test_recursive_form_xobjects_are_corrupt_not_fatal(data, tmp_path):
    assert _read_pdf_in_a_child(data, tmp_path) == "corrupt_file"


def test_pages_counted_differently_are_read_as_far_as_both_agree():
    from pipeline.read.pdf import read_pdf

    doc = read_pdf(crafted.page_counted_twice_pdf())
    assert doc.lines[0].text == "Project Name: Counted pages differently"
    assert any("pdfium counts 2 pages, pdfminer 1" in note for note in doc.notes)
