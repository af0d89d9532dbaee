"""The scan figures of `make bench`: how well scanned and photographed forms are read.

    python -m bench.scans [--extra 36] [--seed 1] [--workers N]

Reads the committed golden scans (tests/golden_scans) and --extra more made by the generator
(tests/fixtures/scans, in a temporary folder, not kept) in the pipeline's own parsing pool under
the production read limits (pipeline.read.limits.ReadLimits from the default settings), and
compares each typed form with its truth (<file>.truth.json):

- values read exactly: voucher amounts, dates (voucher lines and form dates), times, names;
- voucher lines loaded (their form has no error) vs held; voucher sheets loaded with no error;
- wrong values loaded: in a form that loads, a value present that differs from the truth (target 0);
- signatures: precision and recall of "signed" over voucher lines (targets >= 0.98);
- ticks: boxes whose state is read right (target >= 99%); a question ticked twice is right when it is
  held as ambiguous_answer, a faint mark when it is read ticked or held with an error on its question;
- every scan recognised as its form; CPU s per scanned page (target <= 8 s), peak RSS per worker.

Prints the figures and saves them in bench/results/scans-*.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
TARGETS = {
    "wrong_values_loaded": 0,
    "signature_precision": 0.98,
    "signature_recall": 0.98,
    "tick_accuracy": 0.99,
    "voucher_sheets_loaded_no_error": 0.75,
    "cpu_s_per_page": 8.0,
}


def measured_parse(data: bytes, ctx, limits):
    """The pool's job: parse_safely as a run does, with the worker's CPU time for this file and its peak RSS."""
    from pipeline.runtime.parse import parse_safely

    before = resource.getrusage(resource.RUSAGE_SELF)
    parsed = parse_safely(data, ctx, limits)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return parsed, cpu, after.ru_maxrss / 1024


# ---------------------------------------------------------------- reading the scans


def scan_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".truth.json"))


def read_all(files: list[Path], workers: int | None = None) -> list[tuple]:
    """Each file parsed in the project's pool of limited workers: (ParsedFile, cpu_s, peak_rss_mb)."""
    from pipeline.read.limits import ReadLimits
    from pipeline.runtime.parallel import Parser
    from pipeline.settings import Settings
    from tests.fixtures.scans.documents import context

    settings = Settings()
    ctx = context()
    results = []
    with Parser(workers or settings.workers, None, ReadLimits.from_settings(settings), job=measured_parse) as parser:
        parser.start(len(files))
        futures = [parser.submit(path.read_bytes(), ctx, len(files)) for path in files]
        for future in futures:
            outcome = future.result()
            # a file that stopped its worker comes back as a bare ParsedFile, without the measures
            results.append(outcome if isinstance(outcome, tuple) else (outcome, None, None))
    return results


# ---------------------------------------------------------------- comparing with the truth


def _flatten(value, path: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(value, list) and value and isinstance(value[0], dict):
        out = {}
        for n, item in enumerate(value):
            out.update(_flatten(item, f"{path}.{n}"))
        return out
    return {path: sorted(value) if isinstance(value, list) else value}


def _answer(values: dict | None, question: str):
    """The answer the typed form holds for a tick question (outline name, e.g. relationships_1, gender)."""
    if values is None:
        return None
    if question in values:
        return values[question]
    principle, _, n = question.rpartition("_")
    return (values.get("statements") or {}).get(f"{principle}.{n}", {}).get("answer")


def _field_of(question: str, form_type: str) -> str:
    if form_type == "evaluation" and question != "themes":
        principle, _, n = question.rpartition("_")
        return f"{principle}.{n}"
    return question


class Tally:
    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}  # name -> [right, of]
        self.wrong_loaded: list[dict] = []
        self.signatures = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        self.per_file: list[dict] = []

    def count(self, name: str, right: bool) -> None:
        tally = self.counts.setdefault(name, [0, 0])
        tally[0] += int(right)
        tally[1] += 1

    def share(self, name: str) -> float | None:
        right, of = self.counts.get(name, [0, 0])
        return round(right / of, 4) if of else None


def compare(path: Path, parsed, truth: dict, tally: Tally) -> dict:
    from pipeline.problems import has_errors

    form_type = truth["form_type"]
    got = parsed.form.model_dump(mode="json") if parsed.form is not None else None
    want = truth["values"]
    held = got is None or has_errors(parsed.problems)
    error_fields = {p.field for p in parsed.problems if p.severity.value == "error"}
    codes = sorted({p.code.value for p in parsed.problems})
    tally.count("recognised", parsed.form_type == form_type)

    if form_type == "voucher":
        got_lines = {line["line_no"]: line for line in (got or {}).get("lines", [])}
        for line in want["lines"]:
            read = got_lines.get(line["line_no"], {})
            for key, name in (("amount", "amounts"), ("date", "dates"), ("time_spent_minutes", "times")):
                if line[key] is not None:
                    tally.count(name, read.get(key) == line[key])
            tally.count("names", read.get("name") == line["name"])
            tally.count("lines_loaded", not held)
            if read:
                signed, truly = bool(read.get("signed")), bool(line["signed"])
                key = ("tp" if truly else "fp") if signed else ("fn" if truly else "tn")
                tally.signatures[key] += 1
        tally.count("names", bool(got) and got.get("completed_by") == want["completed_by"])
        tally.count("voucher_sheets_loaded_no_error", not held)
    elif want.get("date") is not None:
        tally.count("dates", bool(got) and got.get("date") == want["date"])

    for question, options in _questions(form_type):
        marks = [t for t in truth["marks"]["ticks"] if t["question"] == question]
        field = _field_of(question, form_type)
        answer = _answer(got, question)
        read = set(answer) if isinstance(answer, list) else ({answer} if answer else set())
        ambiguous = question in truth["marks"]["ambiguous"]
        held_as_ambiguous = any(p.code.value == "ambiguous_answer" and p.field == field for p in parsed.problems)
        for option in options:
            mark = next((t for t in marks if t["option"] == option), None)
            if ambiguous:
                right = held_as_ambiguous
            elif mark is not None and mark["faint"]:
                right = option in read or field in error_fields
            else:
                right = (option in read) == (mark is not None)
            tally.count("ticks", right)

    if got is not None and not held:
        want_flat, got_flat = _flatten(want), _flatten(got)
        for key, value in got_flat.items():
            if value is not None and value != [] and _plain(want_flat.get(key)) != _plain(value):
                tally.wrong_loaded.append(
                    {"file": str(path), "field": key, "kind": _kind(key), "read": value, "truth": want_flat.get(key)}
                )
    return {
        "file": path.name,
        "form_type": form_type,
        "read_as": parsed.form_type,
        "held": held,
        "problems": codes,
        "format": truth["scan"]["format"],
        "dpi": truth["scan"]["dpi"],
        "pages": truth["scan"]["pages"],
        "degradations": [d["step"] for d in truth["scan"]["degradations"]],
        "parse_ms": round(parsed.parse_ms),
    }


def _plain(value):
    """Text compared as words: a line break where the printed line wrapped is not a wrong value."""
    return " ".join(value.split()) if isinstance(value, str) else value


def _kind(key: str) -> str:
    """What sort of value a field path holds, for the breakdown of wrong values."""
    last = key.rsplit(".", 1)[-1]
    kinds = {
        "amount": "money",
        "total": "money",
        "date": "date",
        "time_spent_minutes": "time",
        "signed": "signature",
        "name": "name",
        "completed_by": "name",
        "answer": "tick",
        "themes": "tick",
        "circumstances": "tick",
    }
    if last in kinds:
        return kinds[last]
    if last in {q for form in ("monitoring",) for q, _ in _questions(form)}:
        return "tick"
    return "text"


def _questions(form_type: str) -> list[tuple[str, tuple[str, ...]]]:
    if form_type not in ("evaluation", "monitoring"):
        return []
    from tests.fixtures.scans.values import _choices

    return [(c.name, c.options) for c in _choices(form_type)]


# ---------------------------------------------------------------- the bench


def run(extra: int = 36, seed: int = 1, workers: int | None = None) -> dict:
    from tests.fixtures.scans.build import GOLDEN_SCANS, build, random_specs

    with tempfile.TemporaryDirectory() as tmp:
        files = scan_files(GOLDEN_SCANS)
        if extra:
            started = time.perf_counter()
            files += build(random_specs(extra, seed), Path(tmp))
            print(f"  {extra} more scans generated in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        outcomes = read_all(files, workers)
        wall = time.perf_counter() - started
        tally = Tally()
        cpu, rss, pages = [], [], 0
        for path, (parsed, cpu_s, rss_mb) in zip(files, outcomes, strict=True):
            truth = json.loads(path.with_name(path.name + ".truth.json").read_text())
            row = compare(path, parsed, truth, tally)
            row["cpu_s"] = round(cpu_s, 2) if cpu_s is not None else None
            tally.per_file.append(row)
            pages += truth["scan"]["pages"]
            if cpu_s is not None:
                cpu.append(cpu_s)
                rss.append(rss_mb)
    sig = tally.signatures
    result = {
        "scans": len(files),
        "golden_scans": len(scan_files(GOLDEN_SCANS)),
        "pages": pages,
        "recognised": tally.share("recognised"),
        "amounts_exact": tally.share("amounts"),
        "dates_exact": tally.share("dates"),
        "times_exact": tally.share("times"),
        "names_exact": tally.share("names"),
        "voucher_lines_loaded": tally.counts.get("lines_loaded", [0, 0])[0],
        "voucher_lines_held": tally.counts.get("lines_loaded", [0, 0])[1] - tally.counts.get("lines_loaded", [0, 0])[0],
        "voucher_sheets_loaded_no_error": tally.share("voucher_sheets_loaded_no_error"),
        "wrong_values_loaded": len(tally.wrong_loaded),
        "wrong_values_loaded_by_kind": _by_kind(tally.wrong_loaded),
        "signature_precision": round(sig["tp"] / (sig["tp"] + sig["fp"]), 4) if sig["tp"] + sig["fp"] else None,
        "signature_recall": round(sig["tp"] / (sig["tp"] + sig["fn"]), 4) if sig["tp"] + sig["fn"] else None,
        "signature_lines_compared": sum(sig.values()),
        "tick_accuracy": tally.share("ticks"),
        "tick_boxes": tally.counts.get("ticks", [0, 0])[1],
        "cpu_s_per_page": round(sum(cpu) / pages, 2) if pages and cpu else None,
        "cpu_s_per_scan_median": round(statistics.median(cpu), 2) if cpu else None,
        "peak_rss_mb_per_worker": round(max(rss), 1) if rss else None,
        "wall_s": round(wall, 1),
        "problems_seen": _problem_counts(tally.per_file),
        "targets": TARGETS,
        "wrong_values": tally.wrong_loaded[:50],
        "per_file": tally.per_file,
    }
    return result


def _by_kind(wrong: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in wrong:
        counts[w["kind"]] = counts.get(w["kind"], 0) + 1
    return dict(sorted(counts.items()))


def _problem_counts(rows: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        for code in row["problems"]:
            counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))


SUMMARY = [
    "scans",
    "pages",
    "recognised",
    "amounts_exact",
    "dates_exact",
    "times_exact",
    "names_exact",
    "voucher_lines_loaded",
    "voucher_lines_held",
    "voucher_sheets_loaded_no_error",
    "wrong_values_loaded",
    "wrong_values_loaded_by_kind",
    "signature_precision",
    "signature_recall",
    "tick_accuracy",
    "tick_boxes",
    "cpu_s_per_page",
    "peak_rss_mb_per_worker",
    "wall_s",
]


def report(result: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"scans-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    width = max(map(len, SUMMARY))
    for key in SUMMARY:
        target = TARGETS.get(key)
        print(f"{key:<{width}}  {result[key]}" + (f"  (target {target})" if target is not None else ""))
    print(f"{'problems_seen':<{width}}  {result['problems_seen']}")
    print(f"saved {out}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extra", type=int, default=36, help="scans generated beside the committed ones")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    report(run(args.extra, args.seed, args.workers))


if __name__ == "__main__":
    main()
