"""The worker that reads PDFs: a time limit, a memory limit, and only Problems come back."""

from __future__ import annotations

import time

import pytest

from pipeline.problems import ProblemCode
from pipeline.read.errors import UnreadableFile
from pipeline.read.isolated import read_isolated


def hangs(data: bytes):
    while True:
        time.sleep(1)


def balloons(data: bytes):
    hog = []
    while True:
        hog.append(bytearray(50 * 1024 * 1024))


def recurses(data: bytes):
    return recurses(data)


def works(data: bytes):
    from pipeline.document import Document

    doc = Document(format="test")
    doc.notes.append(data.decode())
    return doc


def test_a_reader_that_never_finishes_is_stopped():
    started = time.monotonic()
    with pytest.raises(UnreadableFile) as err:
        read_isolated(hangs, b"x", seconds=2)
    assert time.monotonic() - started < 10 and err.value.code is ProblemCode.CORRUPT_FILE
    assert "longer than 2 seconds" in err.value.message


def test_a_reader_that_eats_memory_is_stopped_at_the_limit():
    with pytest.raises(UnreadableFile) as err:
        read_isolated(balloons, b"x", seconds=60, memory_bytes=400 * 1024**2)
    assert err.value.code is ProblemCode.TOO_LARGE


def test_deep_recursion_is_a_problem_not_a_crash():
    with pytest.raises(UnreadableFile) as err:
        read_isolated(recurses, b"x")
    assert err.value.code is ProblemCode.CORRUPT_FILE


def test_a_document_comes_back_from_the_worker():
    assert read_isolated(works, b"hello").notes == ["hello"]


def test_in_a_limited_pool_worker_the_reader_runs_in_place_under_the_files_deadline(monkeypatch):
    import os

    import pipeline.read.limits as limits

    monkeypatch.setattr(limits, "_in_limited_worker", True)
    assert read_isolated(lambda data: os.getpid(), b"x") == os.getpid()  # no process of its own
    started = time.monotonic()
    with pytest.raises(limits.TimeLimitReached), limits.deadline(1):
        read_isolated(hangs, b"x")
    assert time.monotonic() - started < 5
    with pytest.raises(UnreadableFile) as err:
        read_isolated(recurses, b"x")
    assert err.value.code is ProblemCode.CORRUPT_FILE


def test_in_a_limited_pool_worker_a_library_failure_is_a_damaged_file_as_in_its_own_process(monkeypatch):
    import pipeline.read.limits as limits

    def fails_like_pdfplumber_on_a_page_with_no_mediabox(data: bytes):
        raise TypeError("'NoneType' object is not iterable")

    monkeypatch.setattr(limits, "_in_limited_worker", True)
    with pytest.raises(UnreadableFile) as in_place:
        read_isolated(fails_like_pdfplumber_on_a_page_with_no_mediabox, b"x")
    assert in_place.value.code is ProblemCode.CORRUPT_FILE and "(TypeError)" in in_place.value.message


def test_each_page_read_by_ocr_in_the_child_gets_its_time_from_the_parent():
    """A scanned PDF read outside a run: five seconds is too little for a page of OCR (some 8 s),
    but the child asks for each page's allowance (ocr_page_seconds) before reading it."""
    import io

    from PIL import Image

    from pipeline.read.pdf import read_pdf
    from tests.conftest import GOLDEN

    page = Image.open(GOLDEN.parent / "golden_scans" / "voucher" / "clean_300dpi.png").convert("L")
    pdf = io.BytesIO()
    page.save(pdf, format="PDF", resolution=300)
    doc = read_isolated(read_pdf, pdf.getvalue(), seconds=5)
    assert doc.format == "scan" and any(line.kind == "row" for line in doc.lines)
