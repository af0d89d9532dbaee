"""Parse many files at once, each under limits: in a pool of worker processes (pebble; forked from
a fork server, so the workers do not inherit the warehouse connection or threads), or on an
existing Dask cluster. Parsing is pure (bytes in, form out) and the caller collects results in
arrival order, so every way gives the rows of a one-core run.

Every file is read in a worker, never in the run's own process: a worker has a memory limit and
each file a deadline (pipeline.read.limits), and the pool kills a worker that stops answering. A
worker that dies (out of memory, a crash in a C library, killed) costs only the file it was
reading: the pool replaces the worker, the file is tried once more alone, and if it kills that
worker too it is recorded with the reason. No other file of the batch is touched.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.children import stop_servers_at_exit
from pipeline.read.limits import ReadLimits, enter_limited_worker

if TYPE_CHECKING:  # the readers are imported where files are parsed: `coforms run` imports this first
    from pebble import ProcessPool

    from pipeline.records import ParsedFile
    from pipeline.validate.form import Context

log = logging.getLogger(__name__)

FILES_PER_DASK_TASK = 16  # a task per file pays a scheduler round trip per file: slower than parsing
# loaded once by the fork server, so that every worker it forks starts with the readers in memory
# (forkserver_init first: the fork server dies with the run)
READER_MODULES = [
    "pipeline.runtime.forkserver_init",
    "pipeline.runtime.parse",
    "pipeline.read.pdf",
    "pipeline.read.docx",
    "pipeline.read.xlsx",
    "pebble",
]


def _forkserver_context():
    stop_servers_at_exit()  # the fork server is ended and waited for when this process exits
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(READER_MODULES)
    return context


def warm_up(workers: int, expected_jobs: int, dask_address: str | None = None) -> None:
    """Start the fork server now, without waiting for it, when there are files to read: it loads
    the readers (about half a second) while this process opens the warehouse and reads the first
    files, so the workers forked from it later start at once."""
    if not dask_address and expected_jobs > 0:
        from multiprocessing import forkserver

        _forkserver_context()
        forkserver.ensure_running()


def parse_safely(data: bytes, ctx: Context, limits: ReadLimits | None = None) -> ParsedFile:
    from pipeline.runtime.parse import parse_safely

    return parse_safely(data, ctx, limits)


def _parse_job(data: bytes, ctx: Context, limits: ReadLimits) -> ParsedFile:
    return parse_safely(data, ctx, limits)


def parse_many(jobs: list[tuple[bytes, Context]]) -> list[ParsedFile]:
    """One Dask task: several files, parsed one after another on a worker."""
    return [parse_safely(data, ctx) for data, ctx in jobs]


def _file_stopped_worker(exc: BaseException, limits: ReadLimits) -> ParsedFile:
    """The file stopped the worker reading it, twice (or outlived every limit): what to record."""
    from pipeline.runtime.parse import internal_error

    if isinstance(exc, TimeoutError):
        from pipeline.problems import ProblemCode
        from pipeline.runtime.parse import file_problem

        return file_problem(
            ProblemCode.CORRUPT_FILE,
            f"Reading the file took longer than {limits.hard_seconds:.0f} seconds; it may be damaged.",
        )
    code = getattr(exc, "exitcode", None)
    return internal_error(
        f"{type(exc).__name__}: the program reading it stopped"
        + (f" with exit code {code}" if code is not None else "")
    )


class _Queued(Future):
    """A parse waiting to be sent to the cluster with others: asking for its result sends it."""

    def __init__(self, parser: Parser):
        super().__init__()
        self._parser = parser

    def result(self, timeout=None):
        self._parser.flush()
        return super().result(timeout)


def _deliver(futures: list[Future], task) -> None:
    """A Dask task finished: hand each file's result to its own future."""
    try:
        results = task.result()
    except BaseException as exc:  # the worker died, or the cluster went away
        for future in futures:
            future.set_exception(exc)
        return
    for future, parsed in zip(futures, results, strict=False):
        future.set_result(parsed)


# Formats that are never read by OCR (Office documents and their zip and OLE containers)
_NEVER_SCANS = (b"PK\x03\x04", bytes.fromhex("D0CF11E0A1B11AE1"), b"{\\rtf")


def _hard_seconds(limits: ReadLimits, data: bytes) -> float:
    """When the pool kills a worker reading this file: a scan's pages each get OCR time as they go
    (pipeline.read.limits.allow_time_for_ocr_page), so a file that may be one gets that allowance."""
    return limits.hard_seconds if data.startswith(_NEVER_SCANS) else limits.hard_seconds_with_ocr


class Parser:
    """Parses in a pool of `workers` limited processes started on first use, or on the Dask
    cluster at `dask_address`."""

    def __init__(
        self,
        workers: int,
        dask_address: str | None = None,
        limits: ReadLimits | None = None,
        job: Callable[[bytes, Context, ReadLimits], ParsedFile] | None = None,
        temp_dir: Path | None = None,
    ):
        self.workers = workers
        self.temp_dir = temp_dir  # the workers' temporary files (LibreOffice's copies): the run's tmp/
        self.job = job or _parse_job  # what a worker runs for each file (a test may give its own)
        self.dask_address = dask_address
        self.limits = limits or ReadLimits()
        self._pool: ProcessPool | None = None
        self._retry_pool: ProcessPool | None = None  # one worker: a file tried again runs alone
        self._broken: list[ProcessPool] = []
        self._lock = threading.Lock()
        self._client = None
        self._queued: list[tuple[bytes, Context, Future]] = []

    def submit(self, data: bytes, ctx: Context, expected_jobs: int) -> Future:
        """Start parsing one file now; the result is collected later (`.result()`), in whatever order
        the caller wants. The result is always a ParsedFile: whatever the file does to the worker
        becomes its Problem."""
        if self.dask_address:
            future = _Queued(self)
            self._queued.append((data, ctx, future))
            if len(self._queued) >= FILES_PER_DASK_TASK:
                self.flush()
            return future
        outcome: Future = Future()
        self._schedule(self._ensure_pool(expected_jobs), data, ctx, outcome, tried_before=False)
        return outcome

    def _schedule(self, pool: ProcessPool, data: bytes, ctx: Context, outcome: Future, tried_before: bool) -> None:
        try:
            running = pool.schedule(self.job, (data, ctx, self.limits), timeout=_hard_seconds(self.limits, data))
        except Exception as exc:  # the pool is broken or closing: the file goes to the retry worker
            self._failed(exc, data, ctx, outcome, tried_before, pool)
            return
        running.add_done_callback(lambda done: self._settle(done, data, ctx, outcome, tried_before, pool))

    def _settle(
        self, done: Future, data: bytes, ctx: Context, outcome: Future, tried_before: bool, pool: ProcessPool
    ) -> None:
        """Runs in the pool's own thread as each file finishes."""
        try:
            outcome.set_result(done.result())
        except BaseException as exc:
            self._failed(exc, data, ctx, outcome, tried_before, pool)

    def _failed(
        self, exc: BaseException, data: bytes, ctx: Context, outcome: Future, tried_before: bool, pool: ProcessPool
    ) -> None:
        from concurrent.futures.process import BrokenProcessPool

        from pebble import ProcessExpired

        if isinstance(exc, BrokenProcessPool):
            with self._lock:
                if self._pool is pool:  # replaced at the next submit; closed with the parser
                    self._broken.append(pool)
                    self._pool = None
        retry = isinstance(exc, (ProcessExpired, BrokenProcessPool, OSError)) and not tried_before
        log.warning(
            "a worker failed on a file (%s: %s)%s", type(exc).__name__, exc, "; trying it again alone" if retry else ""
        )
        if retry:
            self._schedule(self._ensure_retry_pool(), data, ctx, outcome, tried_before=True)
        else:
            outcome.set_result(_file_stopped_worker(exc, self.limits))

    def _new_pool(self, workers: int) -> ProcessPool:
        from pebble import ProcessPool

        return ProcessPool(
            max_workers=workers,
            initializer=enter_limited_worker,
            initargs=(self.limits.memory_bytes, self.temp_dir),
            context=_forkserver_context(),
        )

    def _ensure_pool(self, expected_jobs: int) -> ProcessPool:
        with self._lock:
            if self._pool is None:
                self._pool = self._new_pool(max(1, min(self.workers, expected_jobs)))
            return self._pool

    def _ensure_retry_pool(self) -> ProcessPool:
        with self._lock:
            if self._retry_pool is None:
                self._retry_pool = self._new_pool(1)
            return self._retry_pool

    def start(self, expected_jobs: int) -> None:
        """Get the pool ready when there will be work for it (see warm_up): the workers themselves
        are forked by the first files submitted."""
        warm_up(self.workers, expected_jobs, self.dask_address)

    def flush(self) -> None:
        """Send the files waiting for the cluster (a few per task); nothing to do locally."""
        queued, self._queued = self._queued, []
        for start in range(0, len(queued), FILES_PER_DASK_TASK):
            chunk = queued[start : start + FILES_PER_DASK_TASK]
            task = self._dask().submit(parse_many, [(data, ctx) for data, ctx, _ in chunk], pure=False)
            task.add_done_callback(lambda done, futures=[f for *_, f in chunk]: _deliver(futures, done))

    def _dask(self):
        if self._client is None:
            from distributed import Client  # the optional extra [dask]

            self._client = Client(self.dask_address, set_as_default=False, timeout=30)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        # the main pool first: a file it fails is handed to the retry pool while that still runs
        for name in ("_pool", "_retry_pool"):
            pool = getattr(self, name)
            if pool is not None:
                pool.close()
                pool.join()
                setattr(self, name, None)
        for pool in self._broken:
            pool.stop()
            pool.join()
        self._broken.clear()

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:  # the run failed: nothing waits for the files still being read
            for pool in (self._pool, self._retry_pool):
                if pool is not None:
                    pool.stop()
        self.close()
