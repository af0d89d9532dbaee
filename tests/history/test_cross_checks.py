from __future__ import annotations

from pipeline.history.cross_checks import project_from_subject

KNOWN = frozenset({"Carers Week Co-design Group", "Day Centre Review", "Day Centre"})


def test_project_taken_from_a_subject_naming_exactly_one_known_project():
    assert (
        project_from_subject("FW: evaluation for Carers Week Co-design Group (June)", KNOWN)
        == "Carers Week Co-design Group"
    )


def test_no_project_when_the_subject_names_none_or_several():
    assert project_from_subject("Evaluation form attached", KNOWN) is None
    assert project_from_subject(None, KNOWN) is None
    # "Day Centre Review" also contains the project "Day Centre": two named, so none is taken
    assert project_from_subject("Day Centre Review evaluation", KNOWN) is None
