"""Tell a file's format from its bytes, never from its name."""

from __future__ import annotations

import io
import zipfile
from enum import StrEnum

OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")

# A zip member larger than this, or expanding more than this ratio, is treated as a bomb.
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200


class Format(StrEnum):
    DOCX = "docx"
    XLSX = "xlsx"
    XLSB = "xlsb"  # Excel's binary workbook: a zip of .bin parts, which no reader here reads
    PDF = "pdf"
    OLE = "ole"  # .doc/.xls/.msg, or a password-protected OOXML file
    ODF = "odf"
    RTF = "rtf"
    ZIP = "zip"  # a zip that is not an Office document
    EMPTY = "empty"
    UNKNOWN = "unknown"


class UnsafeZip(Exception):
    pass


def sniff(data: bytes) -> Format:
    if not data:
        return Format.EMPTY
    if data.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return Format.PDF
    if data.startswith(OLE_SIGNATURE):
        return Format.OLE
    if data.startswith(b"{\\rtf"):
        return Format.RTF
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return Format.ZIP
        if "word/document.xml" in names:
            return Format.DOCX
        if "xl/workbook.xml" in names:
            return Format.XLSX
        if "xl/workbook.bin" in names:
            return Format.XLSB
        if "mimetype" in names:
            return Format.ODF
        return Format.ZIP
    return Format.UNKNOWN


def check_zip_is_safe(data: bytes, check_ratio: bool = True) -> None:
    """Refuse zip containers whose declared sizes or ratios would exhaust memory. `check_ratio`
    is off for LibreOffice's output of our own conversion: its parts (a sheet of repeated empty
    styled rows) can compress better than the ratio allows, and it is no bomb; the sizes hold."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        total = 0
        for info in zf.infolist():
            total += info.file_size
            if info.file_size > MAX_MEMBER_BYTES:
                raise UnsafeZip(f"part {info.filename} declares {info.file_size:,} bytes")
            if (
                check_ratio
                and info.compress_size
                and info.file_size / info.compress_size > MAX_RATIO
                and info.file_size > 1_000_000
            ):
                raise UnsafeZip(f"part {info.filename} expands {info.file_size // info.compress_size}x")
        if total > MAX_TOTAL_BYTES:
            raise UnsafeZip(f"parts declare {total:,} bytes in all")
