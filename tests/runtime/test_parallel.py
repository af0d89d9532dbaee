"""pipeline.runtime.parallel: every file is read in a limited worker, and whatever one file does to its
worker costs that file only. The jobs below stand in for a hostile file's effect on a reader
(killing the process, hanging in C code, ballooning), so each effect is certain and quick."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from pipeline.problems import ProblemCode
from pipeline.read.limits import ReadLimits
from pipeline.records import ParsedFile
from pipeline.runtime.parallel import Parser

LIMITS = ReadLimits(
    seconds=2, memory_bytes=600 * 1024**2, conversion_seconds=0, grace_seconds=2, ocr_page_seconds=1, ocr_max_pages=1
)


def _named(data: bytes) -> ParsedFile:
    return ParsedFile(None, None, notes=[data.decode(), str(os.getpid())])


def kills_its_worker(data: bytes, ctx, limits: ReadLimits) -> ParsedFile:
    """b"kill:<file>": the worker dies (as in a crash in a C library), and leaves a mark each time."""
    if data.startswith(b"kill:"):
        with open(data[5:].decode(), "a") as marks:
            marks.write("x")
        os.kill(os.getpid(), signal.SIGKILL)
    return _named(data)


def hangs_where_no_signal_reaches(data: bytes, ctx, limits: ReadLimits) -> ParsedFile:
    if data == b"hang":
        signal.signal(signal.SIGALRM, signal.SIG_IGN)  # as deep inside C code: the deadline cannot stop it
        time.sleep(600)
    return _named(data)


def hangs_in_python(data: bytes, ctx, limits: ReadLimits) -> ParsedFile:
    import pipeline.runtime.parse as parse

    def reader_that_never_ends(_data, _ctx, _conversion_seconds=None):
        while True:
            pass

    parse.parse_file = reader_that_never_ends  # this worker only: its pool is the test's own
    return parse.parse_safely(data, ctx, limits)


def balloons(data: bytes, ctx, limits: ReadLimits) -> ParsedFile:
    import pipeline.runtime.parse as parse

    def reader_that_eats_memory(_data, _ctx, _conversion_seconds=None):
        hog = []
        while True:
            hog.append(bytearray(50 * 1024 * 1024))

    parse.parse_file = reader_that_eats_memory
    return parse.parse_safely(data, ctx, limits)


def _results(job, files: list[bytes], ctx, workers: int = 2) -> list[ParsedFile]:
    with Parser(workers, limits=LIMITS, job=job) as parser:
        futures = [parser.submit(data, ctx, len(files)) for data in files]
        return [f.result(timeout=60) for f in futures]


def _codes(parsed: ParsedFile) -> list[ProblemCode]:
    return [p.code for p in parsed.problems]


def test_a_file_that_kills_its_worker_costs_only_that_file_after_one_retry(tmp_path: Path, ctx):
    marks = tmp_path / "marks"
    files = [b"one", b"two", f"kill:{marks}".encode(), b"three", b"four", b"five"]
    results = _results(kills_its_worker, files, ctx)
    assert [r.notes[0] for r in results if r.notes] == ["one", "two", "three", "four", "five"]
    killer = results[2]
    assert _codes(killer) == [ProblemCode.INTERNAL_ERROR]
    assert "exit code -9" in killer.problems[0].message
    assert marks.read_text() == "xx"  # tried twice: once beside the others, once alone


def test_the_files_are_read_in_worker_processes_never_in_the_runs_own(ctx):
    results = _results(kills_its_worker, [b"only one"], ctx, workers=1)
    assert results[0].notes == ["only one", results[0].notes[1]] and int(results[0].notes[1]) != os.getpid()


def test_a_worker_stuck_where_the_deadline_cannot_reach_is_killed_and_the_file_recorded(ctx):
    started = time.monotonic()
    results = _results(hangs_where_no_signal_reaches, [b"before", b"hang", b"after"], ctx)
    assert [r.notes[0] for r in results if r.notes] == ["before", "after"]
    assert _codes(results[1]) == [ProblemCode.CORRUPT_FILE] and "longer than" in results[1].problems[0].message
    assert time.monotonic() - started < 30  # the pool's timeout (4 s here), not the hang's 600 s


def test_a_file_that_may_be_a_scan_is_given_each_pages_ocr_time_before_its_worker_is_killed():
    from pipeline.runtime.parallel import _hard_seconds

    limits = ReadLimits(seconds=60, conversion_seconds=120, grace_seconds=15, ocr_page_seconds=30, ocr_max_pages=40)
    assert _hard_seconds(limits, b"PK\x03\x04 a .docx") == 195
    assert _hard_seconds(limits, bytes.fromhex("D0CF11E0A1B11AE1") + b" a .doc") == 195
    assert _hard_seconds(limits, b"%PDF-1.7 maybe a scan") == 195 + 40 * 30
    assert _hard_seconds(limits, b"\xff\xd8\xff a JPEG photo") == 195 + 40 * 30


def test_a_reader_that_never_ends_is_stopped_by_the_files_deadline(ctx):
    [result] = _results(hangs_in_python, [b"x"], ctx, workers=1)
    assert _codes(result) == [ProblemCode.CORRUPT_FILE]
    assert "longer than 2 seconds" in result.problems[0].message


def test_a_reader_that_eats_memory_is_stopped_at_the_workers_limit(ctx):
    [result] = _results(balloons, [b"x"], ctx, workers=1)
    assert _codes(result) == [ProblemCode.TOO_LARGE]


@pytest.mark.parametrize("workers", [1, 2])
def test_real_files_parse_the_same_in_one_worker_or_two(workers, ctx):
    from tests.conftest import GOLDEN

    files = [
        (GOLDEN / "voucher" / name).read_bytes()
        for name in ("table_total_row.docx", "sheet_numeric_amounts.xlsx", "pdf_table_total_row.pdf")
    ]
    with Parser(workers) as parser:
        futures = [parser.submit(data, ctx, len(files)) for data in files]
        results = [f.result(timeout=120) for f in futures]
    assert [r.form_type for r in results] == ["voucher"] * 3


def reads_without_a_child_process(data: bytes, ctx, limits: ReadLimits) -> ParsedFile:
    """The real parse, in a worker where starting a process of its own for a file is made to fail."""
    import dataclasses

    import pipeline.read.isolated as isolated
    from pipeline.runtime.parallel import _parse_job

    class NoChildProcesses:
        def Pipe(self, *args, **kwargs):
            raise AssertionError("a file was read in a child process of its own")

        Process = Pipe

    isolated._context = NoChildProcesses()
    parsed = _parse_job(data, ctx, limits)
    return dataclasses.replace(parsed, notes=[*parsed.notes, f"pid {os.getpid()}"])


def test_a_one_core_run_reads_every_pdf_in_its_one_long_lived_worker(ctx):
    from tests.conftest import GOLDEN

    pdfs = ["evaluation/pdf_ticks_glyph.pdf", "evaluation/pdf_ticks_wingdings.pdf", "voucher/pdf_table_total_row.pdf"]
    files = [(GOLDEN / name).read_bytes() for name in pdfs]
    with Parser(1, job=reads_without_a_child_process) as parser:
        results = [f.result(timeout=120) for f in [parser.submit(data, ctx, len(files)) for data in files]]
    assert [r.form_type for r in results] == ["evaluation", "evaluation", "voucher"]  # none failed to start a child
    workers = {note for r in results for note in r.notes if note.startswith("pid ")}
    assert len(workers) == 1 and workers != {f"pid {os.getpid()}"}  # one worker, not the run's own process
