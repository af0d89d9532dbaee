"""`coforms restore SRC`: a backup checked whole, then put back into an empty outputs folder.

Every file is checked against the manifest (and the manifest against its own checksum) before
anything is written: a damaged backup is refused with what is wrong, and leaves nothing behind.
The files are copied in again under the run lock, checked a second time as they are written
(the backup could change in between), into a hidden folder first, and moved into place only when
all of them are there. Then the reports are written from the restored warehouse, so `coforms
check` finds everything accounted for and the reports current.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.backup import contents, warehouse_copy
from pipeline.backup.containers import (
    CHUNK,
    FolderReader,
    TarReader,
    copy_hashing,
    fsync_tree,
    reader_for,
    safe_relative,
)
from pipeline.backup.errors import BackupDamaged, RestoreRefused
from pipeline.backup.locking import run_lock
from pipeline.backup.make import OUTPUTS_IN_BACKUP
from pipeline.backup.manifest import MANIFEST, SIDECAR, FileEntry, Manifest, read_manifest
from pipeline.files import PRIVATE_DIR, PRIVATE_FILE
from pipeline.settings import Settings
from pipeline.store import database

LISTED_PROBLEMS = 5  # problems named in the message (the rest are counted)
_STAGING = ".restoring"
_LOCK_FILE = ".coforms.lock"


@dataclass
class Restored:
    src: Path
    outputs: Path
    manifest: Manifest
    reports: list[Path] = field(default_factory=list)
    reports_error: str | None = None

    def describe(self) -> list[str]:
        m = self.manifest
        lines = [
            f"Restored into {self.outputs} from {self.src} (made {m.made_at} by coforms {m.coforms_version}): "
            f"{len(m.files)} files checked and put back, warehouse at schema {m.schema_revision}."
        ]
        if self.reports_error:
            lines.append(f"But the reports were not written: {self.reports_error} Run `coforms report`.")
        else:
            lines.append("Reports rewritten: " + ", ".join(path.name for path in self.reports) + ".")
        for name in m.secret_files:
            lines.append(
                f"Put back {name} from where you keep it apart from the backup, into {self.outputs}: it is "
                f"{contents.SECRET_FILES.get(name, 'a secret')}."
            )
        lines.append(
            f"The settings of that time are in the backup's {contents.SETTINGS_FILE}, without their secrets: "
            "set those again (coforms.toml or COFORMS_* variables). Then `coforms check` confirms the restore."
        )
        return lines


def _problem_list(problems: list[str]) -> str:
    shown = "; ".join(problems[:LISTED_PROBLEMS])
    more = len(problems) - LISTED_PROBLEMS
    return shown + (f"; and {more} more problem(s)" if more > 0 else "")


def _digest(reader: FolderReader | TarReader, path: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with reader.open(path) as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def verify(reader: FolderReader | TarReader) -> Manifest:
    """The backup's manifest, once every file agrees with it; BackupDamaged naming what does not."""
    manifest = read_manifest(reader.read(MANIFEST), reader.read(SIDECAR))
    listed = {entry.path: entry for entry in manifest.files}
    unsafe = [path for path in listed if not safe_relative(path)]
    if unsafe:
        raise BackupDamaged(f"its manifest names a file outside the backup ({unsafe[0]}): use another backup.")
    present = set(reader.paths()) - {MANIFEST, SIDECAR}
    problems = [f"{path} is missing" for path in sorted(set(listed) - present)]
    problems += [
        f"{path} is not part of the backup (its manifest does not list it)" for path in sorted(present - set(listed))
    ]
    for path in sorted(set(listed) & present):
        size, sha = _digest(reader, path)
        if sha != listed[path].sha256 or size != listed[path].size:
            what = "it is cut short" if size < listed[path].size else "its checksum differs"
            problems.append(f"{path} is damaged ({what})")
    if problems:
        raise BackupDamaged(f"{_problem_list(problems)}: use another backup. Nothing was written.")
    if manifest.warehouse.get("file") not in listed:
        raise BackupDamaged("its manifest names no warehouse file: use another backup.")
    return manifest


def _entries_of(outputs: Path) -> list[str]:
    return sorted(entry.name for entry in outputs.iterdir()) if outputs.is_dir() else []


def _require_empty(outputs: Path, allowed: tuple[str, ...] = ()) -> None:
    if outputs.exists() and not outputs.is_dir():
        raise RestoreRefused(f"{outputs} is a file: restore into an empty or new folder (--outputs).")
    found = [name for name in _entries_of(outputs) if name not in allowed]
    if found:
        example = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
        raise RestoreRefused(
            f"the outputs folder {outputs} is not empty (it holds {example}): restore into an empty or new "
            "folder (--outputs), so that nothing in it is overwritten."
        )


def _require_matching_warehouse(settings: Settings, manifest: Manifest) -> None:
    kind = manifest.warehouse.get("kind")
    if kind == "postgresql" and settings.warehouse_url is None:
        raise RestoreRefused(
            f"this backup holds a PostgreSQL warehouse (from {manifest.warehouse.get('server')}), and no "
            "warehouse_url is set: set it to a new, empty PostgreSQL database to restore into."
        )
    if kind == "duckdb" and settings.warehouse_url is not None:
        raise RestoreRefused(
            "this backup holds an embedded (DuckDB) warehouse, but the setting warehouse_url names a PostgreSQL "
            "database: unset warehouse_url to restore it into the outputs folder."
        )
    revision = manifest.schema_revision
    if revision is None or revision > database.HEAD_REVISION:
        raise RestoreRefused(
            f"this backup's warehouse is at schema {revision}, newer than this coforms knows "
            f"({database.HEAD_REVISION}): restore it with coforms {manifest.coforms_version} or newer."
        )


def restore_backup(settings: Settings, src: Path) -> Restored:
    outputs = settings.outputs.absolute()
    src = src.absolute()
    _require_empty(outputs, allowed=(_LOCK_FILE,))  # a lock file alone: a run may hold it (said below)
    reader = reader_for(src)
    try:
        manifest = verify(reader)
        _require_matching_warehouse(settings, manifest)
        url = database.warehouse_url(settings.warehouse) if settings.warehouse_url is not None else None
        if url is not None:
            warehouse_copy.require_empty_server(url)
        made_folder = not outputs.exists()
        try:
            busy = (
                f"A coforms run is working on {outputs} (waited {settings.lock_wait_seconds:.0f}s): nothing was "
                "restored. Stop it (it should not run on a folder being restored), then restore again."
            )
            with run_lock(outputs, settings.lock_wait_seconds, url, busy):
                _require_empty(outputs, allowed=(_LOCK_FILE,))  # nothing came in while the backup was checked
                try:
                    _put_back(reader, manifest, outputs, url)
                except BaseException:
                    _remove_all_but_the_lock(outputs)  # still holding it: what is removed is this restore's
                    raise
        except BaseException:
            if made_folder:
                _remove_if_only_the_lock(outputs)
            raise
    finally:
        reader.close()
    return _with_reports(Restored(src, outputs, manifest), settings)


def _put_back(reader: FolderReader | TarReader, manifest: Manifest, outputs: Path, url: str | None) -> None:
    staging = outputs / _STAGING
    staging.mkdir(mode=PRIVATE_DIR)
    changed = [entry.path for entry in manifest.files if not _copy_checked(reader, entry, staging)]
    if changed:
        raise BackupDamaged(
            f"{_problem_list([f'{path} changed while it was being restored' for path in changed])}: "
            "use a backup nothing else is writing to. Nothing was restored."
        )
    fsync_tree(staging)  # on the disk before anything is moved into place
    if url is not None:
        warehouse_copy.restore_server(url, staging / manifest.warehouse["file"])
    prefix = staging / OUTPUTS_IN_BACKUP
    if prefix.is_dir():
        for entry in sorted(prefix.iterdir()):
            os.rename(entry, outputs / entry.name)
    shutil.rmtree(staging)


def _copy_checked(reader: FolderReader | TarReader, entry: FileEntry, staging: Path) -> bool:
    """Copy one file of the backup into the staging folder; False when it is not as the manifest says."""
    target = staging / entry.path
    for parent in reversed(target.relative_to(staging).parents[:-1]):
        (staging / parent).mkdir(mode=PRIVATE_DIR, exist_ok=True)
    with (
        reader.open(entry.path) as fh,
        open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE), "wb") as out,
    ):
        size, sha = copy_hashing(fh, out)
    return size == entry.size and sha == entry.sha256


def _remove_all_but_the_lock(outputs: Path) -> None:
    """After a failure while putting files back: the outputs folder empty again, as it was."""
    for entry in outputs.iterdir():
        if entry.name == _LOCK_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _remove_if_only_the_lock(outputs: Path) -> None:
    """The outputs folder this restore made, gone again (unless a run has begun to use it meanwhile)."""
    if _entries_of(outputs) == [_LOCK_FILE]:
        (outputs / _LOCK_FILE).unlink(missing_ok=True)
        with suppress(OSError):
            outputs.rmdir()


def _with_reports(restored: Restored, settings: Settings) -> Restored:
    """The reports written from the restored warehouse (an embedded one from an older coforms is
    brought to this schema as it is opened; a server one needs `coforms migrate` first)."""
    from pipeline.reports.write import ReportsNotWritten
    from pipeline.runtime.run import rewrite_reports

    try:
        restored.reports = rewrite_reports(settings)
    except database.WarehouseNotMigrated as exc:
        restored.reports_error = f"{exc} Then run `coforms report`."
    except ReportsNotWritten as exc:
        restored.reports_error = str(exc)
    return restored
