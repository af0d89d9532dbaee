"""schemas.types: text from a file is stored as text a person could have typed. Control
characters (NUL above all: PostgreSQL refuses it, and one value would fail a whole batch) are
removed; tabs and line breaks stay."""

from __future__ import annotations

from pydantic import BaseModel

from pipeline.problems import ProblemCode, make_problem
from schemas.types import SingleLine, Text


class _Values(BaseModel):
    text: Text = None
    line: SingleLine = None


def test_control_characters_never_reach_a_value():
    values = _Values(text="Good\x00 session\x07\nwith\ttabs\x1b", line="Jo\x00 Bloggs\x0c")
    assert values.text == "Good session\nwith\ttabs"
    assert values.line == "Jo Bloggs"


def test_control_characters_never_reach_a_problem():
    problem = make_problem(ProblemCode.INVALID_OPTION, "Not an option: 'x\x00y'", value="a\x00b\x1fc")
    assert "\x00" not in problem.message and problem.value == "a b c"
