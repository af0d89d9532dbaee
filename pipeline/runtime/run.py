"""One pass over the inbox: archive, parse, validate, commit, then clear the inbox item.

Plain functions, called by `coforms run` directly and by the Prefect flow (one task per
batch). A file that breaks our code is recorded as rejected with the error named, and the
batch goes on: the run fails only when the infrastructure does (disk, warehouse).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from pipeline.crash import crash_point
from pipeline.files import private_dir, sync_to_disk, write_atomically
from pipeline.history.decide import decide
from pipeline.intake.archive import archive_bytes, archive_path
from pipeline.intake.inbox import (
    InboxItem,
    NotARegularFile,
    attachments_of,
    read_regular_file,
    received_time,
    require_inbox,
    settled_inbox,
)
from pipeline.intake.mail import sender_allowlist
from pipeline.problems import ProblemCode, make_problem
from pipeline.read.limits import ReadLimits
from pipeline.records import Attachment, Outcome, ParsedFile, Provenance, RunSummary, crops_folder
from pipeline.runtime.parallel import Parser
from pipeline.runtime.parse import explain_by_name, internal_error
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse
from pipeline.validate.form import Context
from pipeline.workspace import prepare_outputs, private_tmp, temp_dir

log = logging.getLogger(__name__)


def _record(
    attachment: Attachment, parsed: ParsedFile | None, warehouse: Warehouse, intake: tuple[int, int]
) -> Outcome:
    """Record one attachment (parsed already, or None when its bytes were seen before): what the
    forms before it make of it is decided once (pipeline.history.decide), then stored."""
    now = dt.datetime.now(dt.UTC)
    decision = decide(parsed, attachment.provenance, attachment.sha256, warehouse, now)
    crash_point("after_parse")
    recorded = warehouse.record(attachment.provenance, attachment.sha256, decision, now, intake)
    crash_point("after_record")
    parsed, problems = decision.parsed, decision.problems  # a duplicate keeps nothing of what was read
    amount = parsed.form.amount_sum if parsed and parsed.form_type == "voucher" and parsed.form else Decimal("0.00")
    log.info(
        "%s -> submission %s %s (%d problems; %s, parse %.0f ms)",
        attachment.provenance.source_file,
        recorded.submission_id,
        recorded.status,
        len(problems),
        parsed.format if parsed else "-",
        parsed.parse_ms if parsed else 0.0,
    )
    return Outcome(
        attachment.provenance.source_file,
        attachment.provenance.container_file,
        recorded.submission_id,
        recorded.status,
        parsed.form_type if parsed else None,
        problems,
        amount,
    )


def _file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK), "rb") as fh:  # never a link or a pipe
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise NotARegularFile(f"{path.name} is not an ordinary file")
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _too_large(item: InboxItem, warehouse: Warehouse, settings: Settings, sha: str, intake: tuple[int, int]) -> Outcome:
    """Archive a file too large to read (streamed, never in memory) and record it as rejected."""
    target = archive_path(settings.archive_dir, sha)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(item.path, target, follow_symlinks=False)
        target.chmod(0o600)
    problem = make_problem(
        ProblemCode.TOO_LARGE,
        f"The file is {item.size / 1e6:.1f} MB; the limit is {settings.max_file_bytes / 1e6:.0f} MB.",
    )
    provenance = Provenance(item.name, received_at=received_time(item.path))
    now = dt.datetime.now(dt.UTC)
    decision = decide(ParsedFile(None, None, [problem]), provenance, sha, warehouse, now)
    recorded = warehouse.record(provenance, sha, decision, now, intake)
    return Outcome(item.name, None, recorded.submission_id, recorded.status, None, decision.problems)


@dataclass
class _Prepared:
    """An inbox file read and archived, its parts' parses under way; nothing in the warehouse yet."""

    item: InboxItem
    sha256: str
    mtime_ns: int
    size: int
    attachments: list[Attachment] | None  # None: too large to read
    parsing: dict[int, Future] = field(default_factory=dict)  # part -> its parse
    # its originals in the archive, maybe not yet on the disk: synced together before the batch commits
    unsynced: list[Path] = field(default_factory=list)


def _attachments_safely(item: InboxItem, settings: Settings, allowed) -> list[Attachment] | None:
    """attachments_of, where whatever the file's bytes or headers do to our code becomes that
    file's Problem (`internal_error`), and the rest of the batch goes on."""
    try:
        return attachments_of(item, settings.max_file_bytes, allowed)
    except Exception as exc:
        log.exception("internal error taking %s apart", item.name)
        problem = internal_error(exc).problems[0]
        return [Attachment(_bytes_of(item), Provenance(item.name, received_at=received_time(item.path)), problem)]


def _bytes_of(item: InboxItem) -> bytes:
    """What is archived for an inbox file: its bytes, or nothing for what is refused unopened
    (a link is never followed, a pipe never read, also when one took the file's place since the
    inbox was listed)."""
    if item.refused is not None:
        return b""
    try:
        return read_regular_file(item.path)
    except NotARegularFile:
        return b""


def _nothing_read_note(attachment: Attachment, item_sha256: str, mtime_ns: int, part_no: int) -> Attachment:
    """A part recorded with a problem and no bytes of its own (a link refused, an attachment that
    could not be taken out) is kept as a short note of what it was: its own 'original', so that
    two such parts are never taken for copies of each other (identical bytes are duplicates)."""
    if attachment.data or attachment.problem is None:
        return attachment
    note = (
        f"coforms read no bytes for this: part {part_no + 1} of the inbox file "
        f"{attachment.provenance.container_file or attachment.provenance.source_file!r} "
        f"(sha256 {item_sha256}, modified {mtime_ns} ns), named {attachment.provenance.source_file!r}.\n"
        f"{attachment.problem.message}\n"
    )
    return replace(attachment, data=note.encode("utf-8", "replace"))


def _read_in(item: InboxItem, settings: Settings, allowed) -> _Prepared | None:
    """Read one inbox file and archive it and what it holds."""
    try:
        seen = item.path.lstat()
    except FileNotFoundError:
        return None  # taken by another run
    attachments = _attachments_safely(item, settings, allowed)
    if attachments is None:
        return _Prepared(item, _file_sha256(item.path), seen.st_mtime_ns, seen.st_size, None)
    data = _bytes_of(item)
    sha = hashlib.sha256(data).hexdigest()
    # the email (or file) as it came: kept first. Not synced one by one: the whole batch's
    # originals are put on the disk at once before it commits (_record_batch)
    written = [archive_bytes(settings.archive_dir, sha, data, durable=False)]
    attachments = [_nothing_read_note(a, sha, seen.st_mtime_ns, n) for n, a in enumerate(attachments)]
    for attachment in attachments:
        crash_point("before_archive")
        written.append(archive_bytes(settings.archive_dir, attachment.sha256, attachment.data, durable=False))
        crash_point("after_archive")
    return _Prepared(item, sha, seen.st_mtime_ns, seen.st_size, attachments, unsynced=written)


def _prepare(
    batch: list[InboxItem],
    warehouse: Warehouse,
    settings: Settings,
    allowed,
    parser: Parser,
    ctx: Context,
    expected_jobs: int,
) -> list[_Prepared]:
    """Read and archive a batch's files, then start parsing every part not seen before."""
    prepared = [p for p in (_read_in(item, settings, allowed) for item in batch) if p is not None]
    warehouse.prefetch_sha256(a.sha256 for p in prepared for a in p.attachments or [])
    for p in prepared:
        for part_no, attachment in enumerate(p.attachments or []):
            if attachment.problem is None and warehouse.first_with_sha256(attachment.sha256) is None:
                p.parsing[part_no] = parser.submit(attachment.data, ctx, expected_jobs)
    parser.flush()  # on a cluster, the last few files of the batch go now too
    return prepared


def _voucher_lines(parsed: ParsedFile) -> list:
    return parsed.form.lines if parsed.form_type == "voucher" and parsed.form is not None else []


def _record_batch(
    batch: list[_Prepared], warehouse: Warehouse, settings: Settings, summary: RunSummary, on_item
) -> None:
    """Record a batch's files in arrival order in one transaction, then clear them from the inbox."""
    with warehouse.transaction():  # one transaction per batch: all of it, or (after a crash) none
        warehouse.reserve_ids(submissions=sum(len(p.attachments or [None]) for p in batch), intakes=len(batch))
        warehouse.prefetch_intakes((p.sha256, p.item.name, p.mtime_ns) for p in batch)
        # the batch's parses are all waited for first (the workers have the next batch meanwhile),
        # so the claims its voucher sheets make are looked up in one statement, not one each
        warehouse.prefetch_claims(
            line.claim_key for p in batch for future in p.parsing.values() for line in _voucher_lines(future.result())
        )
        for prepared in batch:
            parts = len(prepared.attachments) if prepared.attachments is not None else 1
            intake_id, done = warehouse.begin_intake(
                prepared.sha256, prepared.item.name, prepared.mtime_ns, prepared.size, parts
            )
            if prepared.attachments is None:
                if 0 not in done:
                    summary.outcomes.append(
                        _too_large(prepared.item, warehouse, settings, prepared.sha256, (intake_id, 0))
                    )
            else:
                for part_no, attachment in enumerate(prepared.attachments):
                    if part_no in done:
                        continue  # recorded by a run that was killed before it finished this file
                    future = prepared.parsing.pop(part_no, None)
                    result = future.result() if future is not None else None
                    if result is not None:  # a file no reader could open, told in the terms of its name
                        result = explain_by_name(result, attachment.provenance.source_file)
                    if attachment.problem is not None:
                        result = ParsedFile(None, None, [attachment.problem])  # decided before reading: not opened
                    summary.outcomes.append(_record(attachment, result, warehouse, (intake_id, part_no)))
                    if result is not None and result.crops:
                        _keep_crops(result, attachment.sha256, settings.outputs)
            warehouse.finish_intake(intake_id)
        # the originals the batch records are on the disk before it commits: once committed, its
        # files leave the inbox, and the archive is then the only copy
        sync_to_disk(path for prepared in batch for path in prepared.unsynced)
        crash_point("before_batch_commit")
    for prepared in batch:  # only now that the batch is committed do its files leave the inbox
        crash_point("before_unlink")
        _remove_from_inbox(prepared)
        crash_point("after_unlink")
        summary.files += 1
        if on_item:
            on_item(prepared.item)


def _keep_crops(parsed: ParsedFile, sha256: str, outputs: Path) -> None:
    """The pictures of a scan's doubtful spots, where its problems say they are (written before the
    commit: a run killed after this writes the same pictures again)."""
    folder = private_dir(outputs / crops_folder(sha256))
    for name, png in parsed.crops.items():
        write_atomically(folder / Path(name).name, png)


def _remove_from_inbox(prepared: _Prepared) -> None:
    """Remove a file whose contents are now committed, unless it changed since it was read (still
    being written after all): then it stays, and the next run takes its new contents."""
    try:
        now = prepared.item.path.lstat()
    except FileNotFoundError:
        return
    if (now.st_mtime_ns, now.st_size) != (prepared.mtime_ns, prepared.size):
        log.warning("%s changed while it was being read; it is left in the inbox for the next run", prepared.item.name)
        return
    prepared.item.path.unlink()


def process_items(
    items: Iterable[InboxItem],
    warehouse: Warehouse,
    settings: Settings,
    today: dt.date | None = None,
    on_item: Callable[[InboxItem], None] | None = None,
) -> RunSummary:
    """Process inbox items in batches: read and archive, parse on every core, record in order in one
    transaction per batch, then clear the batch's files from the inbox.

    The next batch is read and handed to the parsing pool before this one is recorded, so the
    workers parse while the main process writes the warehouse and commits."""
    today = today or dt.date.today()
    summary = RunSummary(started_at=dt.datetime.now(dt.UTC))
    allowed = sender_allowlist(settings.allowed_senders)
    ctx = Context(today=today, voucher_line_cap=settings.voucher_line_cap)
    items = list(items)
    with Parser(
        settings.workers, settings.dask_address, ReadLimits.from_settings(settings), temp_dir=temp_dir(settings.outputs)
    ) as parser:
        parser.start(len(items))

        def prepare(batch: list[InboxItem]) -> list[_Prepared]:
            return _prepare(batch, warehouse, settings, allowed, parser, ctx, len(items))

        pending = deque(batches(items, settings.batch_size))
        ahead = prepare(pending.popleft()) if pending else []
        while ahead:
            current, ahead = ahead, (prepare(pending.popleft()) if pending else [])
            _record_batch(current, warehouse, settings, summary, on_item)
            while not ahead and pending:  # a batch whose files all went: on to the next
                ahead = prepare(pending.popleft())
    summary.finished_at = dt.datetime.now(dt.UTC)
    return summary


def batches(items: list[InboxItem], size: int) -> list[list[InboxItem]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# -- The run's steps: `coforms run` (run_pipeline, below) and the Prefect flow
# (flows/coforms_flow.py) both call these, and nothing else decides what a run does.


@dataclass
class RunStart:
    """What a run found when it began (holding the run lock)."""

    items: list[InboxItem]
    today: dt.date
    # judged without opening the warehouse (pipeline.reports.freshness); when not, the run checks the
    # reports against the warehouse and rewrites them if they are out of date (a write failed, a new
    # ledger file, a new day), also with an empty inbox
    reports_look_current: bool

    @property
    def nothing_to_do(self) -> bool:
        """Nothing new and the reports current: a scheduled run with an empty inbox costs next to nothing."""
        return not self.items and self.reports_look_current


@contextmanager
def holding_the_run(settings: Settings) -> Iterator[None]:
    """The outputs folder's lock (one run at a time), and temporary files under outputs/tmp.
    A server warehouse's lock is taken later (`warehouse_for_the_run`), once there is work: a
    no-op run touches only this machine's inbox and outputs."""
    from pipeline.store.lock import exclusive_run

    with exclusive_run(settings.outputs, settings.lock_wait_seconds), private_tmp(settings.outputs):
        yield


@contextmanager
def warehouse_for_the_run(settings: Settings) -> Iterator[Warehouse]:
    """The warehouse, with its server lock when it is a shared PostgreSQL database."""
    from pipeline.store.lock import warehouse_turn

    with warehouse_turn(settings.warehouse, settings.lock_wait_seconds), Warehouse(settings.warehouse) as warehouse:
        yield warehouse


def start_run(settings: Settings, today: dt.date | None = None) -> RunStart:
    """Step 1: the inbox is there (a missing one is an error: an unmounted share must not look like
    a quiet day); the outputs folder private and swept of what a killed run left; the inbox's
    files, once they have settled."""
    from pipeline.reports.freshness import REPORT_FILES, reports_look_current

    require_inbox(settings.inbox)
    prepare_outputs(settings.outputs)
    items = settled_inbox(settings.inbox, settings.settle_seconds)
    today = today or dt.date.today()
    return RunStart(items, today, reports_look_current(settings, today, REPORT_FILES))


def finish_run(warehouse: Warehouse, settings: Settings, summary: RunSummary, today: dt.date) -> list[Path]:
    """Last step: reply drafts for this run's forms, and the reports rewritten from the warehouse
    when they are out of date. Reports that cannot be written are named in `summary.reports_error`
    (the forms are recorded whatever happens to the reports; the next run writes them again)."""
    # imported only when there is work: the reports' libraries take longer to load than a no-op run
    from pipeline.admin.replies import write_reply_drafts
    from pipeline.reports.queries import corrections_linked
    from pipeline.reports.write import ReportsNotWritten, refresh_reports

    this_run = [o.submission_id for o in summary.outcomes]
    write_reply_drafts(warehouse, this_run, settings)
    summary.corrections = [tuple(row) for row in corrections_linked(warehouse, this_run)]
    crash_point("before_reports")
    try:
        written = refresh_reports(warehouse, settings, today)
    except ReportsNotWritten as exc:
        log.error("reports not written: %s", exc)
        summary.reports_error = str(exc)
        written = [path for path in _report_paths(settings) if path not in exc.failures]
    summary.reports_written = [str(path) for path in written]
    return written


def rewrite_reports(settings: Settings, today: dt.date | None = None) -> list[Path]:
    """`coforms report`: every report rewritten from the warehouse now, under the run lock."""
    from pipeline.reports.write import write_reports
    from pipeline.store.warehouse import warehouse_exists

    with holding_the_run(settings):
        if not warehouse_exists(settings.warehouse):
            raise NoWarehouse("There is no warehouse yet, so no reports to write: run `coforms run` first.")
        with warehouse_for_the_run(settings) as warehouse:
            return write_reports(warehouse, settings.outputs, settings, today or dt.date.today())


class NoWarehouse(Exception):
    """A command that reads the warehouse, before any run made it."""


def _report_paths(settings: Settings) -> list[Path]:
    from pipeline.reports.freshness import REPORT_FILES

    return [settings.outputs / name for name in REPORT_FILES]


def empty_summary() -> RunSummary:
    now = dt.datetime.now(dt.UTC)
    return RunSummary(started_at=now, finished_at=now)


def run_pipeline(
    settings: Settings,
    today: dt.date | None = None,
    on_start: Callable[[int], None] | None = None,
    on_item: Callable[[InboxItem], None] | None = None,
) -> RunSummary:
    """The whole job without Prefect: every pending file, then the reports (when out of date)."""
    with holding_the_run(settings):
        start = start_run(settings, today)
        if on_start:
            on_start(len(start.items))
        if start.nothing_to_do:
            return empty_summary()
        with warehouse_for_the_run(settings) as warehouse:
            summary = process_items(start.items, warehouse, settings, start.today, on_item) if start.items else None
            summary = summary or empty_summary()
            finish_run(warehouse, settings, summary, start.today)
        return summary
