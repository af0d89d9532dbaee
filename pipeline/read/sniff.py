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
    # pictures: a scanned or photographed form, read by OCR (pipeline.read.scan)
    JPEG = "jpeg"
    PNG = "png"
    TIFF = "tiff"  # may hold several pages, or a 1-bit fax (CCITT G4)
    HEIC = "heic"  # HEIC/HEIF: an iPhone's photos
    BMP = "bmp"
    WEBP = "webp"
    EMPTY = "empty"
    UNKNOWN = "unknown"


IMAGE_FORMATS = frozenset({Format.JPEG, Format.PNG, Format.TIFF, Format.HEIC, Format.BMP, Format.WEBP})

# the brands of an ISO media file ("....ftyp<brand>") that hold a HEIF still image
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}


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
    return _image_format(data)


def _image_format(data: bytes) -> Format:
    if data.startswith(b"\xff\xd8\xff"):
        return Format.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Format.PNG
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):  # TIFF and BigTIFF
        return Format.TIFF
    if data[4:8] == b"ftyp" and (data[8:12] in HEIF_BRANDS or _compatible_heif(data)):
        return Format.HEIC
    if data.startswith(b"BM") and len(data) >= 26 and data[6:10] == b"\x00\x00\x00\x00":
        return Format.BMP
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return Format.WEBP
    return Format.UNKNOWN


def _compatible_heif(data: bytes) -> bool:
    """A HEIF file whose major brand is another's but which lists a HEIF brand as compatible."""
    size = int.from_bytes(data[:4], "big")
    brands = data[16 : min(size, 64)]
    return any(brands[i : i + 4] in HEIF_BRANDS for i in range(0, len(brands) - 3, 4))


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
