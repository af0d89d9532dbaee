"""`coforms backup DEST`: everything a deployment needs to carry on, copied under the run lock."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.backup import contents, warehouse_copy
from pipeline.backup.containers import FolderWriter, TarWriter, writer_for
from pipeline.backup.errors import BackupFailed
from pipeline.backup.locking import run_lock
from pipeline.backup.manifest import MANIFEST, SIDECAR, Manifest, sidecar_for
from pipeline.files import private_dir
from pipeline.settings import Settings
from pipeline.store import database
from pipeline.store.warehouse import warehouse_exists
from pipeline.workspace import temp_dir

OUTPUTS_IN_BACKUP = "outputs"  # the outputs folder's files sit under this folder in a backup


@dataclass
class BackupMade:
    dest: Path
    manifest: Manifest

    def describe(self) -> list[str]:
        m = self.manifest
        lines = [
            f"Backup written to {self.dest}: {len(m.files)} files, {_megabytes(m.total_bytes)}, "
            f"warehouse at schema {m.schema_revision}"
            + (f" ({warehouse_copy.PG_DUMP_FILE}, a pg_dump of {m.warehouse['server']})" if _is_server(m) else "")
            + "."
        ]
        if m.not_known:
            lines.append(
                f"Not in the backup (coforms does not know what they are): {', '.join(m.not_known)} in {m.outputs}."
            )
        kept_apart = "".join(f", and the file {name}" for name in m.secret_files)
        lines.append(
            "The settings are in it without their secrets (passwords, client secrets, the warehouse URL"
            f"{kept_apart}): keep those somewhere safe apart from the backup. To test the backup, restore it into "
            "an empty folder (see the README)."
        )
        return lines


def _is_server(manifest: Manifest) -> bool:
    return manifest.warehouse.get("kind") == "postgresql"


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def make_backup(settings: Settings, dest: Path) -> BackupMade:
    outputs = settings.outputs
    dest = dest.absolute()
    if dest.resolve().is_relative_to(outputs.resolve()):
        raise BackupFailed(
            f"{dest} is inside the outputs folder {outputs}: put the backup somewhere else, ideally on another disk."
        )
    server = settings.warehouse_url is not None
    if server and warehouse_copy.client_tool("pg_dump") is None:
        raise BackupFailed(warehouse_copy.client_missing("pg_dump"))
    writer = writer_for(dest)
    try:
        busy = (
            f"A coforms run or an admin's action is working on {outputs} (waited {settings.lock_wait_seconds:.0f}s): "
            "no backup was made. Run the backup again when it has finished."
        )
        server_warehouse = settings.warehouse if server else None
        with run_lock(outputs, settings.lock_wait_seconds, server_warehouse, busy):
            if not warehouse_exists(settings.warehouse):
                raise BackupFailed(f"there is no warehouse for {outputs} yet: nothing has been taken in to back up.")
            manifest = _copy_everything(settings, writer)
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    return BackupMade(dest, manifest)


def _copy_everything(settings: Settings, writer: FolderWriter | TarWriter) -> Manifest:
    outputs = settings.outputs
    files = []
    with tempfile.TemporaryDirectory(dir=private_dir(temp_dir(outputs)), prefix="backup-") as staging:
        staging = Path(staging)
        if settings.warehouse_url is None:
            copy, revision = warehouse_copy.checkpointed_copy(settings.warehouse_path, staging)
            files.append(writer.add_file(f"{OUTPUTS_IN_BACKUP}/{contents.WAREHOUSE_FILE}", copy))
            warehouse = {"kind": "duckdb", "file": f"{OUTPUTS_IN_BACKUP}/{contents.WAREHOUSE_FILE}"}
            copy.unlink()
        else:
            url = database.warehouse_url(settings.warehouse)
            revision = warehouse_copy.server_revision(url)
            dump = staging / warehouse_copy.PG_DUMP_FILE
            warehouse_copy.dump_server(url, dump)
            files.append(writer.add_file(warehouse_copy.PG_DUMP_FILE, dump))
            warehouse = {"kind": "postgresql", "file": warehouse_copy.PG_DUMP_FILE, "server": warehouse_copy.where(url)}
            dump.unlink()
        for name in sorted(contents.KEPT):
            for path in _files_under(outputs / name):
                files.append(writer.add_file(f"{OUTPUTS_IN_BACKUP}/{path.relative_to(outputs).as_posix()}", path))
        accounts = outputs / contents.ACCOUNTS_FILE
        if accounts.is_file():
            copy = _sqlite_copy(accounts, staging)
            files.append(writer.add_file(f"{OUTPUTS_IN_BACKUP}/{contents.ACCOUNTS_FILE}", copy))
        files.append(writer.add_bytes(contents.SETTINGS_FILE, contents.settings_without_secrets(settings)))
    manifest = Manifest(
        schema_revision=revision,
        warehouse=warehouse,
        outputs=str(outputs.absolute()),
        files=files,
        left_out=dict(contents.LEFT_OUT),
        not_known=contents.unknown_entries(outputs),
        secret_files=contents.secret_files_present(outputs),
    )
    manifest_bytes = manifest.to_bytes()
    writer.add_bytes(MANIFEST, manifest_bytes)
    writer.add_bytes(SIDECAR, sidecar_for(manifest_bytes))
    return manifest


def _files_under(path: Path) -> list[Path]:
    """A kept folder's files, in a stable order; the half-written files a stopped run left are not kept."""
    if path.is_symlink():
        raise BackupFailed(f"{path} is a link: coforms never makes one there, so it is not backed up. Check it.")
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    found = []
    for folder, dirs, names in os.walk(path):
        dirs.sort()
        found += [Path(folder) / name for name in sorted(names) if not (name.startswith(".") and name.endswith(".tmp"))]
    return found


def _sqlite_copy(database: Path, staging: Path) -> Path:
    """A copy of a SQLite file by SQLite's backup API: consistent even while the review desk writes to it."""
    copy = staging / database.name
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
    finally:
        source.close()
    for leftover in staging.glob(database.name + "-*"):
        leftover.unlink()
    return copy
