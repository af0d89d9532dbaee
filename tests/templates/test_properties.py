"""Every template carries the project's document properties: the form's name as its title, the
council's co-production team as author and company, and no library's generator string."""

from __future__ import annotations

import zipfile

import docx
import openpyxl
import pdfplumber
import pytest

from pipeline.forms.spec import all_specs
from pipeline.templates import EXCEL_FORMS, FILE_NAMES
from pipeline.templates.properties import AUTHOR, COMPANY

GENERATORS = ("python-docx", "openpyxl", "reportlab")
CASES = [(f, s) for f in FILE_NAMES for s in ("docx", "xlsx", "pdf") if s != "xlsx" or f in EXCEL_FORMS]


def _office_properties(path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode() for n in ("docProps/core.xml", "docProps/app.xml"))


@pytest.mark.parametrize(("form_type", "suffix"), CASES, ids=[f"{f}-{s}" for f, s in CASES])
def test_a_template_carries_the_forms_title_and_the_team_as_author(blank_templates, form_type, suffix):
    path = blank_templates / f"{FILE_NAMES[form_type]}.{suffix}"
    title = all_specs()[form_type].title
    if suffix == "docx":
        core = docx.Document(str(path)).core_properties
        assert (core.title, core.author) == (title, AUTHOR)
        raw = _office_properties(path)
    elif suffix == "xlsx":
        props = openpyxl.load_workbook(path).properties
        assert (props.title, props.creator) == (title, AUTHOR)
        raw = _office_properties(path)
    else:
        with pdfplumber.open(path) as pdf:
            meta = pdf.metadata
        assert meta["Title"] == title and AUTHOR in meta["Author"]
        raw = " ".join(str(v) for v in meta.values())
    assert COMPANY in raw
    assert not [g for g in GENERATORS if g in raw.lower()]
