"""One run at a time: a second run started meanwhile waits for the first (up to a setting),
then goes on or gives up with a clear message. Also sets the process umask so everything
written under OUTPUTS (personal data) is private: files 0600, folders 0700.

Two locks, because two things are shared. The outputs folder (archive, reports) is guarded by
a lock file in it. A PostgreSQL warehouse may be shared by pipelines on other machines, which
cannot see that file, so a run also holds a PostgreSQL advisory lock for as long as it works;
an embedded DuckDB warehouse lives in the outputs folder and needs nothing more.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

from pipeline.files import private_dir

# the advisory lock's key: any constant bigint, the same in every coforms (scoped to the database)
ADVISORY_LOCK_KEY = int.from_bytes(b"coforms!", "big") >> 1
POLL_SECONDS = 0.25


class RunInProgress(Exception):
    pass


@contextmanager
def exclusive_run(outputs: Path, wait_seconds: float, warehouse: Path | str | None = None) -> Iterator[None]:
    """Hold the outputs folder (and a server warehouse, when `warehouse` is an URL) for one run."""
    os.umask(0o077)
    private_dir(outputs)
    deadline = time.monotonic() + wait_seconds
    with ExitStack() as held:
        lock = FileLock(str(outputs / ".coforms.lock"))
        try:
            lock.acquire(timeout=wait_seconds)
        except Timeout as exc:
            raise RunInProgress(
                f"Another coforms run is still working on {outputs} (waited {wait_seconds:.0f}s). "
                "Nothing was done; the next scheduled run will pick up the inbox."
            ) from exc
        held.callback(lock.release)
        if warehouse is not None:
            held.enter_context(warehouse_turn(warehouse, max(0.0, deadline - time.monotonic())))
        yield


@contextmanager
def warehouse_turn(warehouse: Path | str, wait_seconds: float) -> Iterator[None]:
    """Hold a server warehouse (nothing to do for the embedded file): a session advisory lock on
    a connection of its own, released when it closes (so a run killed mid-way, or a machine that
    dies, never leaves it held)."""
    if not (isinstance(warehouse, str) and "://" in warehouse):
        yield
        return
    from pipeline.store import database

    url = warehouse  # a server URL from here on
    deadline = time.monotonic() + wait_seconds
    engine = database.make_engine(database.warehouse_url(url))
    try:
        with engine.connect() as conn:
            # try-lock in a loop rather than lock_timeout: a wait of 0 must mean "do not wait"
            while not conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({ADVISORY_LOCK_KEY})").scalar():
                if time.monotonic() >= deadline:
                    where = database.sa.engine.make_url(database.warehouse_url(url)).render_as_string(
                        hide_password=True
                    )
                    raise RunInProgress(
                        f"Another coforms run, perhaps on another machine, is still loading into the warehouse "
                        f"{where} (waited {wait_seconds:.0f}s). Nothing was done; the next scheduled run will "
                        "pick up the inbox."
                    )
                time.sleep(POLL_SECONDS)
            conn.commit()  # the lock belongs to the session, not to this transaction
            try:
                yield
            finally:
                # a lost connection has released the lock already; do not hide the run's own error
                with suppress(database.sa.exc.DBAPIError):
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({ADVISORY_LOCK_KEY})")
                    conn.commit()
    finally:
        engine.dispose()
