"""Form specs: labels, aliases, options, required-ness and the model field each value fills,
as data, loaded into frozen models.

The TOML files beside this module are the only place a label, option or required flag is
spelt out; the extractor and the validator are generic and the pydantic models in schemas/
hold the value rules. Each value names its model field and that field's type (a name in
schemas.types, or in the form's own schemas module), so a label leads in one hop to its
parser. tests/forms/test_specs.py checks every spec against its model so the two cannot drift.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

SPEC_DIR = Path(__file__).parent / "specs"
FORM_TYPES = ("planning", "evaluation", "monitoring", "voucher")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HeaderField(_Frozen):
    """`Label: value`, with the value after the label, in the next cell or on the next line."""

    name: str  # the model field it fills
    label: str
    type: str  # the model field's type, which parses and checks the value (e.g. PastDate)
    aliases: tuple[str, ...] = ()
    required: bool = False
    # a typed-in answer that must be one of these words (the model's type checks it)
    options: tuple[str, ...] = ()
    # an invalid value is a warning and the form still loads (an optional, anonymous answer)
    invalid_is_warning: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


class Section(_Frozen):
    """A heading (and the template's question after it); the answer runs to the next heading."""

    name: str  # the model field it fills
    heading: str
    aliases: tuple[str, ...] = ()
    prompt: str = ""
    type: str = "Text"
    required: bool = False
    # what a blank answer raises: an error, a blank_section warning, or nothing (a section
    # of a SectionGroup, checked as a whole, as the evaluation's Part 1)
    if_blank: Literal["error", "warning", "ignore"] = "warning"

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.heading, *self.aliases)


class SectionGroup(_Frozen):
    """Sections answered as a whole: a problem only when every one of them is blank."""

    label: str  # names the group in the problem's message
    sections: tuple[str, ...]
    if_blank: Literal["error", "warning"] = "warning"


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
    name: str  # the model field it fills; its options are the model field's Literal
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
    # the column's own name: its key in a raw row and in a problem's field ("lines.2.time_spent")
    name: str
    header: str
    field: str  # the VoucherLine field it fills
    type: str  # that field's type, which parses and checks the cell (e.g. Minutes)
    aliases: tuple[str, ...] = ()
    required: bool = True  # a row that has other cells filled but not this one is incomplete
    # on a scan, how alike the two OCR readings of a text cell must be: "exact" (a name: the same
    # letters) or "close" (an activity: a misread letter in the second reading is no reason to hold)
    ocr_agreement: Literal["exact", "close"] = "exact"

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


class FormSpec(_Frozen):
    form_type: Literal["planning", "evaluation", "monitoring", "voucher"]
    title: str
    aliases: tuple[str, ...] = ()
    header: tuple[HeaderField, ...] = ()
    sections: tuple[Section, ...] = ()
    section_groups: tuple[SectionGroup, ...] = ()
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

    @model_validator(mode="after")
    def _groups_name_sections_checked_only_as_a_group(self) -> FormSpec:
        blank_rule = {s.name: s.if_blank for s in self.sections}
        for group in self.section_groups:
            for name in group.sections:
                if blank_rule.get(name) != "ignore":
                    raise ValueError(
                        f"section group {group.label!r}: {name!r} must be a section "
                        'with if_blank = "ignore" (the group checks it)'
                    )
        return self

    @property
    def titles(self) -> tuple[str, ...]:
        return (self.title, *self.aliases)

    def question_options(self, question: Question) -> tuple[Option, ...]:
        extra = tuple(
            Option(value=v) for v in self.every_question_offers if all(o.value != v for o in question.options)
        )
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
