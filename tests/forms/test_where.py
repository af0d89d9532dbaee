"""A problem's place in the form's own words (pipeline.forms.where), not the reader's paragraph numbers."""

from __future__ import annotations

import pytest

from pipeline.forms.where import WHOLE_FILE, where_in_words


@pytest.mark.parametrize(
    ("form_type", "field", "location", "words"),
    [
        # a Word user cannot find "paragraph 66": the question's own words
        ("evaluation", "inclusivity.2", "paragraph 66", "question: Inclusivity, statement 2"),
        ("voucher", "lines.3.amount", "table 1, row 4, column 5", "voucher table, row 3, Voucher Amount Received"),
        ("voucher", "lines.2", "table 1, row 3, column 1", "voucher table, row 2"),
        ("evaluation", "project_name", None, "Project/Service Name"),
        ("monitoring", "age_band.0", "paragraph 12", "question: Age"),
        ("monitoring", "gender_self_description", "paragraph 20", "question: Gender (the person's own words)"),
        ("planning", "stakeholders", "paragraph 9", "section: Identifying and involving stakeholders"),
    ],
)
def test_a_problem_is_placed_by_the_words_printed_on_the_form(form_type, field, location, words):
    assert where_in_words(form_type, field, location) == words


def test_an_excel_cell_and_a_page_are_kept_beside_the_words():
    assert where_in_words("voucher", "lines.3.amount", "Vouchers!E9") == (
        "voucher table, row 3, Voucher Amount Received (sheet Vouchers, cell E9)"
    )
    assert where_in_words("voucher", "lines.6.signed", "page 1, table 1, row 7, column 6") == (
        "voucher table, row 6, Signed by recipient (page 1)"
    )
    assert where_in_words("voucher", "total", "Vouchers!$E$20") == "Total (sheet Vouchers, cell E20)"


def test_a_problem_of_the_whole_file_says_so_and_an_unknown_field_keeps_the_readers_place():
    assert where_in_words(None, None, None) == WHOLE_FILE
    assert where_in_words("voucher", None, "document") == WHOLE_FILE
    assert where_in_words("planning", "no_such_field", "paragraph 12") == "paragraph 12"
