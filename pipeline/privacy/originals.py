"""Original files deleted: from the archive, with what was made from them (the review desk's page
pictures in OUTPUTS/web-cache/<sha256>/, a scan's doubtful spots in OUTPUTS/ocr-crops/), and
the warehouse told (store.deleted_originals), so that every screen can say the file is gone.

The warehouse row is written in the action's transaction, the files deleted after its commit: a
crash between the two leaves files the warehouse says are deleted, and the next retention run
deletes them (`sweep`).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from pipeline.intake.archive import archive_path
from pipeline.records import crops_folder
from pipeline.store.warehouse import Warehouse


def record_deleted(warehouse: Warehouse, sha256s: list[str], why: str, now: dt.datetime) -> int:
    """The originals recorded as deleted (those not recorded already); how many."""
    already = {r[0] for r in warehouse.rows("SELECT sha256 FROM store.deleted_originals")}
    new = [sha for sha in dict.fromkeys(sha256s) if sha not in already]
    for sha in new:
        warehouse.execute(
            "INSERT INTO store.deleted_originals (sha256, deleted_at, why) VALUES (:sha, :now, :why)",
            sha=sha,
            now=now,
            why=why,
        )
    return len(new)


def files_of(outputs: Path, sha256: str) -> list[Path]:
    """The original and what was made from it, where they exist."""
    places = [
        archive_path(outputs / "archive", sha256),
        outputs / "web-cache" / sha256,
        outputs / crops_folder(sha256),
    ]
    return [p for p in places if p.exists()]


def delete_files(outputs: Path, sha256s: list[str]) -> int:
    """Delete the originals (and their pictures); the number of originals that were there."""
    removed = 0
    for sha in sha256s:
        for path in files_of(outputs, sha):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                removed += 1
                path.unlink()
    return removed


def sweep(warehouse: Warehouse, outputs: Path) -> int:
    """Files the warehouse says are deleted that are still there (a command stopped half-way)
    deleted. A file received again after it was deleted (the same bytes, loaded later: the run
    archived it anew) is kept, and no longer recorded as deleted: its retention starts again."""
    back = [
        sha
        for (sha,) in warehouse.rows(
            "SELECT d.sha256 FROM store.deleted_originals d WHERE EXISTS (SELECT 1 FROM store.submissions s "
            "LEFT JOIN store.intake i USING (intake_id) WHERE (s.sha256 = d.sha256 OR i.item_sha256 = d.sha256) "
            "AND s.loaded_at > d.deleted_at)"
        )
    ]
    if back:
        with warehouse.transaction():
            warehouse.execute("DELETE FROM store.deleted_originals WHERE sha256 IN :back", back=back)
    return delete_files(outputs, [r[0] for r in warehouse.rows("SELECT sha256 FROM store.deleted_originals")])


def deleted_originals(warehouse: Warehouse) -> dict[str, tuple[dt.datetime, str]]:
    """SHA-256 -> (when, why) of each original deleted."""
    return {
        sha: (when, why)
        for sha, when, why in warehouse.rows("SELECT sha256, deleted_at, why FROM store.deleted_originals")
    }
