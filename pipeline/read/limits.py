"""The limits every file is read under, in the worker process that reads it.

A hostile or broken file can make a reader loop, balloon or recurse without end. Every file
is read in a worker process (pipeline.runtime.parallel) that has a memory limit (RLIMIT_AS: an
allocation beyond it raises MemoryError), and a deadline per file (SIGALRM: the reader is
interrupted where it stands). A reader stuck inside C code that never returns to Python is
killed from outside by the pool's own, longer, timeout. LibreOffice's conversion of an old
file gets its own time on top (`allow_more_time`), and so does each page OCR reads
(`allow_time_for_ocr_page`): a 40-page scan is slow, not broken.
"""

from __future__ import annotations

import contextlib
import resource
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipeline.children import die_with_fork_server
from pipeline.workspace import use_temp_dir

_in_limited_worker = False
_deadline: float | None = None  # time.monotonic() by which the current file must be read
_ocr_limits: tuple[float, int] = (60.0, 40)  # (ocr_page_seconds, ocr_max_pages) of the file being read


class TimeLimitReached(BaseException):
    """The file's time is up. A BaseException, so that no reader's `except Exception` swallows it."""


@dataclass(frozen=True)
class ReadLimits:
    seconds: float = 60.0  # reading one file
    memory_bytes: int = 2 * 1024**3  # each worker's address space
    conversion_seconds: float = 120.0  # LibreOffice converting one old file, on top
    grace_seconds: float = 15.0  # then the pool kills a worker that has not answered
    ocr_page_seconds: float = (
        60.0  # OCR of one page of a scan or photo, on top (wall time: ~8 s of CPU on a busy machine)
    )
    ocr_max_pages: int = 40  # pages of one scan that are read; a longer one is refused as too_large

    @classmethod
    def from_settings(cls, settings) -> ReadLimits:
        return cls(
            settings.parse_seconds,
            settings.parse_memory_mb * 1024**2,
            settings.conversion_seconds,
            ocr_page_seconds=settings.ocr_page_seconds,
            ocr_max_pages=settings.ocr_max_pages,
        )

    @property
    def hard_seconds(self) -> float:
        """When the pool kills a worker that has not answered: past every limit the worker enforces itself."""
        return self.seconds + self.conversion_seconds + self.grace_seconds

    @property
    def hard_seconds_with_ocr(self) -> float:
        """The same for a file that may be a scan (a PDF or a picture): each page may take its OCR time."""
        return self.hard_seconds + self.ocr_max_pages * self.ocr_page_seconds


def few_malloc_arenas() -> None:
    """At most two glibc malloc arenas in this process. glibc reserves 64 MB of address space for
    each thread that allocates (up to 8 per core), and OCR's threads (onnxruntime, OpenCV,
    Tesseract) each keep one: under the address-space cap, a worker that has OCR'd a large photo
    then failed every later OCR (std::bad_alloc), so a file's outcome depended on which files its
    worker had read before it (found by the public corpus test)."""
    import ctypes
    import ctypes.util

    m_arena_max = -8  # from glibc's malloc.h
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to limit
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt(m_arena_max, 2)


def enter_limited_worker(memory_bytes: int, temp_dir: Path | None = None) -> None:
    """Run once in each worker process as it starts."""
    global _in_limited_worker
    die_with_fork_server()
    use_temp_dir(temp_dir)
    few_malloc_arenas()
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    _in_limited_worker = True


def in_limited_worker() -> bool:
    return _in_limited_worker


def _time_up(_signum, _frame) -> None:
    raise TimeLimitReached()


@contextmanager
def deadline(seconds: float, limits: ReadLimits | None = None) -> Iterator[None]:
    """Interrupt the code inside with TimeLimitReached once `seconds` have passed (main thread only).
    `limits`: the OCR allowances of the file being read (allow_time_for_ocr_page, ocr_max_pages)."""
    global _deadline, _ocr_limits
    ocr_limits_before = _ocr_limits
    if limits is not None:
        _ocr_limits = (limits.ocr_page_seconds, limits.ocr_max_pages)
    previous = signal.signal(signal.SIGALRM, _time_up)
    _deadline = time.monotonic() + seconds
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _deadline = None
        _ocr_limits = ocr_limits_before


_more_time_asked: Callable[[float], None] | None = None  # a parent process keeping this one's deadline


def ask_parent_for_more_time(ask: Callable[[float], None]) -> None:
    """In a child reading one file for a parent that keeps its deadline (pipeline.read.isolated):
    each allow_more_time is asked of the parent instead."""
    global _more_time_asked
    _more_time_asked = ask


def allow_more_time(seconds: float) -> None:
    """Give the file being read `seconds` more (a conversion by LibreOffice has its own limit)."""
    global _deadline
    if _more_time_asked is not None:
        _more_time_asked(seconds)
    if _deadline is None:
        return
    _deadline += seconds
    signal.setitimer(signal.ITIMER_REAL, max(0.001, _deadline - time.monotonic()))


def allow_time_for_ocr_page() -> None:
    """Give the file being read one page's OCR time more (setting `ocr_page_seconds`)."""
    allow_more_time(_ocr_limits[0])


def ocr_max_pages() -> int:
    """How many pages of one scan are read (setting `ocr_max_pages`)."""
    return _ocr_limits[1]


def ocr_limits() -> tuple[float, int]:
    """The OCR allowances in force: (ocr_page_seconds, ocr_max_pages), to hand to a child process."""
    return _ocr_limits


def use_ocr_limits(limits: tuple[float, int]) -> None:
    """In a child process reading one file for its parent: the parent's OCR allowances."""
    global _ocr_limits
    _ocr_limits = limits
