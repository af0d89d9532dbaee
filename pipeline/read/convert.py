"""Old and other office formats (.doc, .xls, .odt, .ods, .rtf), converted by LibreOffice.

LibreOffice runs headless with its own throwaway profile and a time limit, so conversions
never share state or hang a run. Without LibreOffice the file is a `legacy_format` problem
that tells the admin what to ask for.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import olefile

from pipeline.problems import ProblemCode
from pipeline.read.errors import UnreadableFile
from pipeline.read.sniff import Format

CONVERSION_SECONDS = 120
_ASK = "please save it as .docx or .xlsx (File > Save As) and send it again"


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def ole_kind(data: bytes) -> str:
    """What an OLE container holds: 'doc', 'xls', 'msg', 'encrypted' (a protected .docx/.xlsx) or 'ole'."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    except (OSError, ValueError) as exc:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"The Office file is damaged ({exc}).") from exc
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        return "encrypted"
    if "WordDocument" in streams:
        return "doc"
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    if any(s.startswith("__substg1.0_") for s in streams):
        return "msg"
    return "ole"


def odf_kind(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        mimetype = zf.read("mimetype").decode("ascii", "replace").strip()
    if mimetype.endswith("opendocument.text"):
        return "odt"
    if mimetype.endswith("opendocument.spreadsheet"):
        return "ods"
    return "odf"


_TARGET = {"doc": "docx", "odt": "docx", "rtf": "docx", "xls": "xlsx", "ods": "xlsx"}


def convert_with_libreoffice(data: bytes, kind: str) -> bytes:
    """`data` (a .doc, .xls, ...) converted to .docx or .xlsx by LibreOffice."""
    target = _TARGET.get(kind)
    if target is None:
        raise UnreadableFile(ProblemCode.UNSUPPORTED_FORMAT, f"A .{kind} file cannot be read as a form; {_ASK}.")
    exe = soffice()
    if exe is None:
        raise UnreadableFile(ProblemCode.LEGACY_FORMAT,
                             f"The file is an old-style .{kind} file and LibreOffice is not installed here to "
                             f"convert it; {_ASK}.")
    with tempfile.TemporaryDirectory(prefix="coforms-convert-") as tmp:
        source = Path(tmp, f"form.{kind}")
        source.write_bytes(data)
        out = Path(tmp, "out")
        try:
            proc = subprocess.run(
                [exe, f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}", "--headless", "--norestore",
                 "--convert-to", target, "--outdir", str(out), str(source)],
                capture_output=True, timeout=CONVERSION_SECONDS, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise UnreadableFile(ProblemCode.LEGACY_FORMAT,
                                 f"Converting the .{kind} file took too long; {_ASK}.") from exc
        produced = out / f"form.{target}"
        if proc.returncode != 0 or not produced.exists():
            raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"LibreOffice could not open the .{kind} file.")
        return produced.read_bytes()


def legacy_kind(fmt: Format, data: bytes) -> str:
    if fmt is Format.OLE:
        return ole_kind(data)
    if fmt is Format.ODF:
        return odf_kind(data)
    return "rtf"
