"""A file whose name says one format while its bytes are no readable file of it (random bytes, or a
real workbook cut short or garbled in sending) is told so in plain words: named .xlsx but not a
readable Excel workbook, open it to check it opens, send it again (issue 19, item 8)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipeline.problems import ProblemCode
from pipeline.runtime.parse import explain_by_name, file_problem, parse_file, parse_safely

GOLDEN = Path(__file__).parents[1] / "golden" / "voucher"
# real files made by LibreOffice and Excel's PDF export
XLSX = GOLDEN / "libreoffice_sheet_cached_total.xlsx"
DOCX = GOLDEN / "libreoffice_table_total_row.docx"
PDF = GOLDEN / "pdf_of_excel_sheet.pdf"


def random_bytes() -> bytes:
    return random.Random(19).randbytes(20_000)


def cut_short(path: Path) -> bytes:
    data = path.read_bytes()
    return data[: len(data) // 2]


def garbled(path: Path) -> bytes:
    """200 bytes flipped a third of the way in, as a bad transfer leaves a file."""
    data = bytearray(path.read_bytes())
    start = len(data) // 3
    data[start : start + 200] = bytes(b ^ 0x55 for b in data[start : start + 200])
    return bytes(data)


UNSUPPORTED, CORRUPT = ProblemCode.UNSUPPORTED_FORMAT, ProblemCode.CORRUPT_FILE


@pytest.mark.parametrize(
    "make, name, code, kind",
    [
        (random_bytes, "vouchers.xlsx", UNSUPPORTED, ".xlsx but is not a readable Excel workbook"),
        (lambda: cut_short(XLSX), "vouchers.xlsx", CORRUPT, ".xlsx but is not a readable Excel workbook"),
        (lambda: garbled(XLSX), "Vouchers June.XLSX", CORRUPT, ".xlsx but is not a readable Excel workbook"),
        (random_bytes, "evaluation.docx", UNSUPPORTED, ".docx but is not a readable Word document"),
        (lambda: cut_short(DOCX), "evaluation.docx", CORRUPT, ".docx but is not a readable Word document"),
        (lambda: garbled(DOCX), "evaluation.docx", CORRUPT, ".docx but is not a readable Word document"),
        (lambda: cut_short(PDF), "vouchers.pdf", CORRUPT, ".pdf but is not a readable PDF document"),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_told_so_in_plain_words(make, name, code, kind, ctx):
    parsed = explain_by_name(parse_safely(make(), ctx), name)
    [problem] = parsed.problems
    assert problem.code == code  # the reader's code, as without the name
    assert problem.message == (
        f"The file is named {kind}: it may have been damaged in sending, or it is not what its name says. "
        "Please open it on your computer to check that it opens, then send it again."
    )


def test_bytes_of_no_known_format_with_a_name_of_none_are_still_an_unsupported_format(ctx):
    parsed = explain_by_name(parse_file(random_bytes(), ctx), "notes.txt")
    assert [(p.code, p.message) for p in parsed.problems] == [
        (ProblemCode.UNSUPPORTED_FORMAT, "The file is not a Word, Excel or PDF document.")
    ]


def test_a_readable_file_under_another_format_s_name_is_read(ctx):
    parsed = explain_by_name(parse_file(XLSX.read_bytes(), ctx), "vouchers.docx")
    assert parsed.form_type == "voucher"


def test_a_file_that_took_too_long_or_broke_our_code_is_not_retold(ctx):
    slow = file_problem(ProblemCode.CORRUPT_FILE, "Reading the file took longer than 60 seconds; it may be damaged.")
    assert explain_by_name(slow, "vouchers.xlsx") is slow


def test_a_word_file_garbled_inside_a_compressed_part_is_damaged_not_an_internal_error(ctx):
    parsed = parse_safely(garbled(DOCX), ctx)
    assert [p.code for p in parsed.problems] == [ProblemCode.CORRUPT_FILE]
