"""A person is found as the pipeline matches people, and replaced where found; pseudonyms are
stable per person, depend on the key, and are not derived without it."""

from __future__ import annotations

import stat

from pipeline.privacy.mentions import Person
from pipeline.privacy.pseudonyms import erased_pseudonym, is_pseudonym, key_path, pseudonym, the_key

MARGARET = Person.of(["Margaret Hughes"])


def test_spellings_of_one_person_are_found():
    for text in (
        "MARGARET HUGHES",
        "Margaret  Hughes",
        "margaret_hughes.docx",
        "Row 3: Margaret Hughes, 06/05/2025",
        "Marg\u200baret Hughes",  # a zero-width space inside
        "M\u0430rgaret Hughes",  # a Cyrillic a
        "Margaret\nHughes",  # a scan's two lines
    ):
        assert MARGARET.named_in(text), text


def test_other_people_and_parts_of_words_are_not():
    for text in ("Margaret", "Hughes", "Margaret Hughesworth", "Peter Novak", "", None):
        assert not MARGARET.named_in(text), text


def test_replaced_where_found_and_the_rest_kept():
    assert MARGARET.replaced("Row 3: MARGARET  HUGHES, 06/05", "Person 1") == "Row 3: Person 1, 06/05"
    both = Person.of(["Amira Hassan"], ["AMIRA.HASSAN@camden.gov.uk"])
    assert both.replaced("From amira.hassan@camden.gov.uk (Amira Hassan)", "P") == "From P (P)"


def test_pseudonyms_are_stable_per_person_and_depend_on_the_key(tmp_path):
    key = the_key(tmp_path)
    assert the_key(tmp_path) == key  # made once
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    alias = pseudonym("Margaret Hughes", key)
    assert is_pseudonym(alias) and alias == pseudonym("MARGARET  HUGHES", key) == pseudonym(alias, key)
    assert alias != pseudonym("Peter Novak", key)
    assert alias != pseudonym("Margaret Hughes", b"another key")
    assert is_pseudonym(erased_pseudonym()) and erased_pseudonym() != erased_pseudonym()
