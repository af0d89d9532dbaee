"""Old and other office formats (.doc, .xls, .odt, .ods, .rtf), converted by LibreOffice.

LibreOffice runs headless with its own throwaway profile and a time limit, so conversions
never share state or hang a run. It runs with no network (a network namespace of its own,
where the machine allows one) and with settings that block linked images and never update
links, since a sender's file can link any address and LibreOffice would fetch it. Everything
it writes stays in one temporary folder under tempfile.gettempdir(), removed afterwards; on
time-out its whole process group is killed. Without LibreOffice the file is a `legacy_format`
problem that tells the admin what to ask for.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import olefile

from pipeline.children import die_with_parent
from pipeline.crash import crash_point
from pipeline.problems import ProblemCode
from pipeline.read.errors import UnreadableFile
from pipeline.read.limits import allow_more_time
from pipeline.read.sniff import Format

log = logging.getLogger(__name__)

CONVERSION_SECONDS = 120
_ASK = "please save it as .docx or .xlsx (File > Save As) and send it again"

# The throwaway profile's settings: linked images blocked (no location is trusted), links to
# other files never updated (Calc: 1 is never; Writer: 0 is never), macros never run.
_PROFILE_SETTINGS = (
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Calc/Content/Update", "Link", "1"),
    ("/org.openoffice.Office.Writer/Content/Update", "Link", "0"),
)


def _profile_settings_xml() -> str:
    items = "".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>\n'
        for path, name, value in _PROFILE_SETTINGS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        + items
        + "</oor:items>\n"
    )


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@functools.cache
def no_network_prefix() -> tuple[str, ...]:
    """The command that runs a program in a new network namespace (nothing but a loopback that
    is down), or () where this machine allows none: `unshare -n` as root, `unshare -rn` (a user
    namespace too) otherwise. Tried once a process."""
    unshare = shutil.which("unshare")
    if unshare is None:
        log.warning("unshare is not installed: LibreOffice conversions run with the network")
        return ()
    # a PID namespace too where possible: when the reading worker dies, unshare dies with it
    # (pipeline.children), its child with unshare (--kill-child), and every LibreOffice process
    # with that child, the namespace's first process
    for flags in (
        ("-n", "--fork", "--pid", "--kill-child"),
        ("-rn", "--fork", "--pid", "--kill-child"),
        ("-n",),
        ("-rn",),
    ):
        try:
            probe = subprocess.run([unshare, *flags, "true"], capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return (unshare, *flags)
    log.warning("no network namespace can be made here: LibreOffice conversions rely on its settings alone")
    return ()


def _ole_streams(data: bytes) -> set[str]:
    """The OLE file's stream and storage paths, lower-case: names are case-insensitive in OLE,
    and real files have WORDDOCUMENT, BOOK or WORKBOOK as well as WordDocument."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=True)}
    except (OSError, ValueError) as exc:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"The Office file is damaged ({exc}).") from exc


def _password_protected(data: bytes) -> bool:
    """A .doc or .xls encrypted with a password (RC4, CryptoAPI or XOR obfuscation): the fEncrypted
    bit of a Word file's FIB, a FILEPASS record in a workbook's globals. msoffcrypto-tool reads
    both; a file it cannot make sense of is left for LibreOffice to judge."""
    try:
        import msoffcrypto
    except ImportError:  # pragma: no cover - a dependency; without it LibreOffice fails on such files
        return False
    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # its parsers assert and raise on damaged files: not known to be encrypted
        return False


def ole_kind(data: bytes) -> str:
    """What an OLE container holds: 'doc', 'xls', 'msg', 'encrypted' (a password-protected
    .docx/.xlsx, .doc or .xls) or 'ole'."""
    streams = _ole_streams(data)
    if "encryptedpackage" in streams or "encryptioninfo" in streams:
        return "encrypted"
    if "worddocument" in streams:
        kind = "doc"
    elif "workbook" in streams or "book" in streams:
        kind = "xls"
    elif any(s.startswith("__substg1.0_") for s in streams):
        return "msg"
    else:
        return "ole"
    return "encrypted" if _password_protected(data) else kind


def odf_kind(data: bytes) -> str:
    """'odt', 'ods', 'odf' (another OpenDocument), or 'encrypted': a password-protected
    OpenDocument file keeps its manifest in the clear and says there how each part is encrypted."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        mimetype = zf.read("mimetype").decode("ascii", "replace").strip()
        names = set(zf.namelist())
        manifest = zf.read("META-INF/manifest.xml")[:1_000_000] if "META-INF/manifest.xml" in names else b""
    if b"encryption-data" in manifest:
        return "encrypted"
    if mimetype.endswith("opendocument.text"):
        return "odt"
    if mimetype.endswith("opendocument.spreadsheet"):
        return "ods"
    return "odf"


_TARGET = {"doc": "docx", "odt": "docx", "rtf": "docx", "xls": "xlsx", "ods": "xlsx"}


def _run_soffice(command: list[str], workdir: Path, seconds: float) -> int:
    """Run LibreOffice in its own process group, its temporary files inside `workdir`; on time-out
    the whole group (the launcher and soffice.bin) is killed. Returns the exit code."""
    env = {**os.environ, "TMPDIR": str(workdir), "HOME": str(workdir)}
    proc = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    allow_more_time(seconds)  # the file's deadline (pipeline.read.limits) waits for the conversion's own
    started = time.monotonic()
    try:
        try:
            return proc.wait(timeout=min(1.0, seconds))
        except subprocess.TimeoutExpired:
            # the kill tests stop the worker here: LibreOffice started a second ago and is still running
            crash_point("during_conversion")
        return proc.wait(timeout=max(0.0, seconds - (time.monotonic() - started)))
    finally:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group outlives its leader: soffice.bin may linger
    proc.wait()


def convert_with_libreoffice(data: bytes, kind: str, seconds: float = CONVERSION_SECONDS) -> bytes:
    """`data` (a .doc, .xls, ...) converted to .docx or .xlsx by LibreOffice within `seconds`."""
    target = _TARGET.get(kind)
    if target is None:
        raise UnreadableFile(ProblemCode.UNSUPPORTED_FORMAT, f"A .{kind} file cannot be read as a form; {_ASK}.")
    exe = soffice()
    if exe is None:
        raise UnreadableFile(
            ProblemCode.LEGACY_FORMAT,
            f"The file is an old-style .{kind} file and LibreOffice is not installed here to convert it; {_ASK}.",
        )
    with tempfile.TemporaryDirectory(prefix="coforms-convert-", dir=tempfile.gettempdir()) as tmp:
        workdir = Path(tmp)
        source = workdir / f"form.{kind}"
        source.write_bytes(data)
        profile = workdir / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_profile_settings_xml(), encoding="utf-8")
        out = workdir / "out"
        command = [
            *no_network_prefix(),
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(source),
        ]
        try:
            returncode = _run_soffice(command, workdir, seconds)
        except subprocess.TimeoutExpired as exc:
            raise UnreadableFile(
                ProblemCode.LEGACY_FORMAT, f"Converting the .{kind} file took too long; {_ASK}."
            ) from exc
        produced = out / f"form.{target}"
        if returncode != 0 or not produced.exists():
            raise UnreadableFile(ProblemCode.CORRUPT_FILE, f"LibreOffice could not open the .{kind} file.")
        return produced.read_bytes()


def legacy_kind(fmt: Format, data: bytes) -> str:
    if fmt is Format.OLE:
        return ole_kind(data)
    if fmt is Format.ODF:
        return odf_kind(data)
    return "rtf"
