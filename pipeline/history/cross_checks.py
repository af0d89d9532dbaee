"""Checks of one parsed form against the forms before it.

Parsing is pure (bytes in, form and problems out), so it can run anywhere and in any order;
whatever depends on earlier submissions is decided in the main process, just before the form
is recorded, in arrival order (pipeline.history.decide). A one-core run and a many-core run
therefore agree. `history` is what decide reads the earlier forms through (the warehouse).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from pipeline.forms.labels import label_tokens, normalise
from pipeline.problems import Problem, ProblemCode, make_problem
from pipeline.records import ParsedFile


def project_from_subject(subject: str | None, known_projects: frozenset[str]) -> str | None:
    """The one known project an email subject names, or None if it names none or several."""
    if not subject:
        return None
    words = f" {normalise(subject)} "
    named = {p for p in known_projects if label_tokens(p) and f" {normalise(p)} " in words}
    return named.pop() if len(named) == 1 else None


def with_project_from_subject(
    parsed: ParsedFile, subject: str | None, history
) -> tuple[ParsedFile, tuple[Problem, ...]]:
    """A form the validator found without a project (project_unknown: it cannot know the email)
    takes the one loaded project its email's subject names. Returns the form as it is then kept,
    and the project_unknown problem that the subject settled (none if it named no project)."""
    unknown = tuple(p for p in parsed.problems if p.code is ProblemCode.PROJECT_UNKNOWN)
    if parsed.form is None or not unknown or not subject:
        return parsed, ()
    project = project_from_subject(subject, history.known_projects())
    if project is None:
        return parsed, ()
    return replace(
        parsed,
        form=parsed.form.model_copy(update={"project_name": project}),
        problems=[p for p in parsed.problems if p.code is not ProblemCode.PROJECT_UNKNOWN],
        notes=[*parsed.notes, f"project name taken from the email subject: {project}"],
    ), unknown


def claims_made_before(parsed: ParsedFile, history, excluding: Iterable[int] = ()) -> list[Problem]:
    """possible_duplicate_claim for voucher lines already loaded from another form (not counting
    the forms this one corrects)."""
    if parsed.form_type != "voucher" or parsed.form is None:
        return []
    lines = parsed.form.lines
    earlier = history.loaded_claims((line.claim_key for line in lines), excluding)
    problems = []
    for line in lines:
        if line.claim_key in earlier:
            first_sid, first_file = earlier[line.claim_key]
            problems.append(
                make_problem(
                    ProblemCode.POSSIBLE_DUPLICATE_CLAIM,
                    f"Row {line.line_no}: {line.name}, {line.date:%d/%m/%Y}, {line.activity} was already claimed on "
                    f'"{first_file}" (submission {first_sid}).',
                    field=f"lines.{line.line_no}",
                    location=line.location,
                    value=f"{line.name} | {line.date:%d/%m/%Y} | {line.activity}",
                )
            )
    return problems
