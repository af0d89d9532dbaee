"""Correcting a value of a recorded form, and confirming what OCR read from a scan.

`coforms correct ID FIELD VALUE --reason ...` and `coforms confirm ID FIELD --reason ...` print
what changed (the value before and after, the status, the problems that go, stay and come, £ in
finance's totals) and the number of the action, which `coforms undo` takes back; `--dry-run`
prints the same and changes nothing. The form is validated again by the pipeline's own code
(pipeline.runtime.correct); the original file is never changed."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli.admin import By, DryRun, Reason
from pipeline.cli.app import OutputsOption, command, configure_logging, out, settings_for

Field = Annotated[
    str,
    typer.Argument(
        help="The value's field, as the exceptions name it: e.g. date, lines.3.amount, total, age_band, "
        "relationships.1."
    ),
]


def _correction(outputs, dry_run: bool, action, *args) -> None:
    from pipeline.runtime.correct import run_correction
    from pipeline.store.lock import RunInProgress

    settings = settings_for(outputs=outputs)
    configure_logging(settings)
    try:
        done = run_correction(settings, action, *args, dry_run=dry_run)
    except RunInProgress as exc:
        raise RunInProgress(
            f"A coforms run is working on {settings.outputs} (waited {settings.lock_wait_seconds:.0f}s). Nothing "
            "was done: run the command again when it has finished."
        ) from exc
    out.print(done, soft_wrap=True, highlight=False)


@command()
def correct(
    submission_id: int,
    field: Field,
    value: Annotated[
        str,
        typer.Argument(
            help="The value as it should read, e.g. 10.00 or 12/05/2025; for ticked boxes the answer, e.g. 25-34 "
            "(several separated by ';')."
        ),
    ],
    reason: Reason,
    by: By = None,
    dry_run: DryRun = False,
    outputs: OutputsOption = None,
) -> None:
    """Correct one value of a held or loaded form (who, why, before and after are kept), then
    validate the form again: it loads when no error is left."""
    from pipeline.admin.actions import default_actor
    from pipeline.runtime.correct import correct as correct_value

    _correction(outputs, dry_run, correct_value, submission_id, field, value, reason, by or default_actor())


@command()
def confirm(
    submission_id: int,
    field: Field,
    reason: Reason,
    by: By = None,
    dry_run: DryRun = False,
    outputs: OutputsOption = None,
) -> None:
    """Confirm that what OCR read for one value of a scan is what the picture shows (a value held
    as ocr_unconfirmed), then validate the form again: it loads when no error is left."""
    from pipeline.admin.actions import default_actor
    from pipeline.runtime.correct import confirm as confirm_value

    _correction(outputs, dry_run, confirm_value, submission_id, field, reason, by or default_actor())
