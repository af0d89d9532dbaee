"""The admin's decisions on recorded submissions: accept, reject, supersede."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli.app import OutputsOption, command, configure_logging, out, settings_for

Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit table).")]
By = Annotated[str | None, typer.Option("--by", help="Who decided (default: your login name).")]


def _admin(outputs, action, *args) -> None:
    from pipeline.admin.actions import run_admin_action

    settings = settings_for(outputs=outputs)
    configure_logging(settings)
    out.print(run_admin_action(settings, action, *args))


@command()
def accept(submission_id: int, reason: Reason, by: By = None, outputs: OutputsOption = None) -> None:
    """Load a held form as it is (its errors accepted, values that failed left empty)."""
    from pipeline.admin.actions import accept as accept_action
    from pipeline.admin.actions import default_actor

    _admin(outputs, accept_action, submission_id, reason, by or default_actor())


@command()
def reject(submission_id: int, reason: Reason, by: By = None, outputs: OutputsOption = None) -> None:
    """Keep a form out of the warehouse for good and close its exceptions."""
    from pipeline.admin.actions import default_actor
    from pipeline.admin.actions import reject as reject_action

    _admin(outputs, reject_action, submission_id, reason, by or default_actor())


@command()
def supersede(
    old_id: int,
    new_id: int,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (kept in the audit table).")
    ] = "the sender sent a correction under another name",
    by: By = None,
    outputs: OutputsOption = None,
) -> None:
    """Say that submission NEW_ID corrects OLD_ID (OLD_ID leaves the warehouse views)."""
    from pipeline.admin.actions import default_actor
    from pipeline.admin.actions import supersede as supersede_action

    _admin(outputs, supersede_action, old_id, new_id, reason, by or default_actor())
