"""Original bytes, stored once by SHA-256 before anything else happens to them."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.files import write_atomically


def archive_path(archive_dir: Path, sha256: str) -> Path:
    return archive_dir / sha256[:2] / sha256


def archive_bytes(archive_dir: Path, sha256: str, data: bytes, *, durable: bool = True) -> Path:
    """Store the bytes under their hash (idempotent: a second copy is not written).

    durable=False leaves the file to be put on the disk with others (pipeline.files.sync_to_disk)
    before anything that refers to it is committed. A power cut before that can leave the file
    short or empty under its name, so a copy that is there is trusted only at its full size."""
    path = archive_path(archive_dir, sha256)
    try:
        there = path.stat().st_size == len(data)
    except FileNotFoundError:
        there = False
    if not there:
        write_atomically(path, data, durable=durable)
    return path


def is_archived(archive_dir: Path, sha256: str) -> bool:
    return os.path.exists(archive_path(archive_dir, sha256))
