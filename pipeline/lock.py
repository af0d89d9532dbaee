"""One run at a time per outputs folder: a second run started meanwhile waits for the first
(up to a setting), then goes on or gives up with a clear message. Also sets the process
umask so everything written under OUTPUTS (personal data) is private: files 0600, folders 0700."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from pipeline.files import private_dir


class RunInProgress(Exception):
    pass


@contextmanager
def exclusive_run(outputs: Path, wait_seconds: float):
    os.umask(0o077)
    private_dir(outputs)
    lock = FileLock(str(outputs / ".coforms.lock"))
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout as exc:
        raise RunInProgress(
            f"Another coforms run is still working on {outputs} (waited {wait_seconds:.0f}s). "
            "Nothing was done; the next scheduled run will pick up the inbox.") from exc
    try:
        yield
    finally:
        lock.release()
