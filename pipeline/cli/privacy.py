"""Data protection: `coforms retention`, `coforms person`, `coforms erase`.

retention keeps personal data no longer than the settings say (a dry run unless --apply);
person answers a subject access request (a folder of every row and original file that names the
person; changes nothing); erase removes a person (names replaced by a pseudonym, their original
files deleted), audited, with finance's totals unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.app import OutputsOption, command, configure_logging, out, settings_for

Email = Annotated[
    list[str] | None,
    typer.Option("--email", help="An email address of theirs, looked for too (may be given more than once)."),
]
By = Annotated[str | None, typer.Option("--by", help="Who did it (default: your login name).")]


def _busy(settings, exc):
    from pipeline.store.lock import RunInProgress

    return RunInProgress(
        f"A coforms run is working on {settings.outputs} (waited {settings.lock_wait_seconds:.0f}s). Nothing was "
        "done: run the command again when it has finished."
    )


@command()
def retention(
    apply: Annotated[
        bool, typer.Option("--apply", help="Do it (without: only show what would be done, changing nothing).")
    ] = False,
    by: By = None,
    outputs: OutputsOption = None,
) -> None:
    """Delete or pseudonymise personal data kept longer than the retention settings allow.

    The settings: retention_originals_months, retention_names_years, retention_free_text_months.
    Shows what would be done; --apply does it (audited; it cannot be undone)."""
    from pipeline.admin.actions import default_actor
    from pipeline.privacy.actions import run_retention
    from pipeline.store.lock import RunInProgress

    settings = settings_for(outputs=outputs)
    configure_logging(settings)
    try:
        message = run_retention(settings, apply, by or default_actor())
    except RunInProgress as exc:
        raise _busy(settings, exc) from exc
    out.print(message, soft_wrap=True, highlight=False)


@command()
def person(
    name: Annotated[str, typer.Argument(help='The person\'s name, e.g. "Margaret Hughes" ("" with --email only).')],
    email: Email = None,
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Folder for the answer (default: OUTPUTS/subject-access/<date and time>)."),
    ] = None,
    outputs: OutputsOption = None,
) -> None:
    """Export everything that names a person, for a subject access request.

    Every row (with the form, when it was loaded and who sent it) and copies of the original files,
    in a folder. Changes nothing."""
    from pipeline.privacy.actions import run_person

    settings = settings_for(outputs=outputs)
    configure_logging(settings)
    if not name.strip() and not email:
        raise typer.BadParameter("give the person's name, or --email with their address")
    answer = run_person(settings, name, email or [], to)
    out.print("\n".join(answer.summary(listed=20)), soft_wrap=True, highlight=False)
    out.print(f"The answer is in {answer.folder} (rows.xlsx, rows.csv, originals/, summary.txt).", soft_wrap=True)


@command()
def erase(
    name: Annotated[str, typer.Argument(help='The person\'s name, e.g. "Margaret Hughes" ("" with --email only).')],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit table, without the name).")],
    email: Email = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be erased; change nothing.")] = False,
    by: By = None,
    outputs: OutputsOption = None,
) -> None:
    """Erase a person from the warehouse, the archive and the reply drafts.

    Every value that names them is replaced by a pseudonym (their vouchers' amounts stay: finance's
    totals do not change) and the original files that name them are deleted; audited. It cannot be
    undone: try --dry-run first."""
    from pipeline.admin.actions import default_actor
    from pipeline.privacy.actions import run_erase
    from pipeline.store.lock import RunInProgress

    settings = settings_for(outputs=outputs)
    configure_logging(settings)
    if not name.strip() and not email:
        raise typer.BadParameter("give the person's name, or --email with their address")
    try:
        message = run_erase(settings, name, email or [], reason, by or default_actor(), dry_run)
    except RunInProgress as exc:
        raise _busy(settings, exc) from exc
    out.print(message, soft_wrap=True, highlight=False)
