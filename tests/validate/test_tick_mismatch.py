"""A Word tick box whose glyph and recorded state disagree gives the glyph's answer, and a warning
(tick_mismatch) that names the question and the option (issue 19, item 6)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest

from pipeline.problems import ProblemCode, Severity
from pipeline.runtime.parse import parse_file
from pipeline.validate.form import Context
from tests.fixtures import forms_data as fd
from tests.fixtures.build_golden import evaluation_docx, monitoring_docx

CTX = Context(today=dt.date(2025, 7, 1))
# one checkbox content control as tests.fixtures.wordml writes it: its recorded state, then its glyph
_BOX = re.compile(r'(<w14:checked w14:val=")\d("/>(?:(?!</w:sdt>).)*</w:sdt>)')


def _with_document_xml(data: bytes, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            part = src.read(item)
            if item.filename == "word/document.xml":
                part = change(part.decode()).encode()
            dst.writestr(item, part)
    return out.getvalue()


def _record_box_before(label: str, recorded: int):
    """Set the recorded state of the box just before `label`, leaving the glyph it shows."""

    def change(xml: str) -> str:
        label_run = re.escape(f'<w:r><w:t xml:space="preserve"> {label}</w:t></w:r>')
        xml, n = re.subn(_BOX.pattern + f"({label_run})", rf"\g<1>{recorded}\g<2>\g<3>", xml, count=1)
        assert n == 1, label
        return xml

    return change


def _record_first_ticked_box_as_unticked(xml: str) -> str:
    return xml.replace('<w14:checked w14:val="1"/>', '<w14:checked w14:val="0"/>', 1)


def _monitoring(tmp_path: Path, change=None) -> bytes:
    path = tmp_path / "monitoring.docx"
    monitoring_docx(fd.monitoring(gender=["Woman"]), path, encoding="sdt")
    data = path.read_bytes()
    return _with_document_xml(data, change) if change else data


def _mismatches(parsed):
    return [p for p in parsed.problems if p.code == ProblemCode.TICK_MISMATCH]


def test_a_box_showing_a_tick_that_word_records_as_unticked_is_an_answer_with_a_warning(tmp_path):
    parsed = parse_file(_monitoring(tmp_path, _record_box_before("Woman", 0)), CTX)
    assert parsed.form.gender == "Woman"
    [warning] = _mismatches(parsed)
    assert warning.severity == Severity.WARNING
    assert warning.field == "gender" and warning.value == "Woman"
    assert warning.message == (
        "Gender: the box for 'Woman' shows a tick, but Word records it as not ticked; it was read as ticked, "
        "as it looks on the page."
    )
    assert warning.location  # the paragraph of that box


def test_a_box_showing_empty_that_word_records_as_ticked_is_no_answer_with_a_warning(tmp_path):
    parsed = parse_file(_monitoring(tmp_path, _record_box_before("Man", 1)), CTX)
    assert parsed.form.gender == "Woman"
    [warning] = _mismatches(parsed)
    assert warning.field == "gender" and warning.value == "Man"
    assert "'Man' shows an empty box, but Word records it as ticked; it was read as not ticked" in warning.message


def test_boxes_whose_glyph_and_state_agree_give_no_warning(tmp_path):
    parsed = parse_file(_monitoring(tmp_path), CTX)
    assert parsed.form.gender == "Woman"
    assert _mismatches(parsed) == []


@pytest.mark.parametrize("layout", ["vertical", "inline", "grid"])
def test_a_likert_statement_s_disputed_box_is_named_by_its_statement_and_option(layout, tmp_path):
    path = tmp_path / "evaluation.docx"
    data = fd.evaluation()
    evaluation_docx(data, path, encoding="sdt", layout=layout)
    parsed = parse_file(_with_document_xml(path.read_bytes(), _record_first_ticked_box_as_unticked), CTX)
    answer = data["scores"]["relationships.1"][0]  # the first box ticked on the form
    assert parsed.form.statements["relationships.1"].answer is not None
    [warning] = _mismatches(parsed)
    assert warning.field == "relationships.1" and warning.value == answer
    assert "statement 1" in warning.message and f"the box for '{answer}' shows a tick" in warning.message
