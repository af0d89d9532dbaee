"""The failures of a backup or a restore, each told in one plain sentence (pipeline.cli.errors
shows their message as it is, after the prefix they declare)."""

from __future__ import annotations

from pipeline.store.lock import RunInProgress


class BackupFailed(Exception):
    """A backup that could not be made; nothing was left at its destination."""

    plain_prefix = "No backup made: "


class BackupDamaged(Exception):
    """A backup that is not exactly as it was written (a changed byte, a missing or extra file, a
    cut-short .tar, an edited manifest): nothing was restored from it."""

    plain_prefix = "Not restored: "


class RestoreRefused(Exception):
    """A restore that cannot be done as asked (an outputs folder or a database that is not empty,
    a backup from a newer coforms); nothing was written."""

    plain_prefix = "Not restored: "


class BackupBusy(RunInProgress):
    """A run, an admin action or another backup holds the run lock: exit code 2, try again later."""
