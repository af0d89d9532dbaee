"""The Excel templates printed by LibreOffice: the voucher sheet filled in is one page wide with
"Signed by recipient" on the first page and its table ruled (residents sign it, then it is
scanned), and the printed sheet reads back exactly; the monitoring sheet's labels never overprint."""

from __future__ import annotations

import pdfplumber

from pipeline.forms.spec import all_specs
from pipeline.runtime.parse import parse_file
from pipeline.templates import FILE_NAMES
from pipeline.templates.outline import outline
from tests.fixtures import forms_data as fd
from tests.fixtures.build_golden import expected_voucher
from tests.fixtures.fill_templates import answers_for, fill_xlsx
from tests.templates.conftest import needs_soffice, print_to_pdf


def _overlapping_words(page) -> list[tuple[str, str]]:
    words = page.extract_words()
    found = []
    for i, a in enumerate(words):
        for b in words[i + 1 :]:
            dx = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            dy = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            if dx > 1 and dy > 1:
                found.append((a["text"], b["text"]))
    return found


@needs_soffice
def test_the_filled_voucher_sheet_prints_one_page_wide_ruled_and_reads_back(blank_templates, tmp_path, ctx):
    v = fd.voucher()
    answers = answers_for("voucher", v)
    answers["lines"] = [(n, d, a, t, float(amount), sig) for n, d, _dt, a, t, _m, _at, amount, sig in v["lines"]]
    filled = tmp_path / "Vouchers.xlsx"
    fill_xlsx(blank_templates / f"{FILE_NAMES['voucher']}.xlsx", outline(all_specs()["voucher"]), answers, filled)
    (printed,) = print_to_pdf([filled], tmp_path / "printed")
    with pdfplumber.open(printed) as pdf:
        first = pdf.pages[0]
        assert first.width > first.height  # landscape
        text = first.extract_text()
        assert "Signed by recipient" in text and "Name" in text  # the whole table's width on page 1
        for page in pdf.pages:
            assert all(w["x1"] <= page.width for w in page.extract_words())
        # ruled: a line across the table under the header, each of the 15 lines and the total
        across = [ln for ln in first.lines if ln["x1"] - ln["x0"] > first.width * 0.8]
        assert len(across) >= 17
    parsed = parse_file(printed.read_bytes(), ctx)
    assert parsed.form.model_dump(mode="json") == expected_voucher(v, "70.50")
    assert [p.code.value for p in parsed.problems] == []


@needs_soffice
def test_the_printed_monitoring_sheet_has_no_overprinted_words_and_shows_every_answer(blank_templates, tmp_path):
    (printed,) = print_to_pdf([blank_templates / f"{FILE_NAMES['monitoring']}.xlsx"], tmp_path / "printed")
    with pdfplumber.open(printed) as pdf:
        assert len(pdf.pages) == 1
        page = pdf.pages[0]
        assert _overlapping_words(page) == []
        text = " ".join(page.extract_text().split())
    spec = all_specs()["monitoring"]
    for q in spec.questions:
        for option in spec.question_options(q):
            assert option.value in text, option.value
