"""Parse many files at once on every core: a process pool (forkserver, so the workers do not
inherit the warehouse connection or threads), order kept, so results equal a one-core run."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from pipeline.parse import ParsedFile, parse_safely
from pipeline.read.isolated import enter_limited_worker
from pipeline.validate import Context

MIN_JOBS_FOR_POOL = 4  # fewer files than this are parsed faster than a pool starts


def _parse_job(job: tuple[bytes, Context]) -> ParsedFile:
    return parse_safely(*job)


class Parser:
    """parse_many() in this process, or in a pool of `workers` processes started on first use."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def parse_many(self, jobs: list[tuple[bytes, Context]]) -> Iterator[ParsedFile]:
        """Results in the order of `jobs`, each as soon as it (and all before it) are ready, so the
        caller can record one while the workers parse the next."""
        if self.workers <= 1 or len(jobs) < MIN_JOBS_FOR_POOL:
            return (parse_safely(data, ctx) for data, ctx in jobs)
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["pipeline.parse", "pipeline.read.pdf"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                             initializer=enter_limited_worker)
        # big files first would balance better, but order of results is what must not change
        return self._pool.map(_parse_job, jobs, chunksize=max(1, min(8, len(jobs) // (self.workers * 8))))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
