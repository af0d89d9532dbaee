"""pipeline.files: atomic private writes, and putting many of them on the disk at once."""

from __future__ import annotations

import os
import stat

import pipeline.files as files
from pipeline.files import sync_to_disk, write_atomically


def _counting_fsync(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    return calls


def test_a_durable_write_is_fsynced_with_its_folder_and_private(tmp_path, monkeypatch):
    calls = _counting_fsync(monkeypatch)
    write_atomically(tmp_path / "a" / "form.docx", b"bytes")
    assert len(calls) == 2  # the file, then the folder's new entry
    assert (tmp_path / "a" / "form.docx").read_bytes() == b"bytes"
    assert stat.S_IMODE((tmp_path / "a" / "form.docx").stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["form.docx"]  # no temporary file left


def test_a_write_left_for_later_is_not_fsynced_until_sync_to_disk(tmp_path, monkeypatch):
    calls = _counting_fsync(monkeypatch)
    paths = [tmp_path / "x" / f"{n}.pdf" for n in range(3)]
    for path in paths:
        write_atomically(path, b"%PDF", durable=False)
    assert calls == [] and all(p.read_bytes() == b"%PDF" for p in paths)
    syncs: list = []
    monkeypatch.setattr(files, "syncfs", lambda path: syncs.append(path) or True)
    sync_to_disk(paths)
    assert syncs == [paths[0]] and calls == []  # one syncfs for the whole filesystem


def test_without_syncfs_each_file_and_folder_is_fsynced(tmp_path, monkeypatch):
    paths = [tmp_path / "x" / f"{n}.pdf" for n in range(3)] + [tmp_path / "y" / "3.pdf"]
    for path in paths:
        write_atomically(path, b"%PDF", durable=False)
    monkeypatch.setattr(files, "syncfs", lambda path: False)  # not Linux, or the call failed
    calls = _counting_fsync(monkeypatch)
    sync_to_disk(paths)
    assert len(calls) == 4 + 2  # four files, two folders


def test_syncfs_works_here(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    assert files.syncfs(tmp_path / "f") is True  # Linux: the fast path is the one taken
