"""The inbox and outputs folders: there, folders, writable by this account, outputs private;
and room on the disk that holds the outputs."""

from __future__ import annotations

import errno
import os
import pwd
import shutil
import stat
import tempfile
from pathlib import Path

from pipeline.doctor.runner import Finding, failed, ok, warning
from pipeline.settings import Settings

GB = 1024**3
# Below these, free space on the outputs' disk is a failure / a warning: a run writes the warehouse,
# the archive of originals and the reports there, and a full disk stops it.
DISK_FAILED_BELOW = 1 * GB
DISK_WARNING_BELOW = 5 * GB


def account() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def _folder_problem(check: str, path: Path, setting: str) -> Finding | None:
    """Missing, not a folder, or not writable by this account: the finding; None when usable."""
    path = path.absolute()
    if not path.exists():
        return failed(
            check,
            f"{path} does not exist.",
            f"Create it (sudo install -d -m 700 -o {account()} {path}), mount the share that holds it, "
            f"or correct the setting '{setting}'.",
        )
    if not path.is_dir():
        return failed(check, f"{path} is a file, not a folder.", f"Correct the setting '{setting}' to name a folder.")
    try:
        with tempfile.TemporaryFile(dir=path, prefix=".coforms-doctor-"):
            pass
    except OSError as exc:
        if exc.errno == errno.EROFS:
            return failed(
                check, f"{path} is on a read-only disk or share.", "Mount it read-write, or choose a writable folder."
            )
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return None  # writable, but full: the disk space check says so
        return failed(
            check,
            f"this account ({account()}) cannot write in {path} ({exc.strerror}).",
            f"Give it to this account: sudo chown -R {account()} {path}",
        )
    return None


def check_inbox(settings: Settings) -> Finding:
    problem = _folder_problem("Inbox", settings.inbox, "inbox")
    return problem or ok("Inbox", f"{settings.inbox.absolute()} is a folder this account can write in.")


def check_outputs(settings: Settings) -> Finding:
    problem = _folder_problem("Outputs", settings.outputs, "outputs")
    if problem:
        return problem
    path = settings.outputs.absolute()
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return failed(
            "Outputs",
            f"{path} can be read by other accounts (mode {mode:04o}); it holds residents' personal data.",
            f"Make it private: chmod 700 {path}",
        )
    owner = path.stat().st_uid
    if owner != os.geteuid():
        return warning(
            "Outputs",
            f"{path} belongs to another account (uid {owner}), not to {account()}.",
            f"Run coforms (and this check) as the account that owns it, or: sudo chown -R {account()} {path}",
        )
    return ok("Outputs", f"{path} is a private folder (mode {mode:04o}) this account can write in.")


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk_space(settings: Settings) -> Finding:
    where = _nearest_existing(settings.outputs)
    free = shutil.disk_usage(where).free
    said = f"{free / GB:.1f} GB free on the disk that holds {settings.outputs.absolute()}"
    fix = "Free some space there (old backups, logs), or move the outputs to a larger disk."
    if free < DISK_FAILED_BELOW:
        return failed("Disk space", said + f": less than {DISK_FAILED_BELOW // GB} GB, runs will stop.", fix)
    if free < DISK_WARNING_BELOW:
        return warning("Disk space", said + f": less than {DISK_WARNING_BELOW // GB} GB.", fix)
    return ok("Disk space", said + ".")
