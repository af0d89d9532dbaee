"""Golden pairs: each filled form beside the JSON of what must be read from it.

The expected JSON is written by tests/fixtures/build_golden.py from the values the form was
filled in with, never from this code's output. One case per file, good and bad side by side.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.runtime.parse import parse_file
from tests.conftest import GOLDEN

CASES = sorted(p for p in GOLDEN.rglob("*") if p.is_file() and not p.name.endswith(".expected.json"))


def _expected(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".expected.json").read_text())


def test_every_golden_input_has_expected_json():
    assert CASES, "no golden fixtures found"
    missing = [p for p in CASES if not p.with_name(p.name + ".expected.json").exists()]
    assert missing == []


def test_golden_set_covers_every_form_in_every_format():
    kinds = {(p.parent.name, p.suffix) for p in CASES}
    for form in ("planning", "evaluation", "monitoring", "voucher"):
        assert {(form, ".docx"), (form, ".pdf")} <= kinds, form
    assert {("planning", ".xlsx"), ("evaluation", ".xlsx"), ("monitoring", ".xlsx"), ("voucher", ".xlsx")} <= kinds
    assert {".doc", ".xls", ".odt", ".ods", ".rtf"} <= {suffix for _, suffix in kinds}
    assert {"scanned_document", "encrypted", "corrupt_file", "unknown_form", "unsupported_format"} <= {
        _expected(p)["problems"][0]["code"] for p in CASES if p.parent.name == "unreadable"
    }


CONVERTED_BY_LIBREOFFICE = {".doc", ".xls", ".odt", ".ods", ".rtf"}


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_golden(path: Path, ctx):
    if path.suffix in CONVERTED_BY_LIBREOFFICE and shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) converts this format; it is not installed here")
    expected = _expected(path)
    parsed = parse_file(path.read_bytes(), ctx)
    assert parsed.form_type == expected["form_type"]
    got_values = parsed.form.model_dump(mode="json") if parsed.form is not None else None
    assert got_values == expected["values"]
    got_problems = sorted(
        ({"code": p.code.value, "field": p.field} for p in parsed.problems), key=lambda p: (p["code"], p["field"] or "")
    )
    assert got_problems == expected["problems"]
    for problem in parsed.problems:
        assert problem.message, f"{problem.code} has no message"
        if parsed.form is not None:  # a problem in a form says where; a file that cannot be read has no "where"
            assert problem.location, f"{problem.code} has no location"


def test_bundled_inbox_is_the_sample_set_when_untouched():
    """inbox/ in the repository holds exactly the samples build_samples makes (unless a run emptied it)."""
    from tests.conftest import ROOT
    from tests.fixtures.build_golden import SAMPLE_EMAIL, SAMPLES

    shipped = {p.name for p in (ROOT / "inbox").iterdir() if not p.name.startswith(".")}
    if shipped:
        assert shipped == set(SAMPLES.values()) | {"Meeting notes.docx", SAMPLE_EMAIL}
