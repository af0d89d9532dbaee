"""Every file of the public corpus (tests/corpus/public/, docs/test-corpus.md) through the per-file
part of a run: taken apart as an inbox file (ingest.attachments_of: emails, mailboxes, Outlook
items), then each part parsed (parse.parse_safely). For each file: no exception escapes, it ends
within a wall-clock guard, and its outcome (per part: the form type, or the sorted problem codes)
is the one in public/expected.json.

The files are parsed in a few long-lived worker processes, each under the memory limit of a
parsing worker, so that a file that loops or balloons costs its own worker (killed at the guard
and replaced), never this test session.

    python -m tests.corpus.test_public_corpus --update         # rewrite expected.json, print the diff
    python -m tests.corpus.test_public_corpus --report r.json  # outcomes, times and memory of every file
    python -m tests.corpus.test_public_corpus --fresh ...      # one process per file (peak RSS per file)

Environment: COFORMS_CORPUS_WORKERS (2), COFORMS_CORPUS_GUARD_SECONDS (240),
COFORMS_CORPUS_MEMORY_MB (2048, as a parsing worker's default limit), COFORMS_CORPUS_FULL=1 (also
every old-format file without a note: each costs a LibreOffice start). --update and --report
take --all for the same.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import difflib
import hashlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "public"
MANIFEST = CORPUS / "MANIFEST.tsv"
EXPECTED = CORPUS / "expected.json"
TODAY = dt.date(2026, 11, 22)  # as tests/conftest.py: "not in the future" must not drift
WORKERS = int(os.environ.get("COFORMS_CORPUS_WORKERS", min(2, os.cpu_count() or 1)))
# Above the run's own time limit for one file (settings.parse_seconds, 60 s, and more for each
# page OCR reads, settings.ocr_page_seconds; the corpus's scans of 3 to 6 pages take 40-60 s), so
# a file the pipeline stops in time is not cut short here; a file that runs past it has no limit.
GUARD_SECONDS = float(os.environ.get("COFORMS_CORPUS_GUARD_SECONDS", 240))
MEMORY_MB = int(os.environ.get("COFORMS_CORPUS_MEMORY_MB", 2048))
MAX_FILE_BYTES = 25 * 1024 * 1024  # settings.max_file_bytes' default
# Each old-format file costs a LibreOffice start (1-4 s): by default only those with a note in the
# manifest (the telling cases) are run, which keeps the module near 3 minutes on 2 cores;
# COFORMS_CORPUS_FULL=1 runs all of them.
FULL = os.environ.get("COFORMS_CORPUS_FULL") == "1"
CONVERTED_EXTENSIONS = (".doc", ".xls", ".odt", ".ods", ".rtf")
READY_SECONDS = 120  # a worker importing the readers on a busy machine


def manifest_rows() -> list[dict[str, str]]:
    if not MANIFEST.exists():
        return []
    with MANIFEST.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def in_this_run(row: dict[str, str]) -> bool:
    return FULL or bool(row["note"]) or not row["path"].lower().endswith(CONVERTED_EXTENSIONS)


def load_expected() -> dict[str, list[str]]:
    return json.loads(EXPECTED.read_text(encoding="utf-8")) if EXPECTED.exists() else {}


# --- in the worker process ---------------------------------------------------------------


def _enter_parsing_limits(memory_mb: int) -> None:
    """The limits of a parsing worker of a run: its address-space cap, and whatever the pipeline
    sets up in its own workers (the readers behave differently there, e.g. PDF in-process)."""
    import importlib
    import resource

    memory_bytes = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    for module in ("pipeline.read.limits", "pipeline.read.isolated"):
        try:
            enter = importlib.import_module(module).enter_limited_worker
        except (ImportError, AttributeError):
            continue
        try:
            enter(memory_bytes)
        except Exception:  # noqa: BLE001 - another signature: its defaults are the run's
            enter()
        return


def _part_outcome(parsed) -> str:
    if parsed.form_type:
        return f"form:{parsed.form_type}"
    return "+".join(sorted({problem.code.value for problem in parsed.problems})) or "no_problem"


def _parse_part(data: bytes, ctx):
    """parse_safely as a run's worker calls it: under the run's default limits (a file's time,
    settings.parse_seconds, and each page OCR reads its own, settings.ocr_page_seconds)."""
    from pipeline.read.limits import ReadLimits
    from pipeline.runtime.parse import parse_safely

    return parse_safely(data, ctx, ReadLimits())


class _ExceptionNames:
    """A logging handler that keeps the type of every exception the pipeline logs (an internal
    error it caught): the outcome says `internal_error`, this says which."""

    def __init__(self) -> None:
        import logging

        self.names: list[str] = []
        self.handler = logging.Handler(logging.ERROR)
        self.handler.emit = self._emit  # type: ignore[method-assign]

    def _emit(self, record) -> None:
        if record.exc_info and record.exc_info[0] is not None:
            self.names.append(record.exc_info[0].__name__)


def outcome_of(relative: str) -> dict:
    """One corpus file through attachments_of and parse_safely, with what it cost."""
    import logging
    import resource

    from pipeline.intake.inbox import InboxItem, attachments_of
    from pipeline.validate.form import Context

    path = CORPUS / relative
    logged = _ExceptionNames()
    logging.getLogger().addHandler(logged.handler)
    started = time.perf_counter()
    escaped = None
    try:
        attachments = attachments_of(InboxItem(path, path.stat().st_size), MAX_FILE_BYTES)
        parsed = (
            []
            if attachments is None
            else [
                attachment.problem
                if attachment.problem is not None
                else _parse_part(attachment.data, Context(today=TODAY))
                for attachment in attachments
            ]
        )
        parts = (
            ["too_large"]
            if attachments is None
            else [item.code.value if hasattr(item, "code") else _part_outcome(item) for item in parsed]
        )
        # what the admin reads, for the report (never compared: wording changes)
        messages = [
            item.message if hasattr(item, "code") else "; ".join(p.message for p in item.problems)[:200]
            for item in parsed
        ]
    except Exception as exc:  # noqa: BLE001 - exactly what this test looks for
        escaped = f"{type(exc).__name__}: {exc}"[:300]
        parts, messages = [f"!{type(exc).__name__}"], []
    finally:
        logging.getLogger().removeHandler(logged.handler)
    return {
        "path": relative,
        "outcome": parts,
        "escaped": escaped,
        "logged": sorted(set(logged.names)),
        "messages": messages,
        "seconds": round(time.perf_counter() - started, 3),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "children_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def serve(memory_mb: int) -> None:
    """Worker loop: a relative path a line in, its outcome as a JSON line out."""
    results = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # whatever a library prints goes to the log, not into the results
    _enter_parsing_limits(memory_mb)
    import pipeline.runtime.parse  # noqa: F401 - loaded before the first file, not timed with it

    results.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        results.write(json.dumps(outcome_of(line.strip())) + "\n")


# --- in the test process -----------------------------------------------------------------


@dataclass(eq=False)  # hashable by identity: one key per process
class _Worker:
    process: subprocess.Popen
    path: str | None = None  # the file it is reading
    deadline: float = 0.0
    started: float = 0.0
    buffer: bytes = field(default=b"")

    @classmethod
    def start(cls, memory_mb: int, log) -> _Worker:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.corpus.test_public_corpus", "--serve", "--memory-mb", str(memory_mb)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
        )  # its own process group: killing it takes LibreOffice with it
        worker = cls(process)
        line = worker.read_line(time.monotonic() + READY_SECONDS)
        if line is None or not json.loads(line).get("ready"):
            worker.kill()
            raise RuntimeError("a corpus worker did not start; see its log")
        return worker

    def read_line(self, deadline: float) -> str | None:
        """The next line the worker writes, or None if it died or the deadline passed."""
        fd = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            with selectors.DefaultSelector() as selector:
                selector.register(fd, selectors.EVENT_READ)
                if not selector.select(max(0.0, deadline - time.monotonic())):
                    return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("utf-8")

    def send(self, path: str, guard: float) -> None:
        self.path, self.started, self.deadline = path, time.monotonic(), time.monotonic() + guard
        self.process.stdin.write(path.encode("utf-8") + b"\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


def _failed(path: str, what: str, seconds: float) -> dict:
    return {
        "path": path,
        "outcome": [f"!{what}"],
        "escaped": what,
        "logged": [],
        "messages": [],
        "seconds": round(seconds, 3),
        "rss_mb": None,
        "children_rss_mb": None,
    }


def run_corpus(
    paths: list[str],
    workers: int = WORKERS,
    guard: float = GUARD_SECONDS,
    memory_mb: int = MEMORY_MB,
    fresh: bool = False,
    progress=None,
) -> dict[str, dict]:
    """Outcomes of `paths` (relative to public/), parsed `workers` at a time. A file past the
    guard has its worker killed and replaced; `fresh` gives each file a new worker (so a
    worker's peak memory is that file's)."""
    pending = list(reversed(paths))
    results: dict[str, dict] = {}
    with tempfile.TemporaryFile(prefix="coforms-corpus-log-") as log:
        pool = [_Worker.start(memory_mb, log) for _ in range(min(workers, len(paths)))]
        try:
            for worker in pool:
                if pending:
                    worker.send(pending.pop(), guard)
            while any(w.path for w in pool):
                busy = [w for w in pool if w.path]
                with selectors.DefaultSelector() as selector:
                    for w in busy:
                        selector.register(w.process.stdout.fileno(), selectors.EVENT_READ, w)
                    ready = {
                        key.data
                        for key, _ in selector.select(max(0.0, min(w.deadline for w in busy) - time.monotonic()))
                    }
                for i, w in enumerate(pool):
                    if not w.path:
                        continue
                    if w not in ready and time.monotonic() < w.deadline and b"\n" not in w.buffer:
                        continue
                    line = w.read_line(w.deadline)
                    path = w.path
                    if line is None:  # past the guard, or the worker died (killed by the kernel, a crash)
                        timed_out = time.monotonic() >= w.deadline
                        w.kill()
                        results[path] = _failed(
                            path,
                            "timeout" if timed_out else f"died({w.process.returncode})",
                            time.monotonic() - w.started,
                        )
                        w = pool[i] = _Worker.start(memory_mb, log)
                    else:
                        results[path] = json.loads(line)
                        w.path = None
                        if fresh:
                            w.stop()
                            w = pool[i] = _Worker.start(memory_mb, log)
                    w.path = None
                    if progress:
                        progress(results[path])
                    if pending:
                        w.send(pending.pop(), guard)
        finally:
            for w in pool:
                w.stop()
    return results


def _slow_first(paths: list[str], expected: dict[str, list[str]]) -> list[str]:
    """Files that ran into the guard before go first, so their wait overlaps the rest."""
    return sorted(paths, key=lambda p: not any(o.startswith("!timeout") for o in expected.get(p, [])))


def outcome_diff(old: dict[str, list[str]], new: dict[str, list[str]]) -> str:
    lines = lambda d: [f"{p}\t{' | '.join(o)}\n" for p, o in sorted(d.items())]  # noqa: E731
    return "".join(difflib.unified_diff(lines(old), lines(new), "expected.json", "today", n=0))


# --- the tests -----------------------------------------------------------------------------

ROWS = manifest_rows()


@pytest.fixture(scope="module")
def corpus_results() -> dict[str, dict]:
    missing = [r["path"] for r in ROWS if not (CORPUS / r["path"]).is_file()]
    if missing:
        pytest.skip(
            f"{len(missing)} public corpus files are not here (e.g. {missing[0]}): python -m tests.corpus.build_public"
        )
    changed = [r["path"] for r in ROWS if hashlib.sha256((CORPUS / r["path"]).read_bytes()).hexdigest() != r["sha256"]]
    assert not changed, f"corpus files differ from MANIFEST.tsv: {changed[:5]}"
    return run_corpus(_slow_first([r["path"] for r in ROWS if in_this_run(r)], load_expected()))


def test_expected_names_every_manifest_file() -> None:
    assert ROWS, "tests/corpus/public/MANIFEST.tsv is missing"
    assert sorted(load_expected()) == sorted(r["path"] for r in ROWS)


@pytest.mark.parametrize("path", [r["path"] for r in ROWS])
def test_public_file(path: str, corpus_results: dict[str, dict]) -> None:
    if path not in corpus_results:
        pytest.skip("converted by LibreOffice: run with COFORMS_CORPUS_FULL=1")
    result = corpus_results[path]
    assert result["escaped"] is None, (
        f"{path}: {result['escaped']} after {result['seconds']} s (a file must end as its own Problem, "
        f"within {GUARD_SECONDS:.0f} s)"
    )
    expected = load_expected().get(path)
    assert result["outcome"] == expected, (
        f"{path}: outcome changed\n{outcome_diff({path: expected or []}, {path: result['outcome']})}"
        "if the new outcome is right: python -m tests.corpus.test_public_corpus --update"
    )


# --- command line ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-mb", type=int, default=MEMORY_MB)
    parser.add_argument("--update", action="store_true", help="rewrite expected.json from today's outcomes")
    parser.add_argument("--report", type=Path, help="write every file's outcome, time and memory here (JSON)")
    parser.add_argument("--fresh", action="store_true", help="one worker process per file")
    parser.add_argument("--only", default="", help="only paths containing this text")
    parser.add_argument("--all", action="store_true", help="every file (as COFORMS_CORPUS_FULL=1)")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--guard", type=float, default=GUARD_SECONDS)
    args = parser.parse_args()
    if args.serve:
        serve(args.memory_mb)
        return
    paths = [r["path"] for r in manifest_rows() if args.only in r["path"] and (args.all or in_this_run(r))]
    expected = load_expected()
    started = time.monotonic()
    results = run_corpus(
        _slow_first(paths, expected),
        args.workers,
        args.guard,
        args.memory_mb,
        args.fresh,
        progress=lambda r: print(
            f"{time.monotonic() - started:6.0f} {r['seconds']:8.2f}s  {r['path']}  {' | '.join(r['outcome'])}",
            file=sys.stderr,
            flush=True,
        ),
    )
    print(f"{len(results)} files in {time.monotonic() - started:.0f} s", file=sys.stderr)
    today = {p: results[p]["outcome"] for p in paths}
    print(outcome_diff({p: expected[p] for p in paths if p in expected}, today) or "no change")
    if args.report:
        args.report.write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")
    if args.update:
        EXPECTED.write_text(json.dumps({**expected, **today}, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
