"""Forms saved by LibreOffice read the same as the originals (run live, not only from fixtures)."""

from __future__ import annotations

import shutil

import pytest

from pipeline.runtime.parse import parse_file
from tests.fixtures import forms_data as fd
from tests.fixtures.build_golden import (
    evaluation_docx,
    libreoffice_resave,
    voucher_xlsx,
)

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


@pytest.mark.parametrize("encoding", ["wingdings2", "legacy", "segoe"])
def test_word_form_resaved_by_libreoffice_reads_the_same(encoding, tmp_path, ctx):
    original = tmp_path / "form.docx"
    evaluation_docx(fd.evaluation(2), original, encoding)
    resaved = tmp_path / "resaved.docx"
    libreoffice_resave(original, resaved, "docx:MS Word 2007 XML")
    assert resaved.read_bytes() != original.read_bytes()
    before, after = parse_file(original.read_bytes(), ctx), parse_file(resaved.read_bytes(), ctx)
    assert after.form.model_dump() == before.form.model_dump() and after.problems == before.problems == []


def test_excel_sheet_resaved_by_libreoffice_gains_a_checkable_total(tmp_path, ctx):
    original = tmp_path / "vouchers.xlsx"
    voucher_xlsx(fd.voucher(), original, all_numeric=True)
    resaved = tmp_path / "resaved.xlsx"
    libreoffice_resave(original, resaved, "xlsx:Calc MS Excel 2007 XML")
    before, after = parse_file(original.read_bytes(), ctx), parse_file(resaved.read_bytes(), ctx)
    assert before.form.total is None  # openpyxl saved the SUM without its value
    assert str(after.form.total) == "70.50" and after.form.lines == before.form.lines
