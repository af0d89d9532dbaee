"""Appendix 3: Project Evaluation Template for Adult Social Care."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.types import PastDate, SingleLine, Text, one_of_text, single_choice

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
CompletedBy = one_of_text("Staff", "Resident", "Carer", "Other")


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
    completed_by: CompletedBy = None  # type: ignore[valid-type]
    what_worked_well: Text = None
    what_could_be_improved: Text = None
    wider_learning: Text = None
    additional_feedback: Text = None
    # "relationships.1" -> the answer ticked for that principle's first statement
    statements: dict[StatementKey, StatementAnswer] = {}
    feedback: dict[Principle, Text] = {}
    themes: list[Theme] = []
