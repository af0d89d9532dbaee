"""`make bench`: the pipeline against a reproducible mixed corpus, and against the floor.

    python -m bench.run [--forms 1000] [--archive 10000] [--repeat 3] [--backend postgresql] [--dask] [--scans 36]

Prints and saves (bench/results/*.json): forms/s, per-format ms per form, wall time (medians of
--repeat cold-start runs of `coforms run`), and the whole process tree's CPU and memory (each run
under bench/tree.py: the CPU of every process the run started, the peak RSS of the largest, the
tree's peak RSS and PSS, and any process left behind); the floor (the same files only opened and
text-extracted by the bare libraries, on the same cores); one core vs all; the time of a no-op
rerun and of 10 new forms over an archive of --archive forms; the PDF reader's time per page
against pypdfium2's plain text extraction (bench/pdf.py); then the targets of issue 22, each
with PASS or MISS.
With --backend postgresql the warehouse is a throwaway PostgreSQL server (fsync on), a new
database per run. --dask also times the 1,000 forms parsed on a local Dask cluster (a
scheduler and one single-threaded worker per core, as separate processes) and checks the rows.
Then the scan figures (bench/scans.py: the committed golden scans and --scans more generated,
read against their truth; --scans 0 reads only the committed ones, --no-scans skips them).
Then the review desk's server time per page over 10,000 forms and 20,000 open exceptions
(bench/web.py; --no-web skips it; `python -m bench.web --backend postgresql` for PostgreSQL).
"""

from __future__ import annotations

import argparse
import email
import functools
import gc
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from email import policy
from pathlib import Path

from bench.tree import measure
from pipeline.store.warehouse import Warehouse

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / ".cache"
RESULTS = ROOT / "results"
COFORMS = str(Path(sys.executable).with_name("coforms"))
_LOG_LINE = re.compile(r"-> submission \d+ \w+ \(\d+ problems; (\w+), parse (\d+) ms\)")


class Backend:
    """Where the runs' warehouses live: a DuckDB file in the outputs, or a new PostgreSQL
    database per run on one throwaway server."""

    def __init__(self, server_url: str | None = None):
        self.server_url = server_url
        self.database: str | None = None

    def fresh(self, template: str | None = None) -> None:
        """A new warehouse for the next run (for PostgreSQL, optionally a copy of `template`)."""
        if self.server_url is None:
            return
        from tests.postgres import new_database

        self.database = new_database(self.server_url, template=template)
        if template is None:
            subprocess.run(
                [COFORMS, "migrate"], env=self.env(Path(tempfile.gettempdir())), check=True, capture_output=True
            )

    def env(self, outputs: Path) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COFORMS_")}
        env["COFORMS_OUTPUTS"] = str(outputs)
        # the corpus is copied in just before each run: the inbox's settling time (a wait for files
        # still arriving) is not the processing being measured
        env["COFORMS_SETTLE_SECONDS"] = "0"
        if DASK_ADDRESS:
            env["COFORMS_DASK_ADDRESS"] = DASK_ADDRESS
        if self.database:
            env["COFORMS_WAREHOUSE_URL"] = self.database
        return env

    def target(self, outputs: Path) -> Path | str:
        return self.database or outputs / "warehouse.duckdb"


OUTPUTS_LAYOUT = 2  # bumped when what a run leaves in its outputs folder changes (2: voucher_lines/)
BACKEND = Backend()
DASK_ADDRESS: str | None = None  # set only for the Dask runs


def _run(inbox: Path, outputs: Path, workers: int | None = None) -> dict:
    """One `coforms run`, its whole process tree measured (bench/tree.py)."""
    env = BACKEND.env(outputs)
    env["COFORMS_INBOX"] = str(inbox)
    if workers:
        env["COFORMS_WORKERS"] = str(workers)
    usage = measure([COFORMS, "run"], env)
    if usage.returncode != 0:
        raise SystemExit(f"coforms run failed:\n{usage.stderr[-3000:]}")
    return {
        "wall_s": usage.wall_s,
        "cpu_s": usage.cpu_s,
        "largest_process_peak_rss_mb": usage.largest_process_peak_rss_mb,
        "tree_peak_rss_mb": usage.tree_peak_rss_mb,
        "tree_peak_pss_mb": usage.tree_peak_pss_mb,
        "processes_seen": usage.processes_seen,
        "processes_left_behind": len(usage.left_behind),
        "left_behind": usage.left_behind,
        # where the tree's CPU went: each process, when it started, its CPU
        "processes": [f"{p['what']}: from {p['started_s']} s, {p.get('cpu_s', 0)} s CPU" for p in usage.processes],
    }


def _fresh_inbox(corpus: Path, where: Path) -> Path:
    inbox = where / "inbox"
    shutil.copytree(corpus, inbox, ignore=shutil.ignore_patterns(".complete"))
    return inbox


def _per_format(outputs: Path) -> dict[str, float]:
    times = defaultdict(list)
    for line in (outputs / "coforms.log").read_text().splitlines():
        m = _LOG_LINE.search(line)
        if m:
            times[m.group(1)].append(int(m.group(2)))
    return {fmt: round(statistics.mean(v), 1) for fmt, v in sorted(times.items())}


def _views(warehouse: Path | str) -> dict:
    """Every view's rows, without the columns that name a run (ids and times)."""
    with Warehouse(warehouse, read_only=True) as wh:
        return wh.view_contents(
            leave_out=(
                "submission_id",
                "loaded_at",
                "resolved_at",
                "acted_at",
                "audit_id",
                "superseded_by",
                "related_submission_id",
                "resolution",
            )
        )


# ---------------------------------------------------------------- the floor


def _extract(path: str, collector_paused: bool = False) -> int:
    """Open a file and pull its text with the bare library, nothing more (with
    `collector_paused`, with Python's cycle collector paused meanwhile, as the pipeline's
    parsers do: pipeline.runtime.parse)."""
    data = Path(path).read_bytes()
    if not collector_paused:
        return _extract_bytes(data, path)
    gc.disable()
    try:
        return _extract_bytes(data, path)
    finally:
        gc.enable()


def _extract_bytes(data: bytes, name: str) -> int:
    if name.endswith(".eml"):
        message = email.message_from_bytes(data, policy=policy.default)
        return sum(
            _extract_bytes(part.get_payload(decode=True), part.get_filename() or "")
            for part in message.iter_attachments()
        )
    if data.startswith(b"%PDF"):
        import pdfplumber

        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return sum(len(page.extract_text() or "") for page in pdf.pages)
    if name.endswith(".docx"):
        import docx

        document = docx.Document(io.BytesIO(data))
        text = [p.text for p in document.paragraphs]
        text += [c.text for t in document.tables for r in t.rows for c in r.cells]
        return sum(map(len, text))
    if name.endswith(".xlsx"):
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
        return sum(len(str(v)) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    return 0


def floor(corpus: Path, workers: int, collector_paused: bool = False) -> float:
    files = sorted(str(p) for p in corpus.iterdir() if not p.name.startswith("."))
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(functools.partial(_extract, collector_paused=collector_paused), files, chunksize=8))
    return time.perf_counter() - started


def _dask_runs(args: argparse.Namespace, corpus: Path, result: dict, local_views: dict) -> None:
    global DASK_ADDRESS
    from tests.dask_cluster import local_dask_cluster

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp, local_dask_cluster(Path(tmp), workers=cores) as address:
        DASK_ADDRESS = address
        try:
            walls = []
            for n in range(args.repeat):
                with tempfile.TemporaryDirectory() as run_dir:
                    run_dir = Path(run_dir)
                    BACKEND.fresh()
                    walls.append(_run(_fresh_inbox(corpus, run_dir), run_dir / "outputs")["wall_s"])
                    if n == 0:
                        result["dask_identical_to_local"] = _views(BACKEND.target(run_dir / "outputs")) == local_views
                print(f"  dask run {n + 1}: {walls[-1]:.1f} s", flush=True)
        finally:
            DASK_ADDRESS = None
    result["dask_wall_s"] = round(statistics.median(walls), 2)
    result["dask_workers"] = cores


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forms", type=int, default=1000)
    parser.add_argument("--archive", type=int, default=10000, help="forms already processed, for the rerun times")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", choices=("duckdb", "postgresql"), default="duckdb")
    parser.add_argument("--dask", action="store_true", help="also the 1,000 forms parsed on a local Dask cluster")
    parser.add_argument("--scans", type=int, default=36, help="scans generated beside the committed golden scans")
    parser.add_argument("--no-scans", action="store_true", help="skip the scan figures")
    parser.add_argument("--no-web", action="store_true", help="skip the review desk's page times")
    args = parser.parse_args()
    if args.backend == "postgresql":
        from tests.postgres import throwaway_postgres

        with throwaway_postgres(durable=True) as server:
            BACKEND.server_url = server
            bench(args)
    else:
        bench(args)
    if not args.no_scans:
        from bench import scans

        print(f"scans: the golden scans and {args.scans} more, read against their truth ...", flush=True)
        scans.report(scans.run(args.scans))
    if not args.no_web:
        from bench import web

        print("review desk: server time per page, 10,000 forms and 20,000 open exceptions ...", flush=True)
        web.report(web.run(10_000, 20_000, args.repeat * 5), "duckdb")


def bench(args: argparse.Namespace) -> None:
    from bench.corpus import make_corpus

    cores = os.cpu_count() or 1
    result: dict = {"backend": args.backend, "forms": args.forms, "cores": cores, "archive": args.archive}
    result["load_average_start"] = os.getloadavg()  # the machine may be shared: how busy it was

    print(f"corpus of {args.forms} mixed forms (cached in {CACHE}) ...", flush=True)
    corpus = make_corpus(args.forms, CACHE / f"mixed-{args.forms}")
    # each run of the pipeline is followed at once by the floor and the floor with the collector
    # paused: on a machine shared with other work each ratio compares times taken under the same load
    runs, floors, paused = [], [], []
    for n in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            inbox = _fresh_inbox(corpus, tmp)
            BACKEND.fresh()
            runs.append(_run(inbox, tmp / "outputs"))
            if n == 0:
                result["processes"] = runs[0]["processes"]
                result["per_format_parse_ms"] = _per_format(tmp / "outputs")
                all_cores = _views(BACKEND.target(tmp / "outputs"))
        floors.append(floor(corpus, cores))
        # the floor does what the libraries do out of the box; this one also pauses the collector per
        # file as the pipeline's parsers do, for a ratio that credits the pipeline none of that gain
        paused.append(floor(corpus, cores, collector_paused=True))
        print(
            f"  run {n + 1}: {runs[-1]['wall_s']:.1f} s; the floor {floors[-1]:.1f} s, collector paused"
            f" {paused[-1]:.1f} s (load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    result["floor_wall_s"] = round(statistics.median(floors), 2)
    result["floor_collector_paused_wall_s"] = round(statistics.median(paused), 2)
    result["pipeline_over_floor"] = round(
        statistics.median(r["wall_s"] / f for r, f in zip(runs, floors, strict=True)), 2
    )
    result["pipeline_over_floor_collector_paused"] = round(
        statistics.median(r["wall_s"] / f for r, f in zip(runs, paused, strict=True)), 2
    )
    for key in ("wall_s", "cpu_s"):
        result[key] = round(statistics.median(r[key] for r in runs), 2)
    for key in ("largest_process_peak_rss_mb", "tree_peak_rss_mb", "tree_peak_pss_mb", "processes_seen"):
        result[key] = max(r[key] for r in runs)  # a ceiling: the worst run
    result["forms_per_s"] = round(args.forms / result["wall_s"], 1)
    left_behind = [name for r in runs for name in r["left_behind"]]

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        BACKEND.fresh()
        one = _run(_fresh_inbox(corpus, tmp), tmp / "outputs", workers=1)
        result["one_core_wall_s"] = round(one["wall_s"], 2)
        result["one_core_cpu_s"] = round(one["cpu_s"], 2)
        # the processes a one-core run starts: a few, whatever the number of files (not one per PDF)
        result["one_core_processes_seen"] = one["processes_seen"]
        result["one_core_pdfs"] = sum(1 for p in corpus.iterdir() if p.suffix == ".pdf")
        left_behind += one["left_behind"]
        result["identical_to_one_core"] = _views(BACKEND.target(tmp / "outputs")) == all_cores
        if args.backend == "postgresql":  # the same rows as the embedded default?
            with tempfile.TemporaryDirectory() as embedded:
                server, BACKEND.server_url, BACKEND.database = BACKEND.server_url, None, None
                _run(_fresh_inbox(corpus, Path(embedded)), Path(embedded) / "outputs")
                result["identical_to_duckdb"] = _views(Path(embedded) / "outputs" / "warehouse.duckdb") == all_cores
                BACKEND.server_url = server

    if args.dask:
        _dask_runs(args, corpus, result, all_cores)

    print(f"archive of {args.archive} processed forms ...", flush=True)
    archive_corpus = make_corpus(args.archive, CACHE / f"archive-{args.archive}", seed=7, formats=("docx", "xlsx"))
    new_forms = make_corpus(10, CACHE / "new-10", seed=99)
    from pipeline.store.warehouse import SCHEMA_VERSION

    # built once per schema version and outputs layout: a run over an older warehouse would time its
    # migration too, and one over older outputs the writing of files the current code keeps
    # (on PostgreSQL, once per bench: the server is thrown away)
    work = CACHE / f"archive-{args.archive}-processed-schema{SCHEMA_VERSION}-outputs{OUTPUTS_LAYOUT}-{args.backend}"
    if args.backend == "postgresql" or not (work / "outputs" / "warehouse.duckdb").exists():
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        BACKEND.fresh()
        build = _run(_fresh_inbox(archive_corpus, work), work / "outputs")
        result["archive_build_wall_s"] = round(build["wall_s"], 1)
    archive_database = BACKEND.database
    embedded = (
        CACHE
        / f"archive-{args.archive}-processed-schema{SCHEMA_VERSION}-outputs{OUTPUTS_LAYOUT}-duckdb"
        / "outputs"
        / "warehouse.duckdb"
    )
    if args.backend == "postgresql" and embedded.exists():  # made by a DuckDB bench before this one
        result["archive_identical_to_duckdb"] = _views(archive_database) == _views(embedded)
    noop = [_run(work / "inbox", work / "outputs") for _ in range(args.repeat)]
    result["noop_rerun_s"] = round(statistics.median(r["wall_s"] for r in noop), 2)
    left_behind += [name for r in noop for name in r["left_behind"]]
    ten, ten_cpu, parse_ms = [], [], []
    for _ in range(args.repeat):  # each over its own copy of the archive
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            shutil.copytree(work / "outputs", tmp / "outputs")
            inbox = _fresh_inbox(new_forms, tmp)
            log = tmp / "outputs" / "coforms.log"
            seen = len(log.read_text().splitlines())  # the archive's own lines came with the copy
            BACKEND.fresh(template=archive_database)
            one_of_ten = _run(inbox, tmp / "outputs")
            ten.append(one_of_ten["wall_s"])
            result.setdefault("ten_new_processes", one_of_ten["processes"])
            ten_cpu.append(one_of_ten["cpu_s"])
            left_behind += one_of_ten["left_behind"]
            parse_ms.append(
                sum(int(m.group(2)) for m in map(_LOG_LINE.search, log.read_text().splitlines()[seen:]) if m)
            )
    result["ten_new_over_archive_s"] = round(statistics.median(ten), 2)
    result["ten_new_parse_ms"] = round(statistics.median(parse_ms))
    result["ten_new_cpu_s"] = round(statistics.median(ten_cpu), 2)  # of the whole tree: less hit by others' load
    result["processes_left_behind"] = len(left_behind)  # by all the runs above, each at its exit
    if left_behind:
        result["left_behind_examples"] = sorted({name.split(" ", 1)[1] for name in left_behind})[:5]

    print("the PDF reader against pypdfium2's plain text extraction ...", flush=True)
    from bench import pdf

    result.update(pdf.run(corpus))
    result["load_average_end"] = os.getloadavg()

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench-{args.backend}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    width = max(map(len, result))
    for key, value in result.items():
        if isinstance(value, list) and value and isinstance(value[0], str):
            print(key)
            for line in value:
                print(f"  {line}")
        else:
            print(f"{key:<{width}}  {value}")
    print(f"saved {out}")
    print_targets(result, args)


# the targets of issue 22: (what, result key, the most it may be, unit)
TARGETS = (
    ("PDF parse / pypdfium2 plain text, per page", "pdf_parse_over_pdfium", 5, "x"),
    ("1,000 mixed forms, wall", "wall_s", 6, " s"),
    ("pipeline / bare-library floor", "pipeline_over_floor", 0.6, ""),
    ("10 new forms over 10,000", "ten_new_over_archive_s", 1.5, " s"),
    ("whole-tree peak RSS (sum over its processes)", "tree_peak_rss_mb", 600, " MB"),
)
ONE_CORE_PROCESSES = 10  # the run, the fork server, a worker, the resource tracker, renderers: not one per PDF


def print_targets(result: dict, args: argparse.Namespace) -> None:
    """Each target with PASS or MISS and the figure; the floors it is measured against are this run's."""
    print(f"targets (issue 22; {result['cores']} cores, load average at the end {result['load_average_end'][0]:.1f}):")
    if (args.forms, args.archive) != (1000, 10_000):
        print(
            f"  (this bench: {args.forms} forms and an archive of {args.archive}; the targets are for 1,000 and 10,000)"
        )
    for what, key, most, unit in TARGETS:
        figure = result[key]
        print(f"  {'PASS' if figure <= most else 'MISS'}  {what}: {figure}{unit} (target <= {most}{unit})")
    seen, pdfs = result["one_core_processes_seen"], result["one_core_pdfs"]
    print(
        f"  {'PASS' if seen <= ONE_CORE_PROCESSES else 'MISS'}  a one-core run does not read every PDF in a new"
        f" child process: {seen} processes seen for {pdfs} PDFs (target <= {ONE_CORE_PROCESSES})"
    )
    left = result["processes_left_behind"]
    print(f"  {'PASS' if left == 0 else 'MISS'}  processes left behind by the runs at their exit: {left} (target 0)")


if __name__ == "__main__":
    main()
