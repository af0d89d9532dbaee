"""`coforms`: the command line. Other tools call it, so its commands and exit codes are stable:
exit 0 when the run itself worked (whatever the forms held), 1 when it failed."""

from __future__ import annotations

import itertools
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from pipeline.files import private_dir
from pipeline.settings import Settings

app = typer.Typer(
    help="Co-production forms: from the inbox to the warehouse and the reports.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)


def _settings(inbox: Path | None = None, outputs: Path | None = None) -> Settings:
    overrides = {k: v for k, v in {"inbox": inbox, "outputs": outputs}.items() if v is not None}
    return Settings(**overrides)


_LOG_HANDLER = "coforms-file-log"


def _configure_logging(settings: Settings) -> None:
    """File names and problem codes go to OUTPUTS/coforms.log; form contents never do."""
    os.umask(0o077)  # everything this process writes holds personal data: private to its owner
    private_dir(settings.outputs)
    log_file = settings.outputs / "coforms.log"
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _LOG_HANDLER]:
        root.removeHandler(old)
        old.close()
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.set_name(_LOG_HANDLER)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    os.chmod(log_file, 0o600)


@app.command()
def run(
    inbox: Annotated[Path | None, typer.Option(help="Folder to read (default: setting 'inbox').")] = None,
    outputs: Annotated[Path | None, typer.Option(help="Folder for warehouse and reports.")] = None,
) -> None:
    """Process everything in the inbox once, then rewrite the reports and the summary page."""
    settings = _settings(inbox, outputs)
    _start_parsers_early(settings)
    from pipeline.reports.run_summary import problem_counts, summary_lines
    from pipeline.runtime.run import run_pipeline
    from pipeline.store.lock import RunInProgress

    _configure_logging(settings)
    progress = Progress(
        TextColumn("Reading forms"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task("forms", total=None)
            summary = run_pipeline(
                settings,
                on_start=lambda n: progress.update(task, total=n),
                on_item=lambda _item: progress.advance(task),
            )
    except RunInProgress as exc:
        console.print(f"[yellow]{exc}[/]")
        raise typer.Exit(2) from exc
    except Exception as exc:  # infrastructure: disk, warehouse, permissions
        logging.getLogger(__name__).exception("run failed")
        console.print(f"[bold red]The run failed:[/] {exc}")
        raise typer.Exit(1) from exc

    table = Table(title="Co-production forms: this run", show_header=False)
    for label, value in summary_lines(summary):
        table.add_row(label, value)
    out = Console()
    out.print(table)
    counts = problem_counts(summary)
    if counts:
        out.print("Problems: " + ", ".join(f"{code} x{n}" for code, n in counts.most_common()))
    out.print(
        f"Reports: {settings.outputs / 'exceptions.xlsx'}, {settings.outputs / 'voucher_reconciliation.xlsx'}, "
        f"{settings.outputs / 'summary.html'}"
    )


def _start_parsers_early(settings: Settings) -> None:
    """With files in the inbox, the parsers' fork server starts now (pipeline.runtime.parallel.warm_up):
    it loads the readers while this process loads the rest of the pipeline."""
    from pipeline.intake.inbox import list_inbox
    from pipeline.runtime.parallel import warm_up
    from pipeline.workspace import private_tmp

    try:
        files = len(list_inbox(settings.inbox))
        with private_tmp(settings.outputs):  # the fork server's socket: under outputs/tmp too
            warm_up(settings.workers, files, settings.dask_address)
    except OSError:
        return  # an unreadable inbox or outputs folder: the run itself says so, in plain words


@app.command("check")
def check_command(
    inbox: Annotated[Path | None, typer.Option(help="Folder to read (default: setting 'inbox').")] = None,
    outputs: Annotated[Path | None, typer.Option(help="Folder for warehouse and reports.")] = None,
) -> None:
    """Verify that every file that came in is accounted for, exactly once, with its original kept."""
    from pipeline.admin.check import check

    report = check(_settings(inbox, outputs))
    out = Console()
    out.print(
        f"Files taken in: {report.intakes}; submissions: "
        + (", ".join(f"{n} {status}" for status, n in sorted(report.statuses.items())) or "none")
        + f"; waiting in the inbox: {report.pending_files}; interrupted (resumed next run): "
        f"{report.interrupted_files}."
    )
    if report.ok:
        out.print("[green]Everything that came in is accounted for.[/]")
        return
    for violation in report.violations:
        out.print(f"[red]- {violation}[/]")
    raise typer.Exit(1)


Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit table).")]
By = Annotated[str | None, typer.Option("--by", help="Who decided (default: your login name).")]


def _admin(action, *args) -> None:
    from pipeline.admin.actions import AdminError, run_admin_action
    from pipeline.store.lock import RunInProgress

    settings = Settings()
    _configure_logging(settings)
    try:
        Console().print(run_admin_action(settings, action, *args))
    except RunInProgress as exc:
        console.print(f"[yellow]{exc}[/]")
        raise typer.Exit(2) from exc
    except AdminError as exc:
        console.print(f"[bold red]Not done:[/] {exc}")
        raise typer.Exit(1) from exc


@app.command()
def accept(submission_id: int, reason: Reason, by: By = None) -> None:
    """Load a held form as it is (its errors accepted, values that failed left empty)."""
    from pipeline.admin.actions import accept as accept_action
    from pipeline.admin.actions import default_actor

    _admin(accept_action, submission_id, reason, by or default_actor())


@app.command()
def reject(submission_id: int, reason: Reason, by: By = None) -> None:
    """Keep a form out of the warehouse for good and close its exceptions."""
    from pipeline.admin.actions import default_actor
    from pipeline.admin.actions import reject as reject_action

    _admin(reject_action, submission_id, reason, by or default_actor())


@app.command()
def supersede(
    old_id: int,
    new_id: int,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (kept in the audit table).")
    ] = "the sender sent a correction under another name",
    by: By = None,
) -> None:
    """Say that submission NEW_ID corrects OLD_ID (OLD_ID leaves the warehouse views)."""
    from pipeline.admin.actions import default_actor
    from pipeline.admin.actions import supersede as supersede_action

    _admin(supersede_action, old_id, new_id, reason, by or default_actor())


@app.command()
def exceptions(
    all_: Annotated[bool, typer.Option("--all", help="Resolved ones too.")] = False,
    outputs: Annotated[Path | None, typer.Option(help="Folder for warehouse and reports.")] = None,
) -> None:
    """List the open exceptions, grouped by sender (so each can be emailed once)."""
    from pipeline.reports.exceptions import exception_rows
    from pipeline.store.database import WarehouseBusy
    from pipeline.store.warehouse import Warehouse, warehouse_exists

    settings = _settings(outputs=outputs)
    if not warehouse_exists(settings.warehouse):
        Console().print("No warehouse yet: run `coforms run` first.")
        return
    try:
        with Warehouse(settings.warehouse, read_only=True) as warehouse:
            rows = exception_rows(warehouse, state=None if all_ else "open")
    except WarehouseBusy as exc:  # a run holds the embedded warehouse open for writing
        console.print("[yellow]A run is working on the warehouse; try again when it has finished.[/]")
        raise typer.Exit(2) from exc
    out = Console()
    if not rows:
        out.print("[green]No open exceptions.[/]")
        return
    out.print(f"[bold]{'All' if all_ else 'Open'} exceptions: {len(rows)}[/] (grouped by sender: email each once)")
    for sender, group in itertools.groupby(rows, key=lambda r: r.sender or ""):
        group = list(group)
        forms = len({r.submission_id for r in group})
        out.print(
            f"\n[bold]{sender or '(no email: a file put in the inbox)'}[/]: {forms} form(s), {len(group)} problem(s)"
        )
        table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1))
        for heading in ("Id", "File", "Severity", "Problem", "What is wrong", "Where"):
            # ids and codes are searched for and copied: never broken over lines
            table.add_column(heading, overflow="fold", no_wrap=heading in ("Id", "Severity", "Problem"))
        for row in group:
            table.add_row(
                str(row.submission_id),
                row.source_file,
                row.severity + ("" if row.state == "open" else f" ({row.state})"),
                row.code,
                row.message,
                row.location or "",
            )
        out.print(table)


@app.command()
def migrate(
    outputs: Annotated[Path | None, typer.Option(help="Folder for warehouse and reports.")] = None,
) -> None:
    """Create the warehouse's tables and views, or upgrade them to this version of coforms
    (needed for a PostgreSQL warehouse; an embedded one is upgraded by `coforms run` itself)."""
    from pipeline.store import database
    from pipeline.store.lock import RunInProgress, exclusive_run

    settings = _settings(outputs=outputs)
    _configure_logging(settings)
    url = database.warehouse_url(settings.warehouse)
    where = database.sa.engine.make_url(url).render_as_string(hide_password=True)
    engine = database.make_engine(url)
    try:
        with exclusive_run(settings.outputs, settings.lock_wait_seconds, settings.warehouse), engine.connect() as conn:
            before, after = database.migrate(conn)
    except RunInProgress as exc:
        console.print(f"[yellow]{exc}[/]")
        raise typer.Exit(2) from exc
    except Exception as exc:  # cannot connect, no rights to create a schema...
        logging.getLogger(__name__).exception("migrate failed")
        console.print(f"[bold red]The warehouse could not be migrated:[/] {exc}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    if before == after:
        Console().print(f"Warehouse {where}: schema {after}, already up to date.")
    else:
        Console().print(f"Warehouse {where}: schema {before or '(new)'} -> {after}.")


@app.command()
def fetch() -> None:
    """Bring new mail from the co-production mailbox into the inbox (settings 'imap_*')."""
    from pipeline.intake.imap import MailFetchError, fetch_mail

    settings = Settings()
    _configure_logging(settings)
    try:
        summary = fetch_mail(settings)
    except MailFetchError as exc:
        console.print(f"[bold red]Fetching mail failed:[/] {exc}")
        raise typer.Exit(1) from exc
    Console().print(
        f"Fetched {summary.fetched} new message(s) into {settings.inbox}"
        + (
            f"; {summary.already_fetched} fetched before were moved to {settings.imap_processed_folder}"
            if summary.already_fetched
            else ""
        )
        + f" in {summary.seconds:.1f}s."
    )


@app.command()
def templates(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the blank forms to.")] = Path("templates"),
) -> None:
    """Write the official blank forms: Word and fillable PDF for all four, Excel for vouchers and monitoring."""
    from pipeline.templates import write_templates

    for path in write_templates(out):
        Console().print(str(path))


@app.command()
def serve() -> None:
    """Run on the schedule (setting 'schedule_cron', default every 15 minutes) against a Prefect server."""
    settings = Settings()
    os.environ.setdefault("PREFECT_API_URL", settings.prefect_api_url)
    from prefect import serve as prefect_serve

    from flows.coforms_flow import build_deployment

    console.print(
        f"Serving the pipeline on '{settings.schedule_cron}' ({settings.timezone}) "
        f"against {os.environ['PREFECT_API_URL']}. Stop with Ctrl+C."
    )
    prefect_serve(build_deployment(settings), limit=1)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
