"""Writing files that hold personal data: private permissions, atomic replace, fsync."""

from __future__ import annotations

import ctypes
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pipeline.crash import crash_point

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    return path


def write_atomically(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write to a temporary file beside `path`, fsync it, then rename over `path`.

    A reader never sees half a file, and a crash leaves either the old file or the new one.
    With durable=False nothing is fsynced: the caller makes many such files durable at once with
    sync_to_disk before anything that counts on them is committed (a fsync per file, two with its
    folder, cost a run of 1,000 forms ~7 s of waiting on the disk).
    """
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, PRIVATE_FILE)
        crash_point("before_rename")  # a half-written file exists only under its temporary name
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if durable:
        fsync_path(path.parent)


def fsync_path(path: Path) -> None:
    """One file or folder (its entries) on the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_to_disk(paths: Iterable[Path]) -> None:
    """Files written with durable=False, and their folders' entries, on the disk. Linux's syncfs
    does the whole filesystem in one call (it also writes out whatever else is waiting on that disk);
    elsewhere, file by file and folder by folder."""
    paths = list(paths)
    if not paths or syncfs(paths[0]):
        return
    for path in paths:
        fsync_path(path)
    for folder in {path.parent for path in paths}:
        fsync_path(folder)


def syncfs(path: Path) -> bool:
    """Everything written to the filesystem holding `path` on the disk (Linux); False where there
    is no syncfs or it failed, for the caller to fsync file by file."""
    try:
        call = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return call(fd) == 0
    finally:
        os.close(fd)
