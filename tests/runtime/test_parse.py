"""pipeline.runtime.parse.parse_safely: the cycle collector is paused while a file is parsed (the speed-up
pipeline.runtime.parse explains) and always restored, also when the file breaks our code."""

from __future__ import annotations

import gc

import pytest

import pipeline.runtime.parse as parse
from pipeline.problems import ProblemCode


@pytest.fixture
def collector_seen(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    seen: list[bool] = []

    def parse_file(data, ctx, conversion_seconds=None):
        seen.append(gc.isenabled())
        if data == b"boom":
            raise KeyError("a bug of ours")
        return parse.ParsedFile(None, None)

    monkeypatch.setattr(parse, "parse_file", parse_file)
    assert gc.isenabled()
    yield seen
    gc.enable()


def test_the_cycle_collector_is_paused_while_a_file_is_parsed_and_back_on_after(collector_seen, ctx):
    parse.parse_safely(b"a form", ctx)
    assert collector_seen == [False]
    assert gc.isenabled()


def test_the_collector_is_back_on_after_a_file_that_breaks_our_code(collector_seen, ctx):
    parsed = parse.parse_safely(b"boom", ctx)
    assert [p.code for p in parsed.problems] == [ProblemCode.INTERNAL_ERROR]
    assert "internal error (KeyError)" in parsed.problems[0].message
    assert collector_seen == [False] and gc.isenabled()


def test_a_collector_the_caller_paused_stays_paused(collector_seen, ctx):
    gc.disable()
    parse.parse_safely(b"a form", ctx)
    assert not gc.isenabled()


def test_a_scan_with_more_pages_than_the_setting_allows_is_too_large_before_any_is_read(ctx):
    import io

    from PIL import Image

    from pipeline.problems import ProblemCode
    from pipeline.read.limits import ReadLimits
    from pipeline.runtime.parse import parse_safely

    pages = [Image.new("1", (1700, 2200), 1) for _ in range(3)]
    tiff = io.BytesIO()
    pages[0].save(tiff, format="TIFF", compression="group4", save_all=True, append_images=pages[1:])
    parsed = parse_safely(tiff.getvalue(), ctx, ReadLimits(ocr_max_pages=2))
    assert [p.code for p in parsed.problems] == [ProblemCode.TOO_LARGE]
    assert "3 pages" in parsed.problems[0].message
