"""Two runs at once on one inbox and warehouse, or on two machines sharing a PostgreSQL warehouse;
and private files for personal data."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import copy_samples

COFORMS = str(Path(sys.executable).with_name("coforms"))


def _start(workdir: Path, **env) -> subprocess.Popen:
    full = {k: v for k, v in os.environ.items() if not k.startswith("COFORMS_")}
    full.update(COFORMS_INBOX=str(workdir / "inbox"), COFORMS_OUTPUTS=str(workdir / "outputs"), **env)
    return subprocess.Popen(
        [COFORMS, "run"], cwd=workdir, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_runs_started_together_load_everything_once(workdir):
    samples = copy_samples(workdir / "inbox")
    first, second = _start(workdir), _start(workdir)
    results = [p.communicate(timeout=180) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], results  # the second waited for the first
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    statuses = dict(con.execute("SELECT status, count(*) FROM submissions GROUP BY 1").fetchall())
    con.close()
    assert sum(statuses.values()) == len(samples) + 1 and "duplicate" not in statuses


def test_a_run_that_cannot_get_the_lock_says_so_and_does_nothing(workdir):
    from filelock import FileLock

    copy_samples(workdir / "inbox")
    (workdir / "outputs").mkdir()
    with FileLock(str(workdir / "outputs" / ".coforms.lock")):
        proc = _start(workdir, COFORMS_LOCK_WAIT_SECONDS="1")
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "Another coforms run is still working" in err
    assert len(list((workdir / "inbox").iterdir())) == 12  # untouched
    assert not (workdir / "outputs" / "warehouse.duckdb").exists()


def test_everything_under_outputs_is_private(workdir):
    copy_samples(workdir / "inbox")
    assert _start(workdir).wait(timeout=180) == 0
    for path in [workdir / "outputs", *(workdir / "outputs").rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


# A PostgreSQL warehouse can be shared by pipelines on several machines, each with its own
# outputs folder (so its own lock file): the server's advisory lock makes them take turns.


def _hold_server_lock(url: str):
    from pipeline.store import database
    from pipeline.store.lock import ADVISORY_LOCK_KEY

    engine = database.make_engine(url)
    conn = engine.connect()
    assert conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({ADVISORY_LOCK_KEY})").scalar()
    conn.commit()
    return engine, conn


def test_two_machines_on_one_postgresql_warehouse_take_turns(tmp_path, postgres_database):
    from pipeline.store.lock import RunInProgress, exclusive_run

    first_machine, second_machine = tmp_path / "a" / "outputs", tmp_path / "b" / "outputs"
    with (
        exclusive_run(first_machine, 0, postgres_database),
        pytest.raises(RunInProgress, match="perhaps on another machine"),
        exclusive_run(second_machine, 0, postgres_database),
    ):
        pytest.fail("both machines held the warehouse at once")
    with exclusive_run(second_machine, 0, postgres_database):  # released when the first finished
        pass


def test_a_run_waits_for_the_other_machine_then_goes_on(tmp_path, postgres_database):
    from pipeline.store.lock import exclusive_run

    engine, other_machine = _hold_server_lock(postgres_database)
    threading.Timer(0.5, other_machine.close).start()  # the other run ends (or its machine dies)
    started = time.monotonic()
    with exclusive_run(tmp_path / "outputs", 30, postgres_database):
        waited = time.monotonic() - started
    engine.dispose()
    assert 0.4 <= waited < 30


def test_a_run_blocked_by_another_machine_says_so_and_does_nothing(workdir, postgres_database):
    copy_samples(workdir / "inbox")
    engine, other_machine = _hold_server_lock(postgres_database)
    try:
        proc = _start(workdir, COFORMS_LOCK_WAIT_SECONDS="1", COFORMS_WAREHOUSE_URL=postgres_database)
        out, err = proc.communicate(timeout=120)
    finally:
        other_machine.close()
        engine.dispose()
    assert proc.returncode == 2, err
    assert "perhaps on another machine" in err
    assert len(list((workdir / "inbox").iterdir())) == 12  # untouched
    from pipeline.store.warehouse import Warehouse

    with Warehouse(postgres_database) as warehouse:
        assert warehouse.one("SELECT count(*) FROM store.submissions")[0] == 0
