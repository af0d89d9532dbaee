"""Setting up and running for real: the warehouse's schema, mail, blank forms, the schedule."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.app import InboxOption, OutputsOption, command, configure_logging, console, out, settings_for


class ServerUnreachable(Exception):
    """The Prefect server `coforms serve` needs does not answer."""


@command()
def migrate(outputs: OutputsOption = None) -> None:
    """Create or upgrade the warehouse's tables and views (for PostgreSQL; `coforms run` upgrades an embedded one)."""
    from pipeline.store import database
    from pipeline.store.lock import exclusive_run

    settings = settings_for(outputs=outputs, outputs_must_exist=False)
    configure_logging(settings)
    url = database.warehouse_url(settings.warehouse)
    where = database.sa.engine.make_url(url).render_as_string(hide_password=True)
    engine = database.make_engine(url)
    try:
        with exclusive_run(settings.outputs, settings.lock_wait_seconds, settings.warehouse), engine.connect() as conn:
            before, after = database.migrate(conn)
    finally:
        engine.dispose()
    if before == after:
        out.print(f"Warehouse {where}: schema {after}, already up to date.")
    else:
        out.print(f"Warehouse {where}: schema {before or '(new)'} -> {after}.")


@command()
def fetch(inbox: InboxOption = None, outputs: OutputsOption = None) -> None:
    """Bring new mail from the co-production mailbox into the inbox (IMAP, or Microsoft Graph: mail_source)."""
    from pipeline.intake.mailbox import fetch_new_mail

    settings = settings_for(inbox, outputs, outputs_must_exist=False)  # the fetch ledger lives in outputs
    configure_logging(settings)
    summary = fetch_new_mail(settings)
    out.print(
        f"Fetched {summary.fetched} new message(s) from {summary.source} into {settings.inbox}"
        + (
            f"; {summary.already_fetched} fetched before were moved to {settings.imap_processed_folder}"
            if summary.already_fetched
            else ""
        )
        + f" in {summary.seconds:.1f}s."
    )


@command()
def templates(
    folder: Annotated[Path, typer.Option("--out", help="Folder to write the blank forms to.")] = Path("templates"),
) -> None:
    """Write the official blank forms: Word and fillable PDF for all four, Excel for vouchers and monitoring."""
    from pipeline.templates import write_templates

    for path in write_templates(folder):
        out.print(str(path))


@command()
def serve(inbox: InboxOption = None, outputs: OutputsOption = None) -> None:
    """Run on the schedule (setting 'schedule_cron', default every 15 minutes) against a Prefect server."""
    settings = settings_for(inbox, outputs, outputs_must_exist=False)
    # the flow reads its settings from the environment (it may run in another process)
    for name, value in (("COFORMS_INBOX", inbox), ("COFORMS_OUTPUTS", outputs)):
        if value is not None:
            os.environ[name] = str(value)
    os.environ.setdefault("PREFECT_API_URL", settings.prefect_api_url)
    _require_server(os.environ["PREFECT_API_URL"])
    from prefect import serve as prefect_serve

    from flows.coforms_flow import build_deployment

    console.print(
        f"Serving the pipeline on '{settings.schedule_cron}' ({settings.timezone}) "
        f"against {os.environ['PREFECT_API_URL']}. Stop with Ctrl+C."
    )
    prefect_serve(build_deployment(settings), limit=1)


def _require_server(api_url: str) -> None:
    import httpx

    try:
        httpx.get(api_url.rstrip("/") + "/health", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        raise ServerUnreachable(
            f"No Prefect server answers at {api_url}: start one (`make prefect-server`, or `prefect server start`) "
            "or set the setting prefect_api_url to yours."
        ) from exc
