"""`coforms check`: the accounting invariant, verified against the archive, the inbox and
the warehouse. Every file that entered is one intake; every part of it (each email
attachment) is exactly one submission, loaded / held / duplicate / superseded / rejected; the
original bytes of all of them are in the archive (unless deleted on purpose: `coforms retention`,
`coforms erase`); nothing started is missing from both the warehouse and the inbox. And the
reports show the warehouse as it is now (pipeline.reports.freshness)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from pipeline.intake.archive import is_archived
from pipeline.intake.inbox import list_inbox
from pipeline.reports import queries
from pipeline.reports.freshness import REPORT_FILES, stale_reports
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse, warehouse_exists


@dataclass
class CheckReport:
    intakes: int = 0
    statuses: Counter = field(default_factory=Counter)
    pending_files: int = 0  # in the inbox, not started
    interrupted_files: int = 0  # in the inbox, started by a run that stopped: the next run resumes
    has_warehouse: bool = True
    violations: list[str] = field(default_factory=list)  # in the accounting
    stale_reports: list[str] = field(default_factory=list)  # reports that do not show the warehouse as it is

    @property
    def accounted(self) -> bool:
        """Everything that came in is accounted for (true even straight after a run was killed)."""
        return not self.violations

    @property
    def ok(self) -> bool:
        return self.accounted and not self.stale_reports


def check(settings: Settings, today: dt.date | None = None) -> CheckReport:
    report = CheckReport()
    if not warehouse_exists(settings.warehouse):
        report.has_warehouse = False
        report.pending_files = len(list_inbox(settings.inbox))
        return report
    inbox_names = {item.name for item in list_inbox(settings.inbox)}
    with Warehouse(settings.warehouse, read_only=True) as wh:
        intakes = queries.intake_records(wh)
        parts = {(intake_id, part_no): n for intake_id, part_no, n in queries.submissions_per_intake_part(wh)}
        submissions = queries.submission_files(wh)
        deleted = queries.deleted_original_files(wh)  # on purpose (retention, erasure): not missing
        stale = stale_reports(wh, settings, today or dt.date.today(), REPORT_FILES)
    report.intakes = len(intakes)
    started_names = set()
    for intake_id, sha, name, n_parts, finished in intakes:
        started_names.add(name)
        if sha not in deleted and not is_archived(settings.archive_dir, sha):
            report.violations.append(f"{name}: the original (sha256 {sha[:12]}) is not in the archive")
        recorded = [parts.get((intake_id, p), 0) for p in range(n_parts)]
        if any(n > 1 for n in recorded):
            report.violations.append(f"{name}: a part was recorded more than once {recorded}")
        if finished is not None and any(n == 0 for n in recorded):
            report.violations.append(
                f"{name}: finished, but parts {[p for p, n in enumerate(recorded) if n == 0]} were never recorded"
            )
        if finished is None:
            if name in inbox_names:
                report.interrupted_files += 1
            else:
                report.violations.append(f"{name}: started, not finished, and no longer in the inbox (lost)")
    report.pending_files = len(inbox_names - started_names)
    for submission_id, sha, status in submissions:
        report.statuses[status] += 1
        if sha not in deleted and not is_archived(settings.archive_dir, sha):
            report.violations.append(f"submission {submission_id}: its file (sha256 {sha[:12]}) is not archived")
    report.stale_reports = stale
    return report
