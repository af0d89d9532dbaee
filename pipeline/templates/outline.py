"""A blank form as an ordered outline, built from its spec: the one source for the Word,
Excel and PDF templates, so all three say the same thing in the toolkit's order."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.forms.spec import FormSpec, all_specs


@dataclass(frozen=True)
class Title:
    text: str


@dataclass(frozen=True)
class Text:
    """Guidance printed on the form (not a question)."""

    text: str
    heading: bool = False


@dataclass(frozen=True)
class Field:
    """`Label:` and room for an answer; multiline for a section's answer."""

    name: str
    label: str
    prompt: str = ""
    multiline: bool = False


@dataclass(frozen=True)
class Choice:
    """A question and its tick boxes; `groups` puts headings (e.g. Census groups) between options."""

    name: str
    question: str
    options: tuple[str, ...]
    multiple: bool = False
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # options followed by the person's own words, which the form keeps ("Prefer to self-describe")
    free_text: tuple[str, ...] = ()
    free_text_field: str = ""  # the model field that keeps those words
    statement: bool = False  # one of a principle's statements, answered on the Likert scale


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: int
    total_label: str


Item = Title | Text | Field | Choice | Table

# What to write in an answer box, shown as Excel's input message and under the box in Word.
FIELD_HINTS = {
    "project_name": "The project or service this form is about.",
    "date": "Day/month/year, e.g. 03/04/2025.",
    "project_leads": "One or more names, separated by commas.",
    "residents_involved": "The groups or people taking part.",
    "postcode_district": "The first half only, e.g. NW1.",
}
# the voucher table's headings as printed: the unit a time is written in (spec aliases, so read back)
PRINTED_HEADERS = {"time_spent": "Time Spent (e.g. 2 hours)"}


def field_hint(item: Field) -> str:
    if item.name == "completed_by":
        return "Who filled in this form." if "(" not in item.label else "Staff, Resident, Carer or Other, or your name."
    return FIELD_HINTS.get(item.name, item.prompt)


def free_text_options(item: Choice) -> tuple[str, ...]:
    return item.free_text


def _printed_label(field) -> str:
    """A header with a few accepted answers prints the alias that names them all."""
    if field.options:
        naming = [a for a in field.aliases if all(o in a for o in field.options)]
        if naming:
            return max(naming, key=len)
    return field.label


def field_name(*parts: str) -> str:
    """A meaningful form-field name: 'relationships_1', 'age_band_75_84'."""
    import re

    return "_".join(re.sub(r"[^a-z0-9]+", "_", p.lower()).strip("_") for p in parts if p)


def outline(spec: FormSpec) -> list[Item]:
    items: list[Item] = [Title(spec.title)]
    for f in spec.header:
        items.append(Field(f.name, _printed_label(f), multiline=False))
    if spec.form_type == "planning":
        for s in spec.sections:
            items.append(Field(s.name, s.heading, s.prompt, multiline=True))
    elif spec.form_type == "evaluation":
        sections = {s.name: s for s in spec.sections}
        items += [Text("Part 1", heading=True), Text("General Reflection")]
        for name in ("what_worked_well", "what_could_be_improved", "wider_learning"):
            s = sections[name]
            items.append(Field(s.name, s.heading, s.prompt, multiline=True))
        items += [
            Text("Part 2", heading=True),
            Text("Evaluating our guiding principles for Co-production"),
            Text(
                "For each guiding principle, consider the statements and provide your assessment on a scale "
                "from 1 (Strongly Disagree) to 5 (Strongly Agree) and any comments."
            ),
        ]
        likert = tuple(o.value for o in spec.likert_options)
        for n, p in enumerate(spec.principles, start=1):
            items.append(Text(f"{n}. {p.heading}", heading=True))
            for i, statement in enumerate(p.statements, start=1):
                items.append(Choice(f"{p.name}_{i}", f"{i}. {statement}", likert, statement=True))
            items.append(Field(f"feedback_{p.name}", spec.feedback_label or "Feedback", multiline=True))
        items += [Text("Part 3", heading=True)]
        themes = next(q for q in spec.questions if q.name == "themes")
        values = tuple(o.value for o in themes.options)
        items.append(
            Choice(
                "themes",
                themes.question,
                values,
                multiple=True,
                groups=(("Core themes:", values[:3]), ("Domain themes:", values[3:])),
            )
        )
        s = sections["additional_feedback"]
        items.append(Field(s.name, s.heading, multiline=True))
        items.append(Text("Thank you for taking the time to complete this template"))
    elif spec.form_type == "monitoring":
        items.insert(1, Text("This form is anonymous: please do not write your name. Every question is optional."))
        postcode = next(i for i in items if isinstance(i, Field) and i.name == "postcode_district")
        items.remove(postcode)
        for q in spec.questions:
            options = tuple(o.value for o in spec.question_options(q))
            groups: tuple = ()
            if any(o.group for o in q.options):
                order = list(dict.fromkeys(o.group for o in q.options))
                groups = tuple((g, tuple(o.value for o in q.options if o.group == g)) for g in order)
                groups += (("", tuple(v for v in options if v not in {o.value for o in q.options})),)
            free_text = tuple(o.value for o in q.options if o.free_text) if q.free_text_field else ()
            question = q.aliases[-1] if q.name == "circumstances" else q.question
            items.append(Choice(q.name, question, options, q.multiple, groups, free_text, q.free_text_field or ""))
        items.append(postcode)
    elif spec.form_type == "voucher":
        headers = tuple(PRINTED_HEADERS.get(c.name, c.header) for c in spec.columns)
        items.append(Table("lines", headers, 15, spec.total_labels[0]))
    return items


def outlines() -> dict[str, list[Item]]:
    return {form_type: outline(spec) for form_type, spec in all_specs().items()}
