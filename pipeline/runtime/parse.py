"""One file's bytes -> its form type, typed form and Problems. Pure: no I/O, no warehouse."""

from __future__ import annotations

import dataclasses
import hashlib
from contextlib import nullcontext
from typing import TYPE_CHECKING

from pipeline.collector import cycle_collector_paused
from pipeline.crash import crash_point
from pipeline.forms.extract import extract
from pipeline.forms.identify import identify_form
from pipeline.forms.ocr_labels import snap_ocr_labels
from pipeline.forms.spec import all_specs
from pipeline.problems import ProblemCode, make_problem
from pipeline.read import UnreadableFile, read_document
from pipeline.read.names import not_what_its_name_says
from pipeline.records import ParsedFile, crops_folder
from pipeline.validate.form import Context, validate_form

if TYPE_CHECKING:
    from pipeline.read.limits import ReadLimits


def parse_file(data: bytes, ctx: Context, conversion_seconds: float | None = None) -> ParsedFile:
    try:
        doc = read_document(data, conversion_seconds)
    except UnreadableFile as exc:
        # the format the bytes were taken for: explain_by_name tells a file not what its name says
        found = exc.found.value if exc.found else None
        return ParsedFile(None, None, [make_problem(exc.code, exc.message)], format=found)
    doc = snap_ocr_labels(doc)
    form_type = identify_form(doc)
    if form_type is None and doc.format == "scan":
        recognised = sum(1 for line in doc.lines if line.text.strip())
        return ParsedFile(
            None,
            None,
            [
                make_problem(
                    ProblemCode.SCANNED_DOCUMENT,
                    f"No form could be recognised in the scan or photo ({recognised} lines of text were read).",
                )
            ],
            doc.notes,
            format=doc.format,
        )
    if form_type is None:
        return ParsedFile(
            None,
            None,
            [
                make_problem(
                    ProblemCode.UNKNOWN_FORM,
                    "No form title or labels of the planning, evaluation, monitoring or voucher forms were found.",
                )
            ],
            doc.notes,
        )
    spec = all_specs()[form_type]
    crash_point("during_parse")
    folder = crops_folder(hashlib.sha256(data).hexdigest()) if doc.crops else "ocr-crops"
    raw = extract(doc, spec)
    validated = validate_form(raw, spec, ctx, folder)
    return ParsedFile(
        form_type,
        validated.model,
        validated.problems,
        doc.notes,
        validated.locations,
        doc.format,
        readings=validated.readings,
        crops={name: doc.crops[name] for name in validated.crops if name in doc.crops},
        raw=raw,  # kept with the submission: a correction is validated again from this reading
    )


# What a reader says of a file it could not open; said again in the words of the file's name.
_REFUSED_BY_ITS_READER = frozenset({ProblemCode.CORRUPT_FILE, ProblemCode.UNSUPPORTED_FORMAT})


def explain_by_name(parsed: ParsedFile, file_name: str | None) -> ParsedFile:
    """A file that no reader could open, told in the terms of its name where the name promises a
    format we read: "The file is named .xlsx but is not a readable Excel workbook ...", asking the
    sender to check that it opens. The code stays the reader's (unsupported_format for bytes of no
    known format, corrupt_file for a damaged file): the same file always gets the same code. Only a
    reader's refusal is retold (parse_file keeps the format the bytes were taken for in `format`):
    not a file that took too long or broke our code."""
    if parsed.readable or parsed.format is None or not file_name or len(parsed.problems) != 1:
        return parsed
    if parsed.problems[0].code not in _REFUSED_BY_ITS_READER:
        return parsed
    message = not_what_its_name_says(file_name)
    if message is None:
        return parsed
    return dataclasses.replace(parsed, problems=[make_problem(parsed.problems[0].code, message)])


def file_problem(code: ProblemCode, message: str) -> ParsedFile:
    return ParsedFile(None, None, [make_problem(code, message)])


def parse_safely(data: bytes, ctx: Context, limits: ReadLimits | None = None) -> ParsedFile:
    """parse_file, timed, where whatever the file does to our code becomes a Problem for this file
    instead of stopping the batch (the traceback goes to the log): a bug of ours is
    `internal_error` naming the exception; running out of the worker's memory, nesting too deep,
    or (with `limits`, in a limited worker) taking too long, are problems of the file."""
    import logging
    import time

    from pipeline.read.limits import TimeLimitReached, deadline

    started = time.perf_counter()
    try:
        with cycle_collector_paused(), deadline(limits.seconds, limits) if limits else nullcontext():
            parsed = parse_file(data, ctx, limits.conversion_seconds if limits else None)
    except TimeLimitReached:
        parsed = file_problem(
            ProblemCode.CORRUPT_FILE,
            f"Reading the file took longer than {limits.seconds:.0f} seconds; it may be damaged.",
        )
    except MemoryError:
        parsed = file_problem(ProblemCode.TOO_LARGE, "The file needs more memory to read than is allowed.")
    except RecursionError:
        parsed = file_problem(ProblemCode.CORRUPT_FILE, "The file's structure is nested too deeply to read.")
    except Exception as exc:
        logging.getLogger(__name__).exception("internal error reading a file")
        parsed = internal_error(exc)
    parsed.parse_ms = (time.perf_counter() - started) * 1000
    return _with_reading_written_out(parsed)


def _with_reading_written_out(parsed: ParsedFile) -> ParsedFile:
    """The raw reading as the warehouse keeps it, written here, in the worker, in place of the
    reading itself. A reading that cannot be stored stays as it is: the warehouse says so when it
    records the form."""
    from pipeline.store.raw_forms import NotStorable, kept_reading, raw_form_json

    if parsed.raw is None:
        return parsed
    try:
        return dataclasses.replace(parsed, raw=None, raw_json=raw_form_json(kept_reading(parsed.raw)))
    except NotStorable:
        return parsed


def internal_error(exc: BaseException | str) -> ParsedFile:
    """The file broke our code: kept, and named for the admin and for us."""
    what = exc if isinstance(exc, str) else type(exc).__name__
    return file_problem(
        ProblemCode.INTERNAL_ERROR,
        f"The file could not be processed because of an internal error ({what}); "
        "it has been kept and the developers can look at it.",
    )
