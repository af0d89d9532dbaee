"""Readers: bytes -> Document, chosen by the format sniffed from the bytes.

The registry is explicit (no self-registration at import time): adding a format means
writing one reader and adding one line to READERS. A reader's module is imported when a file
of its format first comes: the libraries behind them take a third of a second to load, which
a run whose parsing happens in worker processes should not pay in its own.
"""

from __future__ import annotations

import importlib
import io
import zipfile
from collections.abc import Callable

from pipeline.document import Document
from pipeline.problems import ProblemCode
from pipeline.read.errors import UnreadableFile
from pipeline.read.sniff import IMAGE_FORMATS, Format, sniff

# format -> (module, function); PDF and pictures run in a worker with time and memory limits
READERS: dict[Format, tuple[str, str]] = {
    Format.DOCX: ("pipeline.read.docx", "read_docx"),
    Format.XLSX: ("pipeline.read.xlsx", "read_xlsx"),
    Format.PDF: ("pipeline.read.pdf", "read_pdf_isolated"),
    # pictures of forms (scans, phone photos): OCR, also in a worker with time and memory limits
    **{fmt: ("pipeline.read.scan.reader", "read_image_isolated") for fmt in IMAGE_FORMATS},
}

__all__ = ["READERS", "UnreadableFile", "read_document", "Format", "sniff"]


def reader_for(fmt: Format) -> Callable[[bytes], Document] | None:
    if fmt not in READERS:
        return None
    module, name = READERS[fmt]
    return getattr(importlib.import_module(module), name)


def read_document(data: bytes, conversion_seconds: float | None = None) -> Document:
    """Read any supported file into a Document, or raise UnreadableFile saying why not.
    `conversion_seconds`: the time LibreOffice is given to convert an old-style file (None:
    pipeline.read.convert.CONVERSION_SECONDS)."""
    fmt = sniff(data)
    try:
        return _read_as(fmt, data, conversion_seconds)
    except UnreadableFile as exc:
        exc.found = fmt
        raise


def _read_as(fmt: Format, data: bytes, conversion_seconds: float | None) -> Document:
    reader = reader_for(fmt)
    if reader is not None:
        return reader(data)
    if fmt is Format.EMPTY:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The file is empty (0 bytes).")
    if fmt is Format.XLSB:
        raise UnreadableFile(
            ProblemCode.UNSUPPORTED_FORMAT,
            "The file is an Excel binary workbook (.xlsb), which cannot be read; please save it "
            "as .xlsx (File > Save As > Excel Workbook) and send it again.",
        )
    if fmt in (Format.OLE, Format.ODF, Format.RTF):
        return _read_converted(fmt, data, conversion_seconds)
    if fmt is Format.ZIP and not _opens_as_zip(data):
        raise UnreadableFile(
            ProblemCode.CORRUPT_FILE,
            "The file starts as a Word or Excel file does but is damaged (perhaps cut short in sending), "
            "so it could not be opened.",
        )
    if fmt is Format.ZIP:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The file is a zip archive but not a Word or Excel document.")
    raise UnreadableFile(ProblemCode.UNSUPPORTED_FORMAT, "The file is not a Word, Excel or PDF document.")


def _opens_as_zip(data: bytes) -> bool:
    """A zip whose directory can be read: a .docx or .xlsx cut short loses the directory at its end."""
    try:
        zipfile.ZipFile(io.BytesIO(data)).close()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return True


def _read_converted(fmt: Format, data: bytes, conversion_seconds: float | None) -> Document:
    from pipeline.read.convert import (
        CONVERSION_SECONDS,
        convert_with_libreoffice,
        legacy_kind,
    )

    kind = legacy_kind(fmt, data)
    if kind == "encrypted":
        raise UnreadableFile(ProblemCode.ENCRYPTED, "The Office file is protected by a password.")
    converted = convert_with_libreoffice(data, kind, conversion_seconds or CONVERSION_SECONDS)
    converted_fmt = sniff(converted)
    if converted_fmt not in (Format.DOCX, Format.XLSX):
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"LibreOffice could not convert the .{kind} file.")
    # our own conversion's output: its parts may compress past the zip-bomb ratio, and are no bomb
    doc = reader_for(converted_fmt)(converted, own_conversion=True)
    doc.notes.append(f"converted from .{kind} by LibreOffice")
    return doc
