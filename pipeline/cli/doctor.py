"""`coforms doctor`: is this deployment ready to run unattended?"""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from pipeline.cli.app import InboxOption, OutputsOption, command, out

_STYLE = {"ok": "green", "warning": "yellow", "failed": "bold red", "skipped": "dim"}


@command()
def doctor(
    inbox: InboxOption = None,
    outputs: OutputsOption = None,
    schedule: Annotated[
        bool,
        typer.Option(
            "--schedule/--no-schedule",
            help="Check the Prefect server and the last scheduled run (--no-schedule: runs are started by hand "
            "or by another scheduler).",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON (for monitoring).")] = False,
) -> None:
    """Check this deployment (settings, folders, mail, warehouse, LibreOffice, OCR, disk, schedule) and say
    what to fix. Exit code 1 when a check failed. Run it as the account coforms runs as (for the
    services: sudo systemctl start coforms-doctor, then journalctl -u coforms-doctor)."""
    from pipeline.doctor.runner import any_failed, run_checks

    # what the checked code logs (LibreOffice without a sandbox...) is in the findings, said plainly:
    # not also on the screen as raw log lines
    logging.getLogger().addHandler(logging.NullHandler())
    # the folders as given, never created: a missing one is a finding, not something to hide
    overrides = {k: v for k, v in {"inbox": inbox, "outputs": outputs}.items() if v is not None}
    findings = run_checks(overrides, schedule=schedule)
    if as_json:
        out.print_json(json.dumps([f.as_dict() for f in findings]))
    else:
        for finding in findings:
            status = finding.status.value
            out.print(f"[{_STYLE[status]}]{status:<8}[/] {finding.check}: ", end="", soft_wrap=True)
            out.print(finding.said, highlight=False, markup=False, soft_wrap=True)
            if finding.fix:
                out.print(f"{'':9}Fix: ", end="", soft_wrap=True)
                out.print(finding.fix, highlight=False, markup=False, soft_wrap=True)
        counts = {s: sum(1 for f in findings if f.status.value == s) for s in _STYLE}
        out.print(
            f"{counts['ok']} ok, {counts['warning']} warning(s), {counts['failed']} failed, "
            f"{counts['skipped']} skipped."
        )
    if any_failed(findings):
        raise typer.Exit(1)
