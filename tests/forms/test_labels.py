from __future__ import annotations

import pytest

from pipeline.forms.labels import clean_value, match_label


@pytest.mark.parametrize(
    "text, labels, label, rest",
    [
        ("Project/Service Name: Sunshine", ("Project/Service Name",), "Project/Service Name", "Sunshine"),
        (
            "project service name   Sunshine",
            ("Project/Service Name",),
            None,
            None,
        ),  # no separator: an answer, not a label
        ("PROJECT/SERVICE NAME:", ("Project/Service Name",), "Project/Service Name", ""),
        (
            "1. What’s worked well? (include successes)",
            ("What's worked well?",),
            "What's worked well?",
            "(include successes)",
        ),
        ("Date completed: 3/4/25", ("Date", "Date completed"), "Date completed", "3/4/25"),  # the longest label wins
        ("Social connections and community", ("Social connections & community",), "Social connections & community", ""),
        ("Communication was great", ("Communication",), None, None),
        ("Project Lead/s: _______", ("Project Lead/s",), "Project Lead/s", ""),  # an unfilled template line
    ],
)
def test_match_label(text, labels, label, rest):
    m = match_label(text, labels)
    if label is None:
        assert m is None or not m.exact_end
    else:
        assert m is not None and m.exact_end and m.label == label and m.rest(text) == rest


def test_clean_value_strips_blanks_of_the_template():
    assert clean_value(": ____ Sunshine ____") == "Sunshine"
