"""The manifest of a backup: what made it, when, from where, and each file's size and SHA-256.

manifest.json is checked by its own SHA-256 in manifest.json.sha256, written in the format of
`sha256sum`, so the manifest can also be checked by hand (`sha256sum -c manifest.json.sha256` in
a backup folder). The checksums find damage (a disk, a copy cut short, an edit); they are not a
signature: whoever can change the backup could write new checksums too, so keep backups where
only the council's administrators can write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from pipeline.backup.errors import BackupDamaged

MANIFEST = "manifest.json"
SIDECAR = MANIFEST + ".sha256"
FORMAT = "coforms backup"
FORMAT_VERSION = 1
_SIDECAR_LINE = re.compile(r"^([0-9a-f]{64})  manifest\.json\n?$")


def coforms_version() -> str:
    try:
        return version("coforms")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative, with '/' (as in the backup)
    size: int
    sha256: str


@dataclass
class Manifest:
    schema_revision: str | None
    warehouse: dict  # {"kind": "duckdb" | "postgresql", "file": path in the backup, "server": for postgresql}
    outputs: str  # the outputs folder backed up
    files: list[FileEntry] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    not_known: list[str] = field(default_factory=list)
    secret_files: list[str] = field(default_factory=list)  # in the outputs folder, left out (contents.SECRET_FILES)
    made_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    coforms_version: str = field(default_factory=coforms_version)

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files)

    def to_bytes(self) -> bytes:
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "coforms_version": self.coforms_version,
            "schema_revision": self.schema_revision,
            "made_at": self.made_at,
            "outputs": self.outputs,
            "warehouse": self.warehouse,
            "files": [{"path": e.path, "size": e.size, "sha256": e.sha256} for e in sorted(self.files, key=_by_path)],
            "left_out": self.left_out,
            "not_known": self.not_known,
            "secret_files": self.secret_files,
        }
        return json.dumps(document, indent=1).encode()


def _by_path(entry: FileEntry) -> str:
    return entry.path


def sidecar_for(manifest_bytes: bytes) -> bytes:
    return f"{hashlib.sha256(manifest_bytes).hexdigest()}  {MANIFEST}\n".encode()


def read_manifest(manifest_bytes: bytes | None, sidecar_bytes: bytes | None) -> Manifest:
    """The manifest, once its own checksum agrees; BackupDamaged saying what is wrong otherwise."""
    if manifest_bytes is None:
        raise BackupDamaged(
            f"it has no {MANIFEST}: it is not a coforms backup, or the backup was interrupted before it was "
            "finished: use another backup."
        )
    if sidecar_bytes is None:
        raise BackupDamaged(f"its {SIDECAR} (the manifest's checksum) is missing: use another backup.")
    match = _SIDECAR_LINE.match(sidecar_bytes.decode("ascii", errors="replace"))
    if match is None:
        raise BackupDamaged(f"its {SIDECAR} (the manifest's checksum) is damaged: use another backup.")
    if hashlib.sha256(manifest_bytes).hexdigest() != match.group(1):
        raise BackupDamaged(
            f"its {MANIFEST} has been changed or damaged since the backup was made (its checksum differs): "
            "use another backup."
        )
    try:
        document = json.loads(manifest_bytes)
        if document.get("format") != FORMAT:
            raise ValueError("not a coforms backup")
        if document.get("format_version") != FORMAT_VERSION:
            raise BackupDamaged(
                f"it is a backup of format {document.get('format_version')}, made by coforms "
                f"{document.get('coforms_version')}; this coforms ({coforms_version()}) reads format "
                f"{FORMAT_VERSION}: restore it with that version of coforms."
            )
        return Manifest(
            schema_revision=document["schema_revision"],
            warehouse=dict(document["warehouse"]),
            outputs=str(document["outputs"]),
            files=[FileEntry(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in document["files"]],
            left_out=dict(document.get("left_out", {})),
            not_known=list(document.get("not_known", [])),
            secret_files=list(document.get("secret_files", [])),
            made_at=str(document["made_at"]),
            coforms_version=str(document["coforms_version"]),
        )
    except BackupDamaged:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupDamaged(f"its {MANIFEST} is not a coforms backup manifest ({exc}): use another backup.") from exc
