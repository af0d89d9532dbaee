"""The same filled form, whatever format it arrives in, gives identical warehouse rows."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from pipeline.history.decide import decide_and_record
from pipeline.records import Provenance
from pipeline.runtime.parse import parse_file
from pipeline.store.warehouse import Warehouse
from pipeline.validate.form import Context
from tests.conftest import GOLDEN, TODAY

SAME_FORM = {
    "planning": [
        "toolkit_layout.docx",
        "table_layout.docx",
        "sheet.xlsx",
        "pdf_toolkit_layout.pdf",
        "pdf_table_layout.pdf",
        "libreoffice_toolkit_layout.docx",
        "legacy_toolkit_layout.doc",
    ],
    "evaluation": ["ticks_glyph.docx", "pdf_ticks_glyph.pdf", "opendocument_ticks_glyph.odt"],
    "monitoring": [
        "vertical_glyph.docx",
        "pdf_vertical_glyph.pdf",
        "libreoffice_vertical_glyph.docx",
        "rich_text_vertical_glyph.rtf",
    ],
    "voucher": [
        "table_total_row.docx",
        "total_paragraph.docx",
        "libreoffice_sheet_cached_total.xlsx",
        "pdf_table_total_row.pdf",
        "pdf_of_excel_sheet.pdf",
        "legacy_sheet.xls",
        "opendocument_sheet.ods",
    ],
}
VIEWS = {
    "planning": ["planning", "planning_leads"],
    "evaluation": ["evaluation", "evaluation_scores", "evaluation_feedback", "evaluation_themes"],
    "monitoring": ["monitoring", "monitoring_circumstances"],
    "voucher": ["voucher_lines"],
}


def _rows(tmp_path, form_type: str, name: str) -> dict[str, list[tuple]]:
    path = GOLDEN / form_type / name
    if path.suffix in {".doc", ".xls", ".odt", ".ods", ".rtf"} and shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) converts this format; it is not installed here")
    data = path.read_bytes()
    with Warehouse(tmp_path / f"{name}.duckdb") as wh:
        recorded = decide_and_record(
            wh, Provenance(name), hashlib.sha256(data).hexdigest(), parse_file(data, Context(today=TODAY))
        )
        assert recorded.status == "loaded", name
        contents = wh.view_contents(leave_out=("submission_id",))
        return {view: contents[view] for view in VIEWS[form_type]}


@pytest.mark.parametrize(
    "form_type, name",
    [(f, n) for f, names in SAME_FORM.items() for n in names[1:]],
    ids=[f"{f}/{n}" for f, names in SAME_FORM.items() for n in names[1:]],
)
def test_same_rows_as_the_word_original(form_type, name, tmp_path):
    reference = _rows(tmp_path, form_type, SAME_FORM[form_type][0])
    assert any(reference.values())
    assert _rows(tmp_path, form_type, name) == reference
