"""Run a reader in a separate process with a time limit and a memory limit.

PDF is the format most able to make a parser loop or balloon (reference cycles, deep
nesting, huge content streams). In a run every file is read in a limited worker already
(pipeline.runtime.parallel, pipeline.read.limits), and there the PDF reader runs in place. Anywhere else (on
a Dask worker, or a caller of its own) it runs here: in a process forked from a small server
that has the reader already imported, with RLIMIT_AS set, killed at the deadline. Whatever
happens, the caller gets a Document or an UnreadableFile.
"""

from __future__ import annotations

import importlib
import multiprocessing
import resource
import time

from pipeline.children import die_with_fork_server
from pipeline.document import Document
from pipeline.problems import ProblemCode
from pipeline.read.errors import UnreadableFile
from pipeline.read.limits import (
    ask_parent_for_more_time,
    few_malloc_arenas,
    in_limited_worker,
    ocr_limits,
    use_ocr_limits,
)

SECONDS = 60
MEMORY_BYTES = 2 * 1024**3

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["pipeline.runtime.forkserver_init", "pipeline.read.pdf"])


def _read_in_this_worker(reader, data: bytes) -> Document:
    """In a parsing worker (pipeline.runtime.parallel) the memory limit and the file's deadline are already
    in force (pipeline.read.limits): the reader runs here rather than in yet another process (~60 ms a PDF)."""
    try:
        return reader(data)
    except MemoryError as exc:
        raise UnreadableFile(ProblemCode.TOO_LARGE, "The file needs more memory to read than is allowed.") from exc
    except RecursionError as exc:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The file's structure is nested too deeply to read.") from exc
    except UnreadableFile:
        raise
    except Exception as exc:  # the PDF library's failure on a damaged file (as in a process of its own)
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"The file could not be read ({type(exc).__name__}).") from exc


def _worker(module: str, name: str, data: bytes, memory_bytes: int, ocr: tuple[float, int], connection) -> None:
    die_with_fork_server()
    few_malloc_arenas()
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    use_ocr_limits(ocr)  # the caller's (a scan's page count is checked against its setting)
    ask_parent_for_more_time(lambda seconds: connection.send(("more time", seconds)))  # each OCR'd page
    try:
        result = ("ok", getattr(importlib.import_module(module), name)(data))
    except UnreadableFile as exc:
        result = ("unreadable", exc.code.value, exc.message)
    except MemoryError:
        result = ("unreadable", ProblemCode.TOO_LARGE.value, "The file needs more memory to read than is allowed.")
    except RecursionError:
        result = ("unreadable", ProblemCode.CORRUPT_FILE.value, "The file's structure is nested too deeply to read.")
    except Exception as exc:  # any other failure of the library on hostile input
        result = ("unreadable", ProblemCode.CORRUPT_FILE.value, f"The file could not be read ({type(exc).__name__}).")
    try:
        connection.send(result)
    finally:
        connection.close()


def read_isolated(reader, data: bytes, seconds: float = SECONDS, memory_bytes: int = MEMORY_BYTES) -> Document:
    if in_limited_worker():
        return _read_in_this_worker(reader, data)
    receiver, sender = _context.Pipe(duplex=False)
    process = _context.Process(
        target=_worker,
        args=(reader.__module__, reader.__name__, data, memory_bytes, ocr_limits(), sender),
        daemon=True,
    )
    process.start()
    sender.close()
    deadline = time.monotonic() + seconds
    try:
        while True:
            if not receiver.poll(max(0.0, deadline - time.monotonic())):
                raise UnreadableFile(
                    ProblemCode.CORRUPT_FILE,
                    f"Reading the file took longer than {seconds:.0f} seconds; it may be damaged.",
                )
            try:
                result = receiver.recv()
            except EOFError as exc:  # the worker died: out of memory, or killed
                raise UnreadableFile(
                    ProblemCode.TOO_LARGE, "The file could not be read within the memory allowed."
                ) from exc
            if result[0] != "more time":
                break
            deadline += result[1]  # a scan's page about to be read by OCR (limits.allow_time_for_ocr_page)
            seconds += result[1]
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if result[0] == "ok":
        return result[1]
    raise UnreadableFile(ProblemCode(result[1]), result[2])
