"""Find what has arrived in the inbox and turn each file into an Attachment with provenance.

Email files (.eml, .msg, .mbox) are opened here into their attachments (issue: email in);
plain files are one Attachment each.

The inbox is written by people and programs we do not control, so listing it is careful
(issue 16): a file still being copied in is left for the next run; links, pipes, sockets
and devices are never opened or followed, only recorded; a name that is not valid UTF-8
gets a name that can be stored. Taking a file apart never raises: whatever fails becomes
that file's Problem.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.problems import Problem, ProblemCode, make_problem
from pipeline.records import Attachment, Provenance, storable_text

log = logging.getLogger(__name__)

# A file dated this far ahead of the clock cannot be one that is being written now (a write
# sets the time to now): it is taken rather than left waiting for its date to come round.
_FUTURE_SLACK_SECONDS = 3600.0


@dataclass(frozen=True)
class InboxItem:
    """One file in the inbox: removed from there only after everything in it is committed."""

    path: Path
    size: int
    # set for a link, pipe, socket or device: recorded with this Problem, never opened
    refused: Problem | None = None

    @property
    def name(self) -> str:
        """The file's name as it can be stored and shown (bytes that are not UTF-8 replaced)."""
        return storable_text(self.path.name)


# what each kind of not-a-file is, for the admin
_NOT_A_FILE = {
    stat.S_IFLNK: "a link to another file or folder",
    stat.S_IFIFO: "a pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
}


def _refusal(name: str, mode: int) -> Problem:
    kind = _NOT_A_FILE.get(stat.S_IFMT(mode), "not an ordinary file")
    return make_problem(
        ProblemCode.NOT_A_FILE, f"'{name}' in the inbox is {kind}, not an ordinary file, so it was not opened."
    )


def _inbox_entries(inbox: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every entry under the inbox with its own lstat, hidden ones (.gitkeep, editor temp files,
    rsync's partial files) skipped. Folders are entered; links to folders are not (never followed)."""
    folders = [inbox]
    while folders:  # a stack, not recursion: folders nested thousands deep cannot break it
        folder = folders.pop()
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError:  # gone since, or not readable: what it holds waits for the next run
            continue
        for entry in listed:
            if entry.name.startswith("."):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:  # removed while we looked
                continue
            if stat.S_ISDIR(info.st_mode):
                folders.append(Path(entry.path))
            else:
                yield Path(entry.path), info


def _still_being_written(mtime: float, now: float, settle_seconds: float) -> bool:
    return now - settle_seconds < mtime < now + _FUTURE_SLACK_SECONDS


class InboxMissing(Exception):
    """The inbox folder is not there or cannot be read: the message says which, in plain words."""


def require_inbox(inbox: Path) -> None:
    """A run on a missing inbox is an error, never a quiet day: a shared drive that is not mounted
    (or a setting with a typo) would otherwise report 'nothing new' for ever."""
    inbox = inbox.absolute()  # the message names the folder wherever the command was run from
    if not inbox.exists():
        raise InboxMissing(
            f"The inbox folder {inbox} does not exist: check the setting 'inbox' (or --inbox), and if it is on a "
            "shared drive, that the drive is connected."
        )
    if not inbox.is_dir():
        raise InboxMissing(f"The inbox {inbox} is a file, not a folder: check the setting 'inbox' (or --inbox).")
    try:
        with os.scandir(inbox) as entries:
            next(entries, None)
    except OSError as exc:
        raise InboxMissing(
            f"The inbox folder {inbox} cannot be read ({exc.strerror}): check that this account may open it."
        ) from exc


def list_inbox(inbox: Path, settle_seconds: float = 0.0, now: float | dt.datetime | None = None) -> list[InboxItem]:
    """Every file under the inbox, oldest first.

    A regular file changed within the last `settle_seconds` is left out: it may still be being
    copied in, and the next run takes it. Links, pipes, sockets and devices are listed with a
    refusal (they are recorded, never opened or followed)."""
    if not inbox.is_dir():
        return []
    if now is None:
        now = time.time()
    elif isinstance(now, dt.datetime):
        now = now.timestamp()
    found = []
    for path, info in _inbox_entries(inbox):
        if stat.S_ISREG(info.st_mode):
            if settle_seconds > 0 and _still_being_written(info.st_mtime, now, settle_seconds):
                continue
            item = InboxItem(path, info.st_size)
        else:
            item = InboxItem(path, info.st_size, _refusal(storable_text(path.name), info.st_mode))
        found.append((info.st_mtime, str(path), item))
    found.sort(key=lambda entry: entry[:2])
    return [item for _mtime, _path, item in found]


def settled_inbox(inbox: Path, settle_seconds: float, sleep=time.sleep) -> list[InboxItem]:
    """The inbox once its files have been quiet for `settle_seconds`: when a file was written
    more recently, wait (once, at most `settle_seconds`) until it is that old, then take what is
    still quiet. A file that changed meanwhile is still arriving: the next run takes it."""
    now = time.time()
    young = []
    for item in list_inbox(inbox):
        try:
            mtime = item.path.lstat().st_mtime
        except FileNotFoundError:
            continue
        if item.refused is None and _still_being_written(mtime, now, settle_seconds):
            young.append(mtime)
    if young:
        log.info("waiting for files written in the last %.0f seconds to settle", settle_seconds)
        sleep(min(settle_seconds, max(0.0, max(young) + settle_seconds - now)))
    return list_inbox(inbox, settle_seconds)


def received_time(path: Path) -> dt.datetime:
    """When the file arrived in the inbox (its own time: a link's target is never looked at)."""
    return dt.datetime.fromtimestamp(path.lstat().st_mtime, tz=dt.UTC)


class NotARegularFile(OSError):
    """The path is no longer an ordinary file (replaced by a link or a pipe since it was listed)."""


def read_regular_file(path: Path) -> bytes:
    """The bytes of an ordinary file, without following a link or waiting on a pipe.

    O_NOFOLLOW and the check on the open descriptor close the gap between listing the inbox
    and reading it: a file swapped for a link in between is refused, not followed."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.islink(path):
            raise NotARegularFile(f"{path.name} is a link") from exc
        raise
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise NotARegularFile(f"{path.name} is not an ordinary file")
        return fh.read()


def _refused_record(item: InboxItem, problem: Problem) -> list[Attachment]:
    """The record of something in the inbox that is not opened: no bytes, its name, its problem."""
    try:
        received = received_time(item.path)
    except OSError:
        received = None
    return [Attachment(b"", Provenance(item.name, received_at=received), problem)]


def internal_error(exc: BaseException, what: str = "this file") -> Problem:
    """Our own code failed on a file: recorded against that file, named for the developers."""
    return make_problem(
        ProblemCode.INTERNAL_ERROR,
        f"The pipeline failed while opening {what} ({type(exc).__name__}); the file has been kept for the developers.",
    )


def attachments_of(
    item: InboxItem, max_bytes: int, sender_allowed: Callable[[str | None], bool] = lambda _s: True
) -> list[Attachment] | None:
    """The attachments a file holds: each attached form for an email (every message of a
    mailbox), else the file itself. None if it is too large to read.

    Never raises for anything the file contains: a refused item, a file that turned into a
    link, or a failure while taking it apart is returned as a record with its Problem."""
    from pipeline.intake import mail

    if item.refused is not None:
        return _refused_record(item, item.refused)  # its path is never opened
    if item.size > max_bytes:
        return None
    try:
        data = read_regular_file(item.path)
    except NotARegularFile:
        try:
            mode = item.path.lstat().st_mode
        except OSError:
            mode = 0
        return _refused_record(item, _refusal(item.name, mode))
    received = received_time(item.path)
    try:
        return mail.attachments_in(data, item.name, received, sender_allowed)
    except Exception as exc:  # noqa: BLE001 - one file's failure is that file's problem, never the run's
        return [Attachment(data, Provenance(item.name, received_at=received), internal_error(exc))]
