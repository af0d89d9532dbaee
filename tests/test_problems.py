"""The problem catalogue's words, as the admin and the sender read them."""

from __future__ import annotations

from pipeline.problems import CATALOGUE, ProblemCode


def test_a_file_whose_name_says_excel_is_not_told_to_be_sent_as_excel_only():
    # random bytes named "vouchers.xlsx" are unsupported_format: the sender did send ".xlsx"
    info = CATALOGUE[ProblemCode.UNSUPPORTED_FORMAT]
    assert "whatever its name says" in info.meaning
    assert "save it again" in info.ask_sender and "Renaming a file does not change" in info.ask_sender


def test_every_code_says_what_it_means_and_what_to_ask():
    for code in ProblemCode:
        info = CATALOGUE[code]
        assert info.meaning.endswith(".") and info.ask_sender.endswith("."), code
