"""Appendix 3: Project Evaluation Template for Adult Social Care."""

import re
import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from schemas.types import PastDate, SingleLine, Text, single_choice

PRINCIPLES = (
    "relationships",
    "communication",
    "accessibility",
    "inclusivity",
    "honesty_transparency",
    "being_realistic",
)
Principle = Literal[
    "relationships", "communication", "accessibility", "inclusivity", "honesty_transparency", "being_realistic"
]
LikertOption = Literal[
    "Strongly Disagree", "Disagree", "Neither Agree nor Disagree (Neutral)", "Agree", "Strongly Agree"
]
LIKERT_SCORES: dict[str, int] = {
    "Strongly Disagree": 1,
    "Disagree": 2,
    "Neither Agree nor Disagree (Neutral)": 3,
    "Agree": 4,
    "Strongly Agree": 5,
}
Theme = Literal[
    "Safety",
    "Equality",
    "Health",
    "Housing",
    "Income and affordability",
    "Empowered Citizenships",
    "Life-long learning",
    "Social connections & community",
    "Environment",
]
# The warehouse keeps themes as snake_case names.
THEME_NAMES: dict[str, str] = {
    "Safety": "safety",
    "Equality": "equality",
    "Health": "health",
    "Housing": "housing",
    "Income and affordability": "income_and_affordability",
    "Empowered Citizenships": "empowered_citizenship",
    "Life-long learning": "lifelong_learning",
    "Social connections & community": "social_connections_and_community",
    "Environment": "environment",
}
Role = Literal["Staff", "Resident", "Carer", "Other"]
ROLES: tuple[str, ...] = typing.get_args(Role)
# A person's name as people write one: letters of any alphabet, spaces, hyphens, apostrophes,
# full stops and commas ("Mary-Jane O'Neill", "J. Smith", "Okafor, Tom"); short, and no digits.
_NAME = re.compile(r"^[^\W\d_]+(?:[ '’.,-]+[^\W\d_]+)*\.?$")
MAX_NAME_CHARS = 60
MAX_NAME_WORDS = 6


def _completed_by(value: Any) -> Any:
    """Who filled the form in: one of the roles the template offers (in any capitals), kept in
    its own spelling so the warehouse can count by role, or a person's name, kept as written.
    Anything else (a paragraph, a phone number) is not who completed it: invalid_option."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    for role in ROLES:
        if text.rstrip(".").casefold() == role.casefold():
            return role
    if len(text) <= MAX_NAME_CHARS and len(text.split()) <= MAX_NAME_WORDS and _NAME.match(text):
        return text
    raise PydanticCustomError(
        "invalid_option",
        "'{value}' is not a role ({roles}) or a person's name.",
        {"value": text[:80], "roles": ", ".join(ROLES)},
    )


# The column `completed_by` holds a role (Staff, Resident, Carer, Other) or a person's name.
CompletedBy = Annotated[Role | str | None, BeforeValidator(_completed_by)]


class StatementAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: single_choice(LikertOption) = None  # type: ignore[valid-type]

    @property
    def score(self) -> int | None:
        return LIKERT_SCORES[self.answer] if self.answer else None


StatementKey = Annotated[str, Field(pattern=r"^(" + "|".join(PRINCIPLES) + r")\.[12]$")]


class EvaluationForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_name: SingleLine = None
    date: PastDate = None
    completed_by: CompletedBy = None
    what_worked_well: Text = None
    what_could_be_improved: Text = None
    wider_learning: Text = None
    additional_feedback: Text = None
    # "relationships.1" -> the answer ticked for that principle's first statement
    statements: dict[StatementKey, StatementAnswer] = {}
    feedback: dict[Principle, Text] = {}
    themes: list[Theme] = []
