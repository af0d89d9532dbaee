"""One pass over the inbox: archive, parse, validate, commit, then clear the inbox item.

Plain functions, called by `coforms run` directly and by the Prefect flow (one task per
batch). A file that breaks our code is recorded as rejected with the error named, and the
batch goes on: the run fails only when the infrastructure does (disk, warehouse).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from pipeline.archive import archive_bytes, archive_path
from pipeline.crash import crash_point
from pipeline.ingest import Attachment, InboxItem, Provenance, attachments_of, list_inbox, received_time
from pipeline.mail import sender_allowlist
from pipeline.parallel import Parser
from pipeline.parse import ParsedFile
from pipeline.problems import Problem, ProblemCode, Severity, make_problem
from pipeline.settings import Settings
from pipeline.validate import Context
from pipeline.warehouse import Warehouse, claim_key

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    source_file: str
    container_file: str | None
    submission_id: int
    status: str
    form_type: str | None
    problems: list[Problem]
    amount: Decimal = Decimal("0.00")


@dataclass
class RunSummary:
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    files: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def received(self) -> int:
        return len(self.outcomes)

    @property
    def warnings(self) -> int:
        return sum(1 for o in self.outcomes for p in o.problems if p.severity is Severity.WARNING)

    @property
    def pounds_loaded(self) -> Decimal:
        return sum((o.amount for o in self.outcomes if o.status == "loaded"), Decimal("0.00"))

    def merge(self, other: RunSummary) -> None:
        self.files += other.files
        self.outcomes.extend(other.outcomes)


def _cross_form_claims(parsed: ParsedFile, warehouse: Warehouse) -> list[Problem]:
    """possible_duplicate_claim for lines already loaded from another form."""
    if parsed.form_type != "voucher" or parsed.form is None:
        return []
    keyed = [(line, claim_key(line.name, line.date, line.activity)) for line in parsed.form.lines]
    earlier = warehouse.loaded_claims(k for _, k in keyed)
    problems = []
    for line, key in keyed:
        if key in earlier:
            problems.append(make_problem(
                ProblemCode.POSSIBLE_DUPLICATE_CLAIM,
                f"Row {line.line_no}: {line.name}, {line.date:%d/%m/%Y}, {line.activity} was already claimed on "
                f"\"{earlier[key][1]}\" (submission {earlier[key][0]}).",
                field=f"lines.{line.line_no}", location=parsed.locations.get(f"lines.{line.line_no}"),
                value=f"{line.name} | {line.date:%d/%m/%Y} | {line.activity}"))
    return problems


def _record(attachment: Attachment, parsed: ParsedFile | None, warehouse: Warehouse,
            intake: tuple[int, int]) -> Outcome:
    """Record one attachment (parsed already, or None when its bytes were seen before)."""
    if warehouse.first_with_sha256(attachment.sha256) is not None:
        parsed = None  # identical bytes: a duplicate, whatever was read
    extra = _cross_form_claims(parsed, warehouse) if parsed else []
    crash_point("after_parse")
    recorded = warehouse.record(attachment.provenance, attachment.sha256, parsed, extra, intake=intake)
    crash_point("after_record")
    problems = (list(parsed.problems) + extra) if parsed and recorded.status != "duplicate" else []
    amount = parsed.form.amount_sum if parsed and parsed.form_type == "voucher" and parsed.form else Decimal("0.00")
    log.info("%s -> submission %s %s (%d problems; %s, parse %.0f ms)", attachment.provenance.source_file,
             recorded.submission_id, recorded.status, len(problems), parsed.format if parsed else "-",
             parsed.parse_ms if parsed else 0.0)
    return Outcome(attachment.provenance.source_file, attachment.provenance.container_file,
                   recorded.submission_id, recorded.status, parsed.form_type if parsed else None, problems, amount)


def _file_sha256(path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _too_large(item: InboxItem, warehouse: Warehouse, settings: Settings, sha: str,
               intake: tuple[int, int]) -> Outcome:
    """Archive a file too large to read (streamed, never in memory) and record it as rejected."""
    target = archive_path(settings.archive_dir, sha)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(item.path, target)
        target.chmod(0o600)
    problem = make_problem(ProblemCode.TOO_LARGE,
                           f"The file is {item.size / 1e6:.1f} MB; the limit is {settings.max_file_bytes / 1e6:.0f} MB.")
    provenance = Provenance(item.path.name, received_at=received_time(item.path))
    recorded = warehouse.record(provenance, sha, ParsedFile(None, None, [problem]), intake=intake)
    return Outcome(item.path.name, None, recorded.submission_id, recorded.status, None,
                   [problem] if recorded.status != "duplicate" else [])


@dataclass
class _Intake:
    item: InboxItem
    intake_id: int
    parts: list[tuple[int, Attachment]]  # the parts still to record
    too_large_sha: str | None = None


def _take_in(item: InboxItem, warehouse: Warehouse, settings: Settings, allowed) -> _Intake:
    """Read one inbox file, archive it and what it holds, and open (or resume) its intake."""
    stat = item.path.stat()
    attachments = attachments_of(item, settings.max_file_bytes, allowed)
    if attachments is None:
        sha = _file_sha256(item.path)
        intake_id, done = warehouse.begin_intake(sha, item.path.name, stat.st_mtime_ns, stat.st_size, 1)
        return _Intake(item, intake_id, [], sha if 0 not in done else None)
    data = item.path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    archive_bytes(settings.archive_dir, sha, data)  # the email (or file) as it came: kept first
    intake_id, done = warehouse.begin_intake(sha, item.path.name, stat.st_mtime_ns, stat.st_size, len(attachments))
    parts = []
    for part_no, attachment in enumerate(attachments):
        if part_no in done:
            continue  # recorded by a run that was killed before it finished this file
        crash_point("before_archive")
        archive_bytes(settings.archive_dir, attachment.sha256, attachment.data)
        crash_point("after_archive")
        parts.append((part_no, attachment))
    return _Intake(item, intake_id, parts)


def _process_batch(items: list[InboxItem], warehouse: Warehouse, settings: Settings, today: dt.date,
                   parser: Parser, summary: RunSummary, on_item) -> None:
    allowed = sender_allowlist(settings.allowed_senders)
    with warehouse.transaction():  # one transaction per batch: all of it, or (after a crash) none
        known = warehouse.known_projects()  # a snapshot: the same answer on one core or many
        intakes: list[_Intake] = []
        pending: dict[tuple[int, int], object] = {}  # (intake, part) -> the parse under way
        for item in items:
            if not item.path.exists():
                continue  # taken by another run
            intake = _take_in(item, warehouse, settings, allowed)
            for part_no, attachment in intake.parts:
                if attachment.problem is None and warehouse.first_with_sha256(attachment.sha256) is None:
                    ctx = Context(today=today, voucher_line_cap=settings.voucher_line_cap, known_projects=known,
                                  subject=attachment.provenance.subject)
                    # parsing starts now, while the next files are taken in
                    pending[(len(intakes), part_no)] = parser.submit(attachment.data, ctx, len(items))
            intakes.append(intake)
        for n, intake in enumerate(intakes):  # recorded in arrival order, as the results come
            if intake.too_large_sha:
                summary.outcomes.append(_too_large(intake.item, warehouse, settings, intake.too_large_sha,
                                                   (intake.intake_id, 0)))
            for part_no, attachment in intake.parts:
                future = pending.pop((n, part_no), None)
                result = future.result() if future is not None else None
                if attachment.problem is not None:
                    result = ParsedFile(None, None, [attachment.problem])  # decided before reading: not opened
                summary.outcomes.append(_record(attachment, result, warehouse, (intake.intake_id, part_no)))
            warehouse.finish_intake(intake.intake_id)
        crash_point("before_batch_commit")
    for intake in intakes:  # only now that the batch is committed do its files leave the inbox
        crash_point("before_unlink")
        intake.item.path.unlink()
        crash_point("after_unlink")
        summary.files += 1
        if on_item:
            on_item(intake.item)


def process_items(items: Iterable[InboxItem], warehouse: Warehouse, settings: Settings, today: dt.date | None = None,
                  on_item: Callable[[InboxItem], None] | None = None) -> RunSummary:
    """Process inbox items in batches: read and archive, parse on every core, record in order in one
    transaction per batch, then clear the batch's files from the inbox."""
    today = today or dt.date.today()
    summary = RunSummary(started_at=dt.datetime.now(dt.timezone.utc))
    with Parser(settings.workers) as parser:
        for batch in batches(list(items), settings.batch_size):
            _process_batch(batch, warehouse, settings, today, parser, summary, on_item)
    summary.finished_at = dt.datetime.now(dt.timezone.utc)
    return summary


def batches(items: list[InboxItem], size: int) -> list[list[InboxItem]]:
    return [items[i:i + size] for i in range(0, len(items), size)]



def run_pipeline(settings: Settings, today: dt.date | None = None,
                 on_start: Callable[[int], None] | None = None,
                 on_item: Callable[[InboxItem], None] | None = None) -> RunSummary:
    """The whole job without Prefect: every pending file, then both reports."""
    from pipeline.lock import exclusive_run
    from pipeline.replies import write_reply_drafts
    from pipeline.reports.write import write_reports

    with exclusive_run(settings.outputs, settings.lock_wait_seconds):
        return _run_locked(settings, today, on_start, on_item, write_reports, write_reply_drafts)


def _run_locked(settings, today, on_start, on_item, write_reports, write_reply_drafts) -> RunSummary:
    items = list_inbox(settings.inbox)
    if on_start:
        on_start(len(items))
    reports_exist = all((settings.outputs / n).exists() for n in ("exceptions.xlsx", "voucher_reconciliation.xlsx"))
    if not items and reports_exist:
        # nothing new: the warehouse and the reports are as the last run left them, so the
        # scheduled run costs next to nothing when the inbox is empty
        now = dt.datetime.now(dt.timezone.utc)
        return RunSummary(started_at=now, finished_at=now)
    with Warehouse(settings.warehouse_path) as warehouse:
        summary = process_items(items, warehouse, settings, today, on_item)
        crash_point("before_reports")
        write_reports(warehouse, settings.outputs)
        write_reply_drafts(warehouse, [o.submission_id for o in summary.outcomes], settings)
    return summary
