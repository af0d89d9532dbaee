"""`coforms`: the command line. Other tools call it, so its commands and exit codes are stable:
0 when the command did its work (whatever the forms held), 1 when it failed (one plain sentence
says why; --debug shows the traceback), 2 when another run held what it needed (nothing was done).

One module per group of commands: daily (run, report, check, exceptions), admin (accept,
reject, supersede, undo), correct (correct, confirm), operations (migrate, fetch, templates,
serve), web (the review desk and its accounts), doctor (checks of a deployment), backup (backup,
restore), privacy (retention, person, erase)."""

from __future__ import annotations

import sys

from pipeline.cli import admin, backup, correct, daily, doctor, operations, privacy, web  # noqa: F401  (each registers its commands on `app`)
from pipeline.cli.app import app

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
