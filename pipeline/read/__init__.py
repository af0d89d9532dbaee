"""Readers: bytes -> Document, chosen by the format sniffed from the bytes.

The registry is explicit (no self-registration at import time): adding a format means
writing one reader and adding one line to READERS.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.document import Document
from pipeline.problems import ProblemCode
from pipeline.read.docx import read_docx
from pipeline.read.convert import convert_with_libreoffice, legacy_kind
from pipeline.read.errors import UnreadableFile
from pipeline.read.isolated import read_isolated
from pipeline.read.pdf import read_pdf
from pipeline.read.sniff import Format, sniff
from pipeline.read.xlsx import read_xlsx

READERS: dict[Format, Callable[[bytes], Document]] = {
    Format.DOCX: read_docx,
    Format.XLSX: read_xlsx,
    Format.PDF: lambda data: read_isolated(read_pdf, data),  # in a worker with time and memory limits
}

__all__ = ["READERS", "UnreadableFile", "read_document", "Format", "sniff"]


def read_document(data: bytes) -> Document:
    """Read any supported file into a Document, or raise UnreadableFile saying why not."""
    fmt = sniff(data)
    reader = READERS.get(fmt)
    if reader is not None:
        return reader(data)
    if fmt is Format.EMPTY:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The file is empty (0 bytes).")
    if fmt in (Format.OLE, Format.ODF, Format.RTF):
        kind = legacy_kind(fmt, data)
        if kind == "encrypted":
            raise UnreadableFile(ProblemCode.ENCRYPTED, "The Office file is protected by a password.")
        converted = convert_with_libreoffice(data, kind)
        doc = READERS[sniff(converted)](converted)
        doc.notes.append(f"converted from .{kind} by LibreOffice")
        return doc
    if fmt is Format.ZIP:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The file is a zip archive but not a Word or Excel document.")
    raise UnreadableFile(ProblemCode.UNSUPPORTED_FORMAT, "The file is not a Word, Excel or PDF document.")
