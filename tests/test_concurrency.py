"""Two runs at once on one inbox and warehouse; and private files for personal data."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import copy_samples

COFORMS = str(Path(sys.executable).with_name("coforms"))


def _start(workdir: Path, **env) -> subprocess.Popen:
    full = {k: v for k, v in os.environ.items() if not k.startswith("COFORMS_")}
    full.update(COFORMS_INBOX=str(workdir / "inbox"), COFORMS_OUTPUTS=str(workdir / "outputs"), **env)
    return subprocess.Popen([COFORMS, "run"], cwd=workdir, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


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
    assert len(list((workdir / "inbox").iterdir())) == 11  # untouched
    assert not (workdir / "outputs" / "warehouse.duckdb").exists()


def test_everything_under_outputs_is_private(workdir):
    copy_samples(workdir / "inbox")
    assert _start(workdir).wait(timeout=180) == 0
    for path in [workdir / "outputs", *(workdir / "outputs").rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
