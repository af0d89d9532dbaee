from __future__ import annotations

import io
import zipfile

import pytest

from pipeline.problems import ProblemCode
from pipeline.read import UnreadableFile, read_document
from pipeline.read.sniff import OLE_SIGNATURE, Format, sniff
from tests.conftest import GOLDEN

DOCX = (GOLDEN / "planning" / "toolkit_layout.docx").read_bytes()
XLSX = (GOLDEN / "planning" / "sheet.xlsx").read_bytes()


def test_format_comes_from_bytes_not_the_name():
    assert sniff(DOCX) is Format.DOCX
    assert sniff(XLSX) is Format.XLSX
    assert sniff(b"%PDF-1.7\n...") is Format.PDF
    assert sniff(OLE_SIGNATURE + b"\0" * 100) is Format.OLE
    assert sniff(b"name,date\nA,1\n") is Format.UNKNOWN
    assert sniff(b"") is Format.EMPTY


@pytest.mark.parametrize(
    "data, code",
    [
        (b"", ProblemCode.CORRUPT_FILE),
        (b"name,date,amount\nGrace,06/05/2025,20\n", ProblemCode.UNSUPPORTED_FORMAT),  # a CSV, whatever its name
        (DOCX[: len(DOCX) // 2], ProblemCode.CORRUPT_FILE),  # truncated in transit
        (OLE_SIGNATURE + b"\0" * 512, ProblemCode.CORRUPT_FILE),  # an OLE header with nothing behind it
        (b"%PDF-1.7\n%%EOF", ProblemCode.CORRUPT_FILE),  # a PDF with no pages
    ],
)
def test_unreadable_files_say_why(data, code):
    with pytest.raises(UnreadableFile) as err:
        read_document(data)
    assert err.value.code is code and err.value.message


def test_a_zip_that_is_no_office_file_is_corrupt():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(UnreadableFile) as err:
        read_document(buf.getvalue())
    assert err.value.code is ProblemCode.CORRUPT_FILE


def test_a_zip_bomb_is_refused_before_parsing():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"<" + b" " * (80 * 1024 * 1024) + b"/>")
    assert len(buf.getvalue()) < 1_000_000
    with pytest.raises(UnreadableFile) as err:
        read_document(buf.getvalue())
    assert err.value.code is ProblemCode.TOO_LARGE


def test_legacy_file_without_libreoffice_is_a_legacy_format_problem(monkeypatch):
    import pipeline.read.convert as convert

    monkeypatch.setattr(convert, "soffice", lambda: None)
    with pytest.raises(UnreadableFile) as err:
        read_document((GOLDEN / "planning" / "legacy_toolkit_layout.doc").read_bytes())
    assert err.value.code is ProblemCode.LEGACY_FORMAT and ".docx" in err.value.message
