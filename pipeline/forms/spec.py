"""Form specs: labels, aliases, options and required-ness as data, loaded into frozen models.

The TOML files beside this module are the only place a label or option is spelt out; the
extractor is generic and the pydantic models in schemas/ hold the value rules. A test checks
every spec against its model so the two cannot drift.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

SPEC_DIR = Path(__file__).parent / "specs"
FORM_TYPES = ("planning", "evaluation", "monitoring", "voucher")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HeaderField(_Frozen):
    """`Label: value`, with the value after the label, in the next cell or on the next line."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


class Section(_Frozen):
    """A heading (and the template's question after it); the answer runs to the next heading."""

    name: str
    heading: str
    aliases: tuple[str, ...] = ()
    prompt: str = ""
    required: bool = False
    # what a blank answer raises: an error, a blank_section warning, or nothing (the form
    # has its own rule, as the evaluation's "at least one of Part 1")
    if_blank: Literal["error", "warning", "ignore"] = "warning"

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.heading, *self.aliases)


class Option(_Frozen):
    value: str
    aliases: tuple[str, ...] = ()
    free_text: bool = False  # the option is followed by the respondent's own words
    group: str | None = None  # e.g. the Census ethnic group an ethnicity belongs to
    score: int | None = None  # Likert value

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.value, *self.aliases)


class Question(_Frozen):
    name: str
    question: str
    aliases: tuple[str, ...] = ()
    options: tuple[Option, ...]
    multiple: bool = False
    free_text_field: str | None = None  # where the free text of a free_text option is kept

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.question, *self.aliases)


class Principle(_Frozen):
    name: str
    heading: str
    statements: tuple[str, str]


class Column(_Frozen):
    name: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


class FormSpec(_Frozen):
    form_type: Literal["planning", "evaluation", "monitoring", "voucher"]
    title: str
    aliases: tuple[str, ...] = ()
    header: tuple[HeaderField, ...] = ()
    sections: tuple[Section, ...] = ()
    questions: tuple[Question, ...] = ()
    every_question_offers: tuple[str, ...] = ()
    likert_options: tuple[Option, ...] = ()
    principles: tuple[Principle, ...] = ()
    feedback_label: str | None = None
    columns: tuple[Column, ...] = ()
    total_labels: tuple[str, ...] = ()
    # Labels that are on the form but whose values must never be read (the monitoring
    # form is anonymous: a name written on it is not stored anywhere).
    ignored_labels: tuple[str, ...] = ()
    # Lines the template prints that are never answers ("Part 2", instructions): they end
    # the answer above them. Matched on their first words.
    template_text: tuple[str, ...] = ()

    @property
    def titles(self) -> tuple[str, ...]:
        return (self.title, *self.aliases)

    def question_options(self, question: Question) -> tuple[Option, ...]:
        extra = tuple(Option(value=v) for v in self.every_question_offers
                      if all(o.value != v for o in question.options))
        return question.options + extra


def load_spec(path: Path) -> FormSpec:
    with path.open("rb") as fh:
        return FormSpec.model_validate(tomllib.load(fh))


@cache
def all_specs() -> dict[str, FormSpec]:
    specs = {name: load_spec(SPEC_DIR / f"{name}.toml") for name in FORM_TYPES}
    for name, spec in specs.items():
        if spec.form_type != name:
            raise ValueError(f"{name}.toml declares form_type {spec.form_type!r}")
    return specs
