"""Readers: bytes -> Document, chosen by the format sniffed from the bytes.

The registry is explicit (no self-registration at import time): adding a format means
writing one reader and adding one line to READERS.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.document import Document
from pipeline.problems import ProblemCode
from pipeline.read.docx import read_docx
from pipeline.read.errors import UnreadableFile
from pipeline.read.pdf import read_pdf
from pipeline.read.sniff import Format, is_encrypted_ole, sniff
from pipeline.read.xlsx import read_xlsx

READERS: dict[Format, Callable[[bytes], Document]] = {
    Format.DOCX: read_docx,
    Format.XLSX: read_xlsx,
    Format.PDF: read_pdf,
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
    if fmt is Format.OLE:
        if is_encrypted_ole(data):
            raise UnreadableFile(ProblemCode.ENCRYPTED, "The Office file is protected by a password.")
        raise UnreadableFile(ProblemCode.LEGACY_FORMAT, "The file is an old-style .doc/.xls (or Outlook) file.")
    if fmt in (Format.ODF, Format.RTF):
        raise UnreadableFile(ProblemCode.LEGACY_FORMAT, f"The file is in {fmt.upper()} format, which is not read yet.")
    if fmt is Format.ZIP:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The file is a zip archive but not a Word or Excel document.")
    raise UnreadableFile(ProblemCode.UNSUPPORTED_FORMAT, "The file is not a Word, Excel or PDF document.")
