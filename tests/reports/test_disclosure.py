"""Small-number suppression of counts of people from monitoring forms (pipeline.reports.disclosure)."""

from __future__ import annotations

from pipeline.reports.disclosure import SECONDARY, suppress


def test_a_count_of_one_to_four_is_shown_as_fewer_than_five_with_no_percentage():
    question = suppress({"in": 1, "out": 3, "other": 6}, 5)
    assert question.answers["in"].text == "fewer than 5" and question.answers["in"].count is None
    assert question.answers["out"].text == "fewer than 5" and question.total.text == "10"
    assert question.share("in") is None and question.share("other") == 60


def test_zero_and_counts_at_the_threshold_are_shown():
    question = suppress({"in": 0, "out": 5}, 5)
    assert (question.answers["in"].text, question.answers["out"].text, question.total.text) == ("0", "5", "5")
    assert question.share("in") == 0 and question.share("out") == 100


def test_a_lone_hidden_count_takes_the_next_smallest_with_it_so_the_total_cannot_give_it_away():
    # 8 of 10 in the group would tell that 2 are not: both are hidden, the total stays
    question = suppress({"in": 8, "out": 2}, 5)
    assert question.answers["out"].text == "fewer than 5"
    assert question.answers["in"].text == SECONDARY and question.share("in") is None
    assert question.total.text == "10"
    # in a longer question, only the next smallest goes
    question = suppress({"a": 3, "b": 6, "c": 9, "d": 0}, 5)
    assert [question.answers[k].text for k in "abcd"] == ["fewer than 5", SECONDARY, "9", "0"]
    assert question.share("c") == 50


def test_two_hidden_counts_need_no_third():
    question = suppress({"a": 3, "b": 2, "c": 9}, 5)
    assert [question.answers[k].text for k in "abc"] == ["fewer than 5", "fewer than 5", "9"]


def test_the_threshold_is_the_callers():
    assert suppress({"in": 2, "out": 8}, 2).answers["in"].text == "2"
    assert suppress({"in": 2, "out": 8}, 10).answers["in"].text == "fewer than 10"


def test_when_fewer_than_the_threshold_answered_no_answer_is_shown_not_even_a_zero():
    question = suppress({"in": 0, "out": 3}, 5)
    assert question.total.text == "fewer than 5"
    assert all(shown.hidden and shown.text == SECONDARY for shown in question.answers.values())
    assert question.share("in") is None
