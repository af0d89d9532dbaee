"""Prefect flows: thin wrappers that call the plain pipeline functions.

One task per batch of files (not per file: thousands of task runs overwhelm a SQLite-backed
Prefect server), then one task for the reports, then artifacts for the run page. No
credentials or paths are flow parameters: they come from Settings.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE as NO_CACHE
from prefect.client.schemas.objects import (
    ConcurrencyLimitConfig,
    ConcurrencyLimitStrategy,
)
from prefect.schedules import Cron

from pipeline.intake.inbox import InboxItem, settled_inbox
from pipeline.records import RunSummary
from pipeline.reports.run_summary import summary_markdown
from pipeline.reports.write import write_reports
from pipeline.runtime.run import batches, process_items
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse
from pipeline.workspace import prepare_outputs, private_tmp

DEPLOYMENT_NAME = "coforms-every-15-minutes"


@task(name="process-batch", cache_policy=NO_CACHE)
def process_batch(items: list[InboxItem], settings: Settings) -> RunSummary:
    with Warehouse(settings.warehouse) as warehouse:
        return process_items(items, warehouse, settings)


@task(name="write-reports", cache_policy=NO_CACHE)
def write_reports_task(settings: Settings, submission_ids: list[int]) -> list[str]:
    from pipeline.admin.replies import write_reply_drafts

    with Warehouse(settings.warehouse) as warehouse:
        reports = [str(p) for p in write_reports(warehouse, settings.outputs, settings)]
        write_reply_drafts(warehouse, submission_ids, settings)
        return reports


@task(name="fetch-mail", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def fetch_mail_task(settings: Settings) -> int:
    from pipeline.intake.imap import fetch_mail

    return fetch_mail(settings).fetched


@flow(name="coforms-run", log_prints=True)
def coforms_run_flow() -> dict:
    from pipeline.store.lock import exclusive_run

    settings = Settings()
    # the deployment never overlaps itself; the lock also keeps out a `coforms run` by hand
    with exclusive_run(settings.outputs, settings.lock_wait_seconds, settings.warehouse), \
            private_tmp(settings.outputs):
        prepare_outputs(settings.outputs)
        return _flow_body(settings)


def _flow_body(settings: Settings) -> dict:
    if settings.imap_host:  # mail first, so this run reads it
        fetch_mail_task(settings)
    items = settled_inbox(settings.inbox, settings.settle_seconds)
    summary = None
    for batch in batches(items, settings.batch_size):
        result = process_batch(batch, settings)
        if summary is None:
            summary = result
        else:
            summary.merge(result)
    if summary is None:
        import datetime as dt
        summary = RunSummary(started_at=dt.datetime.now(dt.timezone.utc))
    reports = write_reports_task(settings, [o.submission_id for o in summary.outcomes])
    create_markdown_artifact(summary_markdown(summary, reports), key="coforms-run-summary",
                             description="What this run received, loaded and held")
    problems = [{"file": o.source_file, "email": o.container_file or "", "submission": o.submission_id,
                 "status": o.status, "severity": p.severity.value, "code": p.code.value,
                 "where": p.location or "", "message": p.message}
                for o in summary.outcomes for p in o.problems]
    if problems:
        create_table_artifact(problems, key="coforms-run-problems", description="Problems found in this run")
    return {"received": summary.received, "loaded": summary.count("loaded"), "held": summary.count("held"),
            "rejected": summary.count("rejected"), "duplicate": summary.count("duplicate"),
            "warnings": summary.warnings, "pounds_loaded": str(summary.pounds_loaded)}


def build_deployment(settings: Settings):
    """The scheduled deployment: cron from settings, never two runs at once."""
    return coforms_run_flow.to_deployment(
        name=DEPLOYMENT_NAME,
        schedules=[Cron(settings.schedule_cron, timezone=settings.timezone)],
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
        description="Reads co-production forms from the inbox into the warehouse and rewrites the reports.",
        tags=["coforms"],
    )
