"""Original bytes, stored once by SHA-256 before anything else happens to them."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.files import write_atomically


def archive_path(archive_dir: Path, sha256: str) -> Path:
    return archive_dir / sha256[:2] / sha256


def archive_bytes(archive_dir: Path, sha256: str, data: bytes) -> Path:
    """Store the bytes under their hash (idempotent: a second copy is not written)."""
    path = archive_path(archive_dir, sha256)
    if not path.exists():
        write_atomically(path, data)
    return path


def is_archived(archive_dir: Path, sha256: str) -> bool:
    return os.path.exists(archive_path(archive_dir, sha256))
