"""The PDF reader against pdfium's floor: the time `pipeline.read.pdf.read_pdf` takes per page,
and the time pypdfium2 takes only to pull each page's plain text, on the same PDFs of the bench
corpus, in this one process, one file after the other (each file read by both in turn). Timed as
this process's CPU time, not wall time: on a machine shared with other work, the wall time of a
single-threaded reader measures the others too.

read_pdf runs with Python's cycle collector paused, as the pipeline runs its readers
(pipeline.runtime.parse), and the cycles it leaves are collected in its time; the floor is
pypdfium2 as it comes.

    python -m bench.pdf [--files 60] [--repeat 3]
    python -m bench.pdf --profile     # where read_pdf's time goes: its own time by module
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path


def _pdfium_text(data: bytes) -> int:
    """Open the PDF and pull every page's plain text with pdfium, nothing more: the floor."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        chars = 0
        for page in doc:
            textpage = page.get_textpage()
            chars += len(textpage.get_text_range())
            textpage.close()
            page.close()
        return chars
    finally:
        doc.close()


def _pages(data: bytes) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        return len(doc)
    finally:
        doc.close()


def _read_pdf(data: bytes) -> None:
    from pipeline.read.pdf import read_pdf

    gc.disable()
    try:
        read_pdf(data)
    finally:
        gc.enable()
    gc.collect(0)  # what it allocated (all young: nothing was collected meanwhile), as the pipeline does next


def sample(corpus: Path, files: int) -> list[Path]:
    """`files` PDFs spread over the corpus (printed and fillable as they come in it)."""
    pdfs = sorted(p for p in corpus.iterdir() if p.suffix == ".pdf")
    step = max(1, len(pdfs) // files)
    return pdfs[::step][:files]


def run(corpus: Path, files: int = 60, repeat: int = 3) -> dict:
    datas = [p.read_bytes() for p in sample(corpus, files)]
    pages = sum(map(_pages, datas))
    _read_pdf(datas[0])  # imports and first-use costs out of the figures
    _pdfium_text(datas[0])
    ours, floor = [], []
    for _ in range(repeat):
        ours_s = floor_s = 0.0
        for data in datas:
            started = time.process_time()
            _read_pdf(data)
            ours_s += time.process_time() - started
            started = time.process_time()
            _pdfium_text(data)
            floor_s += time.process_time() - started
        ours.append(ours_s)
        floor.append(floor_s)
    ours_ms, floor_ms = 1000 * statistics.median(ours) / pages, 1000 * statistics.median(floor) / pages
    return {
        "pdf_files": len(datas),
        "pdf_pages": pages,
        "pdf_parse_ms_per_page": round(ours_ms, 2),
        "pdfium_text_ms_per_page": round(floor_ms, 3),
        "pdf_parse_over_pdfium": round(ours_ms / floor_ms, 1),
    }


def _module_of(filename: str) -> str:
    """A profiled function's file as the module a reader of the profile thinks in: pdfminer,
    pypdfium2, pipeline.read.pdf_columns, ..."""
    path = Path(filename)
    parts = path.with_suffix("").parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    if "pipeline" in parts:
        return ".".join(parts[parts.index("pipeline") :])
    if filename.startswith("<") or filename == "~":
        return "built-in (C functions called from Python)"
    return "python standard library" if "python3" in filename else filename


def profile(corpus: Path, files: int = 60, top: int = 12) -> list[tuple[str, float]]:
    """read_pdf over the sample under cProfile: the share of its time spent in each module's own code."""
    import cProfile
    import pstats

    datas = [p.read_bytes() for p in sample(corpus, files)]
    _read_pdf(datas[0])
    profiler = cProfile.Profile()
    profiler.enable()
    for data in datas:
        _read_pdf(data)
    profiler.disable()
    own: dict[str, float] = {}
    for (filename, _line, _name), (_calls, _primitive, tottime, _cum, _callers) in pstats.Stats(profiler).stats.items():
        module = _module_of(filename)
        own[module] = own.get(module, 0.0) + tottime
    total = sum(own.values())
    return [(module, seconds / total) for module, seconds in sorted(own.items(), key=lambda kv: -kv[1])[:top]]


def main() -> None:
    from bench.corpus import make_corpus
    from bench.run import CACHE

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forms", type=int, default=1000, help="the bench corpus the PDFs are taken from")
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="where read_pdf's time goes, by module")
    args = parser.parse_args()
    if args.profile:
        print("read_pdf's own time by module (cProfile; its overhead inflates Python-heavy code):")
        for module, share in profile(make_corpus(args.forms, CACHE / f"mixed-{args.forms}"), args.files):
            print(f"  {share:6.1%}  {module}")
        return
    result = run(make_corpus(args.forms, CACHE / f"mixed-{args.forms}"), args.files, args.repeat)
    for key, value in result.items():
        print(f"{key:<24}  {value}")


if __name__ == "__main__":
    main()
