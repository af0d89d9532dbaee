"""LibreOffice conversions: no network, a time limit from the caller, the whole process group
killed at the limit, and nothing written outside a temporary folder under gettempdir()."""

from __future__ import annotations

import http.server
import os
import shutil
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

import pipeline.read.convert as convert
from pipeline.problems import ProblemCode
from pipeline.read import UnreadableFile, read_document
from tests.read import crafted


class _Listener:
    """An HTTP server on 127.0.0.1 that records every request it gets."""

    def __init__(self) -> None:
        requests = self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                requests.append(self.path)
                self.send_response(404)
                self.end_headers()

            do_HEAD = do_GET

            def log_message(self, *_args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/signature.png"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_linked_picture_is_never_fetched_while_converting():
    listener = _Listener()
    try:
        doc = read_document(crafted.linked_image_odt(listener.url))
        time.sleep(0.3)  # a request LibreOffice made would have arrived by now
    finally:
        listener.close()
    assert listener.requests == []
    assert doc.lines[0].text == "Project Name: Linked picture"


def _fake_soffice(tmp_path: Path, body: str) -> str:
    script = tmp_path / "soffice"
    script.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    script.chmod(0o755)
    return str(script)


def _running(command_line: bytes) -> bool:
    """A process whose command line is `command_line` is alive (found by its command line: in
    LibreOffice's PID namespace a process's own idea of its pid is not the machine's)."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes() == command_line:
                return "Z" not in (entry / "stat").read_text().split()[2]
        except OSError:
            continue
    return False


def test_the_time_limit_is_the_callers_and_kills_the_whole_process_group(tmp_path, monkeypatch):
    seconds = f"300.{time.time_ns() % 10**9}"  # a command line no other process has
    # like LibreOffice's launcher: a child (soffice.bin) that outlives the script's own process
    exe = _fake_soffice(
        tmp_path,
        f"""
        sleep {seconds} &
        wait
    """,
    )
    monkeypatch.setattr(convert, "soffice", lambda: exe)
    started = time.monotonic()
    with pytest.raises(UnreadableFile) as err:
        convert.convert_with_libreoffice(b"{\\rtf1 x}", "rtf", seconds=1)
    assert time.monotonic() - started < 10
    assert err.value.code is ProblemCode.LEGACY_FORMAT and "too long" in err.value.message
    for _ in range(50):  # killed, then reaped: gone from the process table
        if not _running(b"sleep\0" + seconds.encode() + b"\0"):
            break
        time.sleep(0.1)
    else:
        pytest.fail("soffice's child process outlived the time limit")


def test_libreoffice_writes_only_under_gettempdir_and_leaves_nothing(tmp_path, monkeypatch):
    base = tmp_path / "outputs-tmp"
    base.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    seen = tmp_path / "seen"
    exe = _fake_soffice(
        tmp_path,
        f"""
        echo "$TMPDIR $HOME" > {seen}
        exit 1
    """,
    )
    monkeypatch.setattr(convert, "soffice", lambda: exe)
    with pytest.raises(UnreadableFile):
        convert.convert_with_libreoffice(b"{\\rtf1 x}", "rtf", seconds=30)
    tmpdir, home = seen.read_text().split()
    assert Path(tmpdir).parent == base and Path(home).parent == base
    assert list(base.iterdir()) == []  # its folder removed afterwards


def test_read_document_passes_its_time_limit_to_the_conversion(monkeypatch):
    given = []
    monkeypatch.setattr(
        convert,
        "convert_with_libreoffice",
        lambda data, kind, seconds=120: (
            given.append(seconds) or (_ for _ in ()).throw(UnreadableFile(ProblemCode.CORRUPT_FILE, "stop"))
        ),
    )
    with pytest.raises(UnreadableFile):
        read_document(b"{\\rtf1 x}", conversion_seconds=7)
    assert given == [7]


def test_conversions_run_in_a_network_namespace_where_the_machine_allows_one():
    prefix = convert.no_network_prefix()
    if not prefix:
        pytest.skip("no network namespace can be made on this machine")
    assert Path(prefix[0]).name == "unshare" and prefix[1] in ("-n", "-rn")
    assert os.path.exists(prefix[0])


def test_a_password_protected_opendocument_file_is_encrypted_not_damaged():
    """As tika's testODTEncrypted.odt: the manifest, kept in the clear, names how each part is encrypted."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr(
            "META-INF/manifest.xml",
            (
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
                '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x">'
                '<manifest:algorithm manifest:algorithm-name="Blowfish CFB"/></manifest:encryption-data>'
                "</manifest:file-entry></manifest:manifest>"
            ),
        )
        zf.writestr("content.xml", b"\x8a\x01 encrypted bytes")
    with pytest.raises(UnreadableFile) as err:
        read_document(out.getvalue())
    assert err.value.code is ProblemCode.ENCRYPTED
