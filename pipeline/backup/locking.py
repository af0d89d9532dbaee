"""The run lock, held for a backup or a restore, with a busy message of their own (exit code 2)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pipeline.backup.errors import BackupBusy
from pipeline.store.lock import RunInProgress, exclusive_run


@contextmanager
def run_lock(outputs: Path, wait_seconds: float, warehouse: Path | str | None, busy: str) -> Iterator[None]:
    """Hold the outputs folder (and a server warehouse) like a run; `busy` says what was not done."""
    held = ExitStack()
    try:
        held.enter_context(exclusive_run(outputs, wait_seconds, warehouse))
    except RunInProgress as exc:
        raise BackupBusy(busy) from exc
    with held:
        yield
