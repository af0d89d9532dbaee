"""Checks of one parsed form against what the warehouse already holds.

Parsing is pure (bytes in, form and problems out), so it can run anywhere and in any order;
whatever depends on earlier submissions is decided here, in the main process, just before the
form is recorded, in arrival order. A one-core run and a many-core run therefore agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from pipeline.forms.labels import label_tokens, normalise
from pipeline.problems import Problem, ProblemCode, make_problem
from pipeline.records import ParsedFile
from pipeline.store.warehouse import Warehouse
from pipeline.validate.names import claim_key


def project_from_subject(subject: str | None, known_projects: frozenset[str]) -> str | None:
    """The one known project an email subject names, or None if it names none or several."""
    if not subject:
        return None
    words = f" {normalise(subject)} "
    named = {p for p in known_projects if label_tokens(p) and f" {normalise(p)} " in words}
    return named.pop() if len(named) == 1 else None


def with_project_from_subject(parsed: ParsedFile, subject: str | None, warehouse: Warehouse) -> ParsedFile:
    """An evaluation without a project name takes the one loaded project its email's subject
    names; its project_unknown problem then goes."""
    unknown = [p for p in parsed.problems if p.code is ProblemCode.PROJECT_UNKNOWN]
    if parsed.form is None or not unknown or not subject:
        return parsed
    project = project_from_subject(subject, warehouse.known_projects())
    if project is None:
        return parsed
    return replace(parsed, form=parsed.form.model_copy(update={"project_name": project}),
                   problems=[p for p in parsed.problems if p.code is not ProblemCode.PROJECT_UNKNOWN],
                   notes=[*parsed.notes, f"project name taken from the email subject: {project}"])


def claims_made_before(parsed: ParsedFile, warehouse: Warehouse, excluding: Iterable[int] = ()) -> list[Problem]:
    """possible_duplicate_claim for voucher lines already loaded from another form (not counting
    the forms this one corrects)."""
    if parsed.form_type != "voucher" or parsed.form is None:
        return []
    keyed = [(line, claim_key(line.name, line.date, line.activity)) for line in parsed.form.lines]
    earlier = warehouse.loaded_claims((k for _, k in keyed), excluding)
    problems = []
    for line, key in keyed:
        if key in earlier:
            problems.append(make_problem(
                ProblemCode.POSSIBLE_DUPLICATE_CLAIM,
                f"Row {line.line_no}: {line.name}, {line.date:%d/%m/%Y}, {line.activity} was already claimed on "
                f"\"{earlier[key][1]}\" (submission {earlier[key][0]}).",
                field=f"lines.{line.line_no}", location=parsed.locations.get(f"lines.{line.line_no}"),
                value=f"{line.name} | {line.date:%d/%m/%Y} | {line.activity}"))
    return problems
