"""Parse many files at once: on every core (a process pool; forkserver, so the workers do not
inherit the warehouse connection or threads), or on an existing Dask cluster. Parsing is pure
(bytes in, form out) and the caller collects results in arrival order, so every way gives the
rows of a one-core run."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

from pipeline.read.isolated import enter_limited_worker

if TYPE_CHECKING:  # the readers are imported where files are parsed: `coforms run` imports this first
    from pipeline.parse import ParsedFile
    from pipeline.validate import Context


MIN_JOBS_FOR_POOL = 4  # fewer files than this are parsed faster than a pool starts
FILES_PER_DASK_TASK = 16  # a task per file pays a scheduler round trip per file: slower than parsing
# loaded once by the fork server, so that every worker it forks starts with the readers in memory
READER_MODULES = ["pipeline.parse", "pipeline.read.pdf", "pipeline.read.docx", "pipeline.read.xlsx"]


def _forkserver_context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(READER_MODULES)
    return context


def warm_up(workers: int, expected_jobs: int, dask_address: str | None = None) -> None:
    """Start the fork server now, without waiting for it, when a pool will be wanted: it loads the
    readers (about half a second) while this process opens the warehouse and reads the first
    files, so the workers forked from it later start at once."""
    if not dask_address and workers > 1 and expected_jobs >= MIN_JOBS_FOR_POOL:
        from multiprocessing import forkserver

        _forkserver_context()
        forkserver.ensure_running()


def parse_safely(data: bytes, ctx: Context) -> ParsedFile:
    from pipeline.parse import parse_safely

    return parse_safely(data, ctx)


def _parse_job(job: tuple[bytes, Context]) -> ParsedFile:
    return parse_safely(*job)


def parse_many(jobs: list[tuple[bytes, Context]]) -> list[ParsedFile]:
    """One Dask task: several files, parsed one after another on a worker."""
    return [parse_safely(data, ctx) for data, ctx in jobs]


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
    for future, parsed in zip(futures, results):
        future.set_result(parsed)


class Parser:
    """Parses in this process, in a pool of `workers` processes started on first use, or on the
    Dask cluster at `dask_address`."""

    def __init__(self, workers: int, dask_address: str | None = None):
        self.workers = workers
        self.dask_address = dask_address
        self._pool: ProcessPoolExecutor | None = None
        self._client = None
        self._queued: list[tuple[bytes, Context, Future]] = []

    def submit(self, data: bytes, ctx: Context, expected_jobs: int) -> Future:
        """Start parsing one file now (in the pool when there is enough work for one); the result
        is collected later (`.result()`), in whatever order the caller wants."""
        if self.dask_address:
            future = _Queued(self)
            self._queued.append((data, ctx, future))
            if len(self._queued) >= FILES_PER_DASK_TASK:
                self.flush()
            return future
        if self.workers <= 1 or expected_jobs < MIN_JOBS_FOR_POOL:
            done: Future = Future()
            done.set_result(parse_safely(data, ctx))
            return done
        return self._ensure_pool().submit(_parse_job, (data, ctx))

    def start(self, expected_jobs: int) -> None:
        """Get the pool ready when there will be work for it (see warm_up): the workers themselves
        are forked by the first files submitted."""
        warm_up(self.workers, expected_jobs, self.dask_address)

    def flush(self) -> None:
        """Send the files waiting for the cluster (a few per task); nothing to do locally."""
        queued, self._queued = self._queued, []
        for start in range(0, len(queued), FILES_PER_DASK_TASK):
            chunk = queued[start:start + FILES_PER_DASK_TASK]
            task = self._dask().submit(parse_many, [(data, ctx) for data, ctx, _ in chunk], pure=False)
            task.add_done_callback(lambda done, futures=[f for *_, f in chunk]: _deliver(futures, done))

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_forkserver_context(),
                                             initializer=enter_limited_worker)
        return self._pool

    def _dask(self):
        if self._client is None:
            from distributed import Client  # the optional extra [dask]

            self._client = Client(self.dask_address, set_as_default=False, timeout=30)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
