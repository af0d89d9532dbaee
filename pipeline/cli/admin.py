"""The admin's decisions on recorded submissions: accept, reject, supersede, and undo any of them.

Each prints what it changed (statuses, exceptions, £ in and out of finance's totals) and the
number of its audit row, which `coforms undo` takes; `--dry-run` prints the same and changes
nothing."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli.app import OutputsOption, command, configure_logging, out, settings_for

Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit table).")]
By = Annotated[str | None, typer.Option("--by", help="Who decided (default: your login name).")]
DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Show what would change (statuses, exceptions, £ in finance's totals); change nothing."
    ),
]


def _admin(outputs, dry_run: bool, action, *args) -> None:
    from pipeline.admin.actions import run_admin_action
    from pipeline.store.lock import RunInProgress

    settings = settings_for(outputs=outputs)
    configure_logging(settings)
    try:
        done = run_admin_action(settings, action, *args, dry_run=dry_run)
    except RunInProgress as exc:  # the run's own wording says the next run picks up the inbox: not this
        raise RunInProgress(
            f"A coforms run is working on {settings.outputs} (waited {settings.lock_wait_seconds:.0f}s). Nothing "
            "was done: run the command again when it has finished."
        ) from exc
    # soft_wrap: the lines are the admin's record of what changed, kept whole at any terminal width
    out.print(done, soft_wrap=True, highlight=False)


@command()
def accept(
    submission_id: int, reason: Reason, by: By = None, dry_run: DryRun = False, outputs: OutputsOption = None
) -> None:
    """Load a held form as it is (its errors accepted, values that failed left empty)."""
    from pipeline.admin.actions import accept as accept_action
    from pipeline.admin.actions import default_actor

    _admin(outputs, dry_run, accept_action, submission_id, reason, by or default_actor())


@command()
def reject(
    submission_id: int, reason: Reason, by: By = None, dry_run: DryRun = False, outputs: OutputsOption = None
) -> None:
    """Keep a form out of the warehouse and close its exceptions (`coforms undo` takes it back)."""
    from pipeline.admin.actions import default_actor
    from pipeline.admin.actions import reject as reject_action

    _admin(outputs, dry_run, reject_action, submission_id, reason, by or default_actor())


@command()
def supersede(
    old_id: int,
    new_id: int,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (kept in the audit table).")
    ] = "the sender sent a correction under another name",
    by: By = None,
    dry_run: DryRun = False,
    outputs: OutputsOption = None,
) -> None:
    """Say that submission NEW_ID corrects OLD_ID (OLD_ID leaves the warehouse views)."""
    from pipeline.admin.actions import default_actor
    from pipeline.admin.actions import supersede as supersede_action

    _admin(outputs, dry_run, supersede_action, old_id, new_id, reason, by or default_actor())


@command()
def undo(
    action_id: int,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit table).")] = "",
    by: By = None,
    dry_run: DryRun = False,
    outputs: OutputsOption = None,
) -> None:
    """Put a submission back as it was before audited action ACTION_ID (accept, reject, supersede,
    a correction of a value, or a correction the pipeline linked): its status and values, and the
    exceptions that action resolved are open again. The latest action on a submission is undone
    first; the audit view's can_undo column lists the actions that can be undone now."""
    import functools

    from pipeline.admin.actions import default_actor
    from pipeline.runtime.correct import correcting, undo_any

    # a correction is taken back by validating the form again without it; the others by their status
    undo_action = functools.partial(undo_any, how=correcting(settings_for(outputs=outputs)))
    _admin(outputs, dry_run, undo_action, action_id, reason, by or default_actor())
