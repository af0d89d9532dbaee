"""pipeline.forms.extract's label index: a cell is tried only against the labels sharing its first
token, so the index must never leave out a label that could match the cell."""

from __future__ import annotations

import pytest

from pipeline.forms.extract import _SpecLabels
from pipeline.forms.labels import match_label
from pipeline.forms.spec import all_specs


@pytest.mark.parametrize("form_type", sorted(all_specs()))
def test_every_label_is_tried_on_a_cell_that_starts_with_it(form_type):
    index = _SpecLabels(all_specs()[form_type])
    assert index.all
    for entry in index.all:
        for text in entry.labels:
            for cell in (f"{text}: an answer", f"3. {text.upper()}", f"• {text}"):
                assert match_label(cell, entry.labels, loose_tokens=entry.loose), cell  # the cell does match
                assert entry in index.worth_trying(cell), cell


@pytest.mark.parametrize("form_type", sorted(all_specs()))
def test_a_cell_over_several_lines_is_tried_against_every_label(form_type):
    index = _SpecLabels(all_specs()[form_type])
    assert index.worth_trying("Receive\nd by") == index.all


def test_a_cell_starting_with_no_label_s_first_word_is_tried_against_none():
    index = _SpecLabels(all_specs()["evaluation"])
    assert index.worth_trying("Sunshine lunch club") == ()
    assert index.worth_trying("") == ()


def test_a_sections_prompt_printed_on_its_own_line_is_not_part_of_the_answer():
    from pipeline.document import Document, Location
    from pipeline.forms.extract import extract

    doc = Document(format="scan")
    lines = [
        "Project Evaluation Template for Adult Social Care",
        "What's worked well?",
        "(include successes or strengths and what contributed to these)",
        "Meeting in the library made it easy to come.",
        "What could be improved?",
        "Pay vouchers on the day.",
    ]
    for n, text in enumerate(lines, start=1):
        doc.add_paragraph(text, Location(page=1, paragraph=n))
    raw = extract(doc, all_specs()["evaluation"])
    assert raw.text("what_worked_well") == "Meeting in the library made it easy to come."
    assert raw.text("what_could_be_improved") == "Pay vouchers on the day."


def test_a_misread_prompt_after_a_scanned_heading_is_still_not_the_answer():
    from pipeline.document import Cell, Document, Line, Location, Reading
    from pipeline.forms.extract import extract

    doc = Document(format="scan")
    lines = [
        "Co-production and Engagement Project Planning Template",
        "Co-production and partnership working: What level of influence will people have and what methods "
        "wil you use to engage with peop1e? How will you ensure accessibility and inclusivity? How will "
        "decisions be made?",
        "We needed a hearing loop in the main room.",
    ]
    for n, text in enumerate(lines, start=1):
        cell = Cell(text, Location(page=1, paragraph=n), source="ocr", reading=Reading("rapidocr", text))
        doc.lines.append(Line("paragraph", (cell,)))
    raw = extract(doc, all_specs()["planning"])
    assert raw.text("coproduction_approach") == "We needed a hearing loop in the main room."


def _by_comparison(text: str, options) -> object:
    """What the option matcher must agree with: each option compared in turn (labels.same_text)."""
    from pipeline.forms.labels import clean_value, same_text

    text = clean_value(text)
    return next((option for option in options if text and same_text(text, option.labels)), None)


@pytest.mark.parametrize("form_type", sorted(all_specs()))
def test_the_option_index_finds_what_comparing_each_option_finds(form_type):
    from pipeline.forms.extract import OptionMatcher

    spec = all_specs()[form_type]
    option_sets = [spec.question_options(q) for q in spec.questions] + (
        [spec.likert_options] * bool(spec.likert_options)
    )
    for options in option_sets:
        matcher = OptionMatcher(options)
        for option in options:
            for label in option.labels:
                half = len(label) // 2
                for cell in (label, label.upper(), f"  {label}: ", f"{label[:half]}\n{label[half:]}", "not an option"):
                    found, expected = matcher.match(cell), _by_comparison(cell, options)
                    if expected is not None:
                        assert found == (expected, ""), cell
                    else:  # named by no option: at most an option followed by free text
                        assert found is None or found[0].free_text, cell


def test_of_two_options_a_cell_names_the_first_is_taken():
    from pipeline.forms.extract import OptionMatcher
    from pipeline.forms.spec import Option

    # "Pre fer" split over two lines spells the second option's letters; the first names it in words
    options = (Option(value="Prefer"), Option(value="Pre fer"))
    assert OptionMatcher(options).match("Pre\nfer")[0] is options[0]
    assert OptionMatcher(options[::-1]).match("Pre\nfer")[0] is options[1]
