"""The everyday commands: run the pipeline, rewrite the reports, check that nothing is lost, list
the exceptions."""

from __future__ import annotations

import itertools
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipeline.cli.app import (
    InboxOption,
    OutputsOption,
    command,
    configure_logging,
    console,
    out,
    settings_for,
)
from pipeline.settings import Settings


@command()
def run(inbox: InboxOption = None, outputs: OutputsOption = None) -> None:
    """Process everything in the inbox once, then rewrite the reports and the summary page if they are out of date."""
    from pipeline.intake.inbox import require_inbox

    settings = settings_for(inbox, outputs, outputs_must_exist=False)
    require_inbox(settings.inbox)  # before anything is made: a wrong inbox leaves no outputs folder behind
    _start_parsers_early(settings)
    from pipeline.reports.run_summary import problem_counts, summary_lines
    from pipeline.runtime.run import run_pipeline

    configure_logging(settings)
    progress = Progress(
        TextColumn("Reading forms"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
    with progress:
        task = progress.add_task("forms", total=None)
        summary = run_pipeline(
            settings,
            on_start=lambda n: progress.update(task, total=n),
            on_item=lambda _item: progress.advance(task),
        )

    table = Table(title="Co-production forms: this run", show_header=False)
    for label, value in summary_lines(summary):
        table.add_row(label, value)
    out.print(table)
    counts = problem_counts(summary)
    if counts:
        out.print("Problems: " + ", ".join(f"{code} x{n}" for code, n in counts.most_common()))
    for action, old, old_file, new, new_file in summary.corrections:
        out.print(
            f"Correction: submission {old} ({old_file}) is replaced by {new} ({new_file}); "
            f"if they are not the same form, `coforms undo {action}`.",
            soft_wrap=True,
            highlight=False,
        )
    _warn_about_the_ledger(settings)
    if summary.reports_written:
        out.print("Reports rewritten: " + ", ".join(summary.reports_written), soft_wrap=True)
    elif not summary.reports_error:
        out.print(f"Reports in {settings.outputs} were already up to date.")
    if summary.reports_error:
        console.print(
            f"[bold red]Some reports were not written:[/] {summary.reports_error}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1)


def _how_resolved(row) -> str:
    """' (resolved by action 10: accepted ...)' for a closed exception: the action `coforms undo` takes."""
    if row.state == "open":
        return ""
    action = f" by action {row.resolved_by_action}" if row.resolved_by_action is not None else ""
    return f" ({row.state}{action}: {row.resolution})" if row.resolution else f" ({row.state}{action})"


def _warn_about_the_ledger(settings: Settings) -> None:
    """Finance's ledger is set but cannot be used: the reconciliation has control totals only, which
    finance must hear of here as well as in the workbook."""
    if settings.ledger_path is None:
        return
    from pipeline.reports.ledger import read_ledger

    error = read_ledger(settings.ledger_path).error
    if error:
        console.print(
            f"[yellow]Finance's ledger could not be used:[/] {error} The reconciliation shows the control totals only.",
            highlight=False,
            soft_wrap=True,
        )


def _start_parsers_early(settings: Settings) -> None:
    """With files in the inbox, the parsers' fork server starts now (pipeline.runtime.parallel.warm_up):
    it loads the readers while this process loads the rest of the pipeline."""
    from pipeline.intake.inbox import list_inbox
    from pipeline.runtime.parallel import warm_up
    from pipeline.workspace import private_tmp

    try:
        files = len(list_inbox(settings.inbox))
        if not files:
            return
        with private_tmp(settings.outputs):  # the fork server's socket: under outputs/tmp too
            warm_up(settings.workers, files, settings.dask_address)
    except OSError:
        return  # an unreadable inbox or outputs folder: the run itself says so, in plain words


@command()
def report(outputs: OutputsOption = None) -> None:
    """Rewrite every report from the warehouse now (exceptions, voucher reconciliation, summary page)."""
    from pipeline.runtime.run import rewrite_reports

    settings = settings_for(outputs=outputs)
    configure_logging(settings)
    written = rewrite_reports(settings)
    _warn_about_the_ledger(settings)
    out.print("Reports rewritten: " + ", ".join(str(path) for path in written), soft_wrap=True)


@command("check")
def check_command(inbox: InboxOption = None, outputs: OutputsOption = None) -> None:
    """Verify that every file that came in is accounted for (once, original kept) and the reports are current."""
    from pipeline.admin.check import check
    from pipeline.intake.inbox import require_inbox

    settings = settings_for(inbox, outputs)
    require_inbox(settings.inbox)
    report = check(settings)
    if not report.has_warehouse:
        console.print(
            f"There is no warehouse in {settings.outputs}: nothing has been taken in there yet, so there is nothing "
            f"to check ({report.pending_files} file(s) waiting in the inbox). Run `coforms run` first.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    out.print(
        f"Files taken in: {report.intakes}; submissions: "
        + (", ".join(f"{n} {status}" for status, n in sorted(report.statuses.items())) or "none")
        + f"; waiting in the inbox: {report.pending_files}; interrupted (resumed next run): "
        f"{report.interrupted_files}."
    )
    if report.ok:
        out.print("[green]Everything that came in is accounted for, and the reports are up to date.[/]")
        return
    for violation in report.violations:
        out.print(f"[red]- {violation}[/]", highlight=False, soft_wrap=True)
    for name in report.stale_reports:
        why = "is out of date (it does not show the warehouse as it is now)"
        if not (settings.outputs / name).exists():
            why = "is missing"
        out.print(f"[red]- {name} {why}: run `coforms report`[/]", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@command()
def exceptions(
    all_: Annotated[bool, typer.Option("--all", help="Resolved ones too.")] = False,
    outputs: OutputsOption = None,
) -> None:
    """List the open exceptions, grouped by sender (so each can be emailed once)."""
    from pipeline.reports.exceptions import exception_rows
    from pipeline.store.warehouse import Warehouse, warehouse_exists

    settings = settings_for(outputs=outputs)
    if not warehouse_exists(settings.warehouse):
        out.print("No warehouse yet: run `coforms run` first.")
        return
    with Warehouse(settings.warehouse, read_only=True) as warehouse:
        rows = exception_rows(warehouse, state=None if all_ else "open")
    if not rows:
        out.print("[green]No open exceptions.[/]")
        return
    out.print(f"[bold]{'All' if all_ else 'Open'} exceptions: {len(rows)}[/] (grouped by sender: email each once)")
    for sender, group in itertools.groupby(rows, key=lambda r: r.sender or ""):
        group = list(group)
        forms = len({r.submission_id for r in group if r.is_form})
        not_read = len({r.submission_id for r in group if not r.is_form})
        out.print(
            f"\n[bold]{sender or '(no email: a file put in the inbox)'}[/]: {forms} form(s) to correct"
            + (f", {not_read} file(s) not read as forms" if not_read else "")
            + f"; {len(group)} problem(s)"
        )
        table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1))
        for heading in ("Id", "File", "Severity", "Problem", "What is wrong", "Where"):
            # ids and codes are searched for and copied: never broken over lines
            table.add_column(heading, overflow="fold", no_wrap=heading in ("Id", "Severity", "Problem"))
        for row in group:
            table.add_row(
                str(row.submission_id),
                row.source_file,
                row.severity + _how_resolved(row),
                row.code,
                row.message,
                row.where,
            )
        out.print(table)
