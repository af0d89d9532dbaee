"""Prefect flows: thin wrappers that call the plain pipeline functions.

One task per batch of files (not per file: thousands of task runs overwhelm a SQLite-backed
Prefect server), then one task for the reports, then artifacts for the run page. No
credentials or paths are flow parameters: they come from Settings.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE as NO_CACHE
from prefect.client.schemas.objects import (
    ConcurrencyLimitConfig,
    ConcurrencyLimitStrategy,
)
from prefect.schedules import Cron

from pipeline.intake.inbox import InboxItem
from pipeline.records import RunSummary
from pipeline.reports.run_summary import summary_markdown
from pipeline.runtime.run import (
    batches,
    empty_summary,
    finish_run,
    holding_the_run,
    process_items,
    start_run,
)
from pipeline.settings import Settings
from pipeline.store.lock import warehouse_turn
from pipeline.store.warehouse import Warehouse

DEPLOYMENT_NAME = "coforms-every-15-minutes"


@task(name="process-batch", cache_policy=NO_CACHE)
def process_batch(items: list[InboxItem], settings: Settings, today: dt.date) -> RunSummary:
    with Warehouse(settings.warehouse) as warehouse:
        return process_items(items, warehouse, settings, today)


@task(name="write-reports", cache_policy=NO_CACHE)
def write_reports_task(settings: Settings, summary: RunSummary, today: dt.date) -> list[str]:
    """Reply drafts, and the reports rewritten if out of date. A report that cannot be written (open
    in Excel, a full disk) fails the task after the others are written: the run page shows it red,
    and the next run writes it again."""
    with Warehouse(settings.warehouse) as warehouse:
        finish_run(warehouse, settings, summary, today)
    if summary.reports_error:
        raise ReportsNotWritten(summary.reports_error)
    return summary.reports_written


class ReportsNotWritten(Exception):
    """Some reports could not be written; the message names them and what to do."""


@task(name="fetch-mail", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def fetch_mail_task(settings: Settings) -> int:
    from pipeline.intake.mailbox import fetch_new_mail

    return fetch_new_mail(settings).fetched


@flow(name="coforms-run", log_prints=True)
def coforms_run_flow() -> dict:
    """The steps of `coforms run` (pipeline.runtime.run), as Prefect tasks: mail fetched first
    (with retries), one task per batch of files, one for the reports; artifacts for the run page."""
    settings = Settings()
    # the deployment never overlaps itself; the lock also keeps out a `coforms run` by hand
    with holding_the_run(settings):
        if settings.imap_host or settings.mail_source == "graph":  # mail first, so this run reads it
            fetch_mail_task(settings)
        start = start_run(settings)
        summary, reports = empty_summary(), []
        if not start.nothing_to_do:
            with warehouse_turn(settings.warehouse, settings.lock_wait_seconds):
                for batch in batches(start.items, settings.batch_size):
                    summary.merge(process_batch(batch, settings, start.today))
                reports = write_reports_task(settings, summary, start.today)
        _publish(summary, reports)
    return {
        "received": summary.received,
        "loaded": summary.count("loaded"),
        "held": summary.count("held"),
        "rejected": summary.count("rejected"),
        "duplicate": summary.count("duplicate"),
        "warnings": summary.warnings,
        "pounds_loaded": str(summary.pounds_loaded),
    }


def _publish(summary: RunSummary, reports: list[str]) -> None:
    """The run's page in Prefect: what came in, and a table of the problems found."""
    create_markdown_artifact(
        summary_markdown(summary, reports),
        key="coforms-run-summary",
        description="What this run received, loaded and held",
    )
    problems = [
        {
            "file": o.source_file,
            "email": o.container_file or "",
            "submission": o.submission_id,
            "status": o.status,
            "severity": p.severity.value,
            "code": p.code.value,
            "where": p.location or "",
            "message": p.message,
        }
        for o in summary.outcomes
        for p in o.problems
    ]
    if problems:
        create_table_artifact(problems, key="coforms-run-problems", description="Problems found in this run")


def build_deployment(settings: Settings):
    """The scheduled deployment: cron from settings, never two runs at once."""
    return coforms_run_flow.to_deployment(
        name=DEPLOYMENT_NAME,
        schedules=[Cron(settings.schedule_cron, timezone=settings.timezone)],
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
        description="Reads co-production forms from the inbox into the warehouse and rewrites the reports.",
        tags=["coforms"],
    )
