"""What a file's name says it is (pipeline.read.names), and what a damaged Office file is called
when its name is not known."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.problems import ProblemCode
from pipeline.read import Format, UnreadableFile, read_document
from pipeline.read.names import named_kind

XLSX = Path(__file__).parents[1] / "golden" / "voucher" / "libreoffice_sheet_cached_total.xlsx"


@pytest.mark.parametrize(
    "name, named",
    [
        ("vouchers.xlsx", ("xlsx", "Excel workbook")),
        ("Vouchers June.XLSX", ("xlsx", "Excel workbook")),
        ("evaluation.v2.docm", ("docm", "Word document")),
        ("scan.JPG", ("jpg", "picture")),
        ("form.pdf.", ("pdf", "PDF document")),
        ("notes.txt", None),
        ("xlsx", None),
        ("", None),
    ],
)
def test_the_kind_of_file_a_name_promises(name, named):
    assert named_kind(name) == named


def test_an_office_file_cut_short_is_called_damaged_not_a_zip_archive():
    data = XLSX.read_bytes()
    with pytest.raises(UnreadableFile) as raised:
        read_document(data[: len(data) // 2])
    assert raised.value.code == ProblemCode.CORRUPT_FILE
    assert "damaged (perhaps cut short in sending)" in raised.value.message
    assert raised.value.found == Format.ZIP
