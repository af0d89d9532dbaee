"""`coforms backup` and `coforms restore`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.app import OutputsOption, command, configure_logging, console, out, settings_for

RestoreOutputsOption = Annotated[
    Path | None,
    typer.Option("--outputs", help="The outputs folder to restore into: new or empty (default: setting 'outputs')."),
]


@command()
def backup(
    dest: Annotated[
        Path,
        typer.Argument(
            help="Where to write the backup: a new (or empty) folder, or a new file whose name ends in .tar.",
            show_default=False,
        ),
    ],
    outputs: OutputsOption = None,
) -> None:
    """Copy the warehouse, the original files, the mail ledger, the review desk's accounts and the settings
    (without passwords or other secrets) into DEST, with a manifest of checksums. Taken while no run or admin
    action is working (it waits for one to finish, as long as the setting lock_wait_seconds). A PostgreSQL
    warehouse (setting warehouse_url) goes in as a pg_dump: PostgreSQL's client tools must be installed."""
    from pipeline.backup.make import make_backup

    settings = settings_for(outputs=outputs)
    configure_logging(settings)
    made = make_backup(settings, dest)
    for line in made.describe():
        out.print(line, soft_wrap=True, highlight=False)


@command()
def restore(
    src: Annotated[
        Path, typer.Argument(help="The backup: its folder, or its .tar file.", show_default=False, exists=False)
    ],
    outputs: RestoreOutputsOption = None,
) -> None:
    """Check a backup made by `coforms backup` (every file against its manifest), then put it back into an
    empty outputs folder and rewrite the reports. A damaged backup is refused, and nothing is written. A
    PostgreSQL warehouse goes back into the new, empty database that the setting warehouse_url names."""
    from pipeline.backup.restore import restore_backup

    settings = settings_for(outputs=outputs, outputs_must_exist=False)
    console.print(f"Checking the backup {src.absolute()} ...", highlight=False, soft_wrap=True)
    restored = restore_backup(settings, src)
    configure_logging(settings)  # only now: the outputs folder had to be empty
    for line in restored.describe():
        out.print(line, soft_wrap=True, highlight=False)
