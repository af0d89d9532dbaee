"""Whether the reports show the warehouse as it is now.

Every write of the reports records, in OUTPUTS/.reports.json, what they were made from: the
warehouse's state (how many submissions, the last one, the last admin or pipeline action, the
open exceptions, the schema), and what else they depend on (the day, finance's ledger file, the
settings that change what they show, this version of coforms); and for each report file, its size
and modification time as written. A report is out of date when any of these differ: a form came
in, an admin acted, the ledger was replaced, a report write failed (its entry is missing), a day
passed, or someone replaced the file.

Knowing the warehouse's state needs the warehouse open. A run with an empty inbox first compares a
cheap stamp (the embedded warehouse file's size and time) and opens the warehouse only when that
differs, so a scheduled run with nothing to do still costs next to nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.files import write_atomically
from pipeline.settings import Settings

if TYPE_CHECKING:  # the warehouse's libraries are loaded only when it is opened (not by a run with nothing to do)
    from pipeline.store.warehouse import Warehouse

log = logging.getLogger(__name__)

MANIFEST = ".reports.json"
REPORT_FILES = ("exceptions.xlsx", "voucher_reconciliation.xlsx", "summary.html")
# what the reports show depends on these settings besides the warehouse (the rest decide how forms are read)
_REPORT_SETTINGS = (
    "ledger_path",
    "ledger_date_window_days",
    "declare_threshold",
    "borough_baseline",
    "small_number_threshold",
)


def _coforms_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("coforms")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _file_digest(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"  # a ledger that cannot be read: the reports say so, and are rewritten when it can


def outside_inputs(settings: Settings, today: dt.date) -> dict:
    """What the reports depend on besides the warehouse."""
    chosen = settings.model_dump(mode="json", include=set(_REPORT_SETTINGS))
    return {
        "day": today.isoformat(),
        "settings": hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:16],
        "ledger": _file_digest(settings.ledger_path),
        "coforms": _coforms_version(),
    }


def warehouse_state(warehouse: Warehouse) -> dict:
    """The warehouse's state as the reports see it: every way it changes adds a submission or an
    audit row (a run, an admin's action, an undo) or changes the open exceptions."""
    from pipeline.reports import queries
    from pipeline.store import database

    submissions, last_submission, last_action, open_problems, resolved_problems = queries.warehouse_counts(warehouse)
    return {
        "submissions": submissions,
        "last_submission": last_submission,
        "last_action": last_action,
        "open_problems": open_problems,
        "resolved_problems": resolved_problems,
        "schema": database.current_revision(warehouse.conn),
    }


def _warehouse_stamp(settings: Settings) -> list | None:
    """The embedded warehouse's files as they are on disk (None for a server warehouse: no cheap stamp)."""
    if settings.warehouse_url is not None:
        return None
    stamp = []
    for path in (settings.warehouse_path, settings.warehouse_path.with_name(settings.warehouse_path.name + ".wal")):
        try:
            info = path.stat()
            stamp.append([info.st_size, info.st_mtime_ns])
        except FileNotFoundError:
            stamp.append(None)
    return stamp


def _file_stamp(path: Path) -> list | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]


def _read_manifest(outputs: Path) -> dict:
    try:
        manifest = json.loads((outputs / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _files_as_written(outputs: Path, manifest: dict, names: Iterable[str]) -> list[str]:
    """The report files missing, not written from the recorded state, or changed since."""
    files = manifest.get("files", {})
    return [name for name in names if name not in files or _file_stamp(outputs / name) != files[name]]


def stale_reports(warehouse: Warehouse, settings: Settings, today: dt.date, names: Iterable[str]) -> list[str]:
    """The reports (of `names`) that do not show the warehouse as it is now; [] when all do."""
    manifest = _read_manifest(settings.outputs)
    now = {"warehouse": warehouse_state(warehouse), **outside_inputs(settings, today)}
    if manifest.get("state") != now:
        return list(names)
    return _files_as_written(settings.outputs, manifest, names)


def reports_look_current(settings: Settings, today: dt.date, names: Iterable[str]) -> bool:
    """Without opening the warehouse: True when nothing the reports depend on has changed since
    they were checked (False means 'maybe not': look in the warehouse, `stale_reports`)."""
    manifest = _read_manifest(settings.outputs)
    stamp = _warehouse_stamp(settings)
    if stamp is None or manifest.get("stamp") != {"warehouse": stamp, **outside_inputs(settings, today)}:
        return False
    return not _files_as_written(settings.outputs, manifest, names)


def remember_stamp(settings: Settings, today: dt.date) -> None:
    """After `stale_reports` found the reports current: the cheap stamp as it is now (the
    warehouse file changes when it is closed after the reports were written), so the next run with
    nothing to do needs no warehouse at all."""
    manifest = _read_manifest(settings.outputs)
    stamp = _warehouse_stamp(settings)
    if manifest and stamp is not None:
        manifest["stamp"] = {"warehouse": stamp, **outside_inputs(settings, today)}
        _write_manifest(settings.outputs, manifest)


def record_written(
    outputs: Path, state: dict, settings: Settings, today: dt.date, written: Iterable[Path], failed: Iterable[Path]
) -> None:
    """After writing the reports from `state` (warehouse_state, taken before they were gathered):
    the files written, and no entry for those that failed, so the next run or check sees them stale."""
    manifest = _read_manifest(outputs)
    outside = outside_inputs(settings, today)
    full_state = {"warehouse": state, **outside}
    files = manifest.get("files", {}) if manifest.get("state") == full_state else {}
    for path in written:
        files[path.name] = _file_stamp(path)
    for path in failed:
        files.pop(path.name, None)
    stamp = _warehouse_stamp(settings)
    _write_manifest(
        outputs,
        {
            "state": full_state,
            "stamp": {"warehouse": stamp, **outside} if stamp is not None else None,
            "files": files,
            "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    )


def _write_manifest(outputs: Path, manifest: dict) -> None:
    write_atomically(outputs / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
