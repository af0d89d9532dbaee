"""The PDF reader against pdfium's floor: the time `pipeline.read.pdf.read_pdf` takes per page,
and the time pypdfium2 takes only to pull each page's plain text, on the same PDFs of the bench
corpus, in this one process, one file after the other (each file read by both in turn). Timed as
this process's CPU time, not wall time: on a machine shared with other work, the wall time of a
single-threaded reader measures the others too.

read_pdf runs with Python's cycle collector paused, as the pipeline runs its readers
(pipeline.runtime.parse), and the cycles it leaves are collected in its time; the floor is
pypdfium2 as it comes.

    python -m bench.pdf [--files 60] [--repeat 3]
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


def main() -> None:
    from bench.corpus import make_corpus
    from bench.run import CACHE

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forms", type=int, default=1000, help="the bench corpus the PDFs are taken from")
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result = run(make_corpus(args.forms, CACHE / f"mixed-{args.forms}"), args.files, args.repeat)
    for key, value in result.items():
        print(f"{key:<24}  {value}")


if __name__ == "__main__":
    main()
