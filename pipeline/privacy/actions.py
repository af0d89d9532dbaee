"""The three data protection commands as the CLI runs them: under the run lock (a scheduled run
never sees half an erasure), and the reports rewritten after a change (they name people too)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.privacy import access, erase, retention
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse, warehouse_exists


class NoWarehouseYet(Exception):
    plain_prefix = ""


class DoneReportsNot(Exception):
    """The change was made and recorded, but a report could not be rewritten."""

    plain_prefix = ""


@contextmanager
def _holding(settings: Settings) -> Iterator[Warehouse]:
    from pipeline.store.lock import exclusive_run

    with exclusive_run(settings.outputs, settings.lock_wait_seconds, settings.warehouse):
        if not warehouse_exists(settings.warehouse):
            raise NoWarehouseYet("There is no warehouse yet: run `coforms run` first.")
        with Warehouse(settings.warehouse) as warehouse:
            yield warehouse


def _rewrite_reports(warehouse: Warehouse, settings: Settings, message: str) -> str:
    from pipeline.reports.write import ReportsNotWritten, refresh_reports
    from pipeline.workspace import private_tmp

    try:
        with private_tmp(settings.outputs):
            refresh_reports(warehouse, settings, force=True)
    except ReportsNotWritten as exc:
        raise DoneReportsNot(f"{message}\nBut some reports were not rewritten: {exc}") from exc
    return message + "\nReports rewritten."


def run_retention(settings: Settings, apply: bool, actor: str, now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with _holding(settings) as warehouse:
        found = retention.plan(warehouse, settings, now)
        lines = retention.describe_plan(found)
        if not apply:
            return "\n".join(
                [
                    "Dry run: nothing was changed. Retention would do this:",
                    *lines,
                    "To do it: coforms retention --apply",
                ]
            )
        if found.nothing:
            from pipeline.privacy.originals import sweep

            sweep(warehouse, settings.outputs)
            return "\n".join([*lines, "Nothing to do: every kind of data is within its retention period."])
        done = retention.apply(warehouse, settings.outputs, found, actor)
        return _rewrite_reports(warehouse, settings, "\n".join([*lines, *retention.describe_done(done)]))


def run_erase(settings: Settings, name: str | None, emails: list[str], reason: str, actor: str, dry_run: bool) -> str:
    with _holding(settings) as warehouse:
        person = access.person_to_find(settings.outputs, name, emails)
        done = erase.erase(warehouse, settings.outputs, person, reason, actor, dry_run)
        message = "\n".join(done.describe(dry_run))
        return message if dry_run else _rewrite_reports(warehouse, settings, message)


def run_person(settings: Settings, name: str | None, emails: list[str], folder: Path | None) -> access.Answer:
    """Changes nothing in the warehouse. (It is opened as a run opens it, not read-only: an embedded
    warehouse made by an older coforms is brought up to this schema first; a run writing to it
    meanwhile makes this say so.)"""
    if not warehouse_exists(settings.warehouse):
        raise NoWarehouseYet("There is no warehouse yet: run `coforms run` first.")
    with Warehouse(settings.warehouse) as warehouse:
        person = access.person_to_find(settings.outputs, name, emails)
        answer = access.find_person(warehouse, settings.outputs, person)
        return access.export(warehouse, settings.outputs, answer, folder or access.default_folder(settings.outputs))
