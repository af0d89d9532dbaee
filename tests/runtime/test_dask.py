"""Parsing on a Dask cluster (setting dask_address) gives the rows of a local run.

A real scheduler and two real workers are started here, as separate processes, as a cluster
would be: `dask scheduler` and `dask worker`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import copy_samples

distributed = pytest.importorskip("distributed", reason="the optional extra [dask] is not installed")
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from tests.dask_cluster import local_dask_cluster

    with local_dask_cluster(tmp_path_factory.mktemp("dask")) as address:
        yield address


def _run(workdir: Path, **settings: str) -> dict[str, list]:
    (workdir / "inbox").mkdir(parents=True)
    copy_samples(workdir / "inbox")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COFORMS_")}
    env.update(COFORMS_INBOX=str(workdir / "inbox"), COFORMS_OUTPUTS=str(workdir / "out"), **settings)
    proc = subprocess.run([str(BIN / "coforms"), "run"], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    con = duckdb.connect(str(workdir / "out" / "warehouse.duckdb"), read_only=True)
    try:
        views = {}
        for view in ("submissions", "exceptions", "evaluation_scores", "monitoring", "voucher_lines", "planning"):
            columns = [
                r[0]
                for r in con.execute(f"DESCRIBE {view}").fetchall()
                if r[0] not in ("loaded_at", "resolved_at", "received_at")
            ]  # times of this copy
            views[view] = con.execute(f"SELECT {', '.join(columns)} FROM {view} ORDER BY ALL").fetchall()
        return views
    finally:
        con.close()


def test_a_run_parsed_on_a_dask_cluster_gives_the_rows_of_a_local_run(cluster, tmp_path):
    started = time.monotonic()
    on_dask = _run(tmp_path / "dask", COFORMS_DASK_ADDRESS=cluster)
    assert time.monotonic() - started < 600
    local = _run(tmp_path / "local", COFORMS_WORKERS="2")
    assert on_dask == local
    assert {row[7] for row in on_dask["submissions"]} >= {"loaded", "held", "rejected"}  # the status column

    def parses_seen(dask_scheduler) -> int:  # nested: sent to the scheduler by value
        prefix = dask_scheduler.task_prefixes.get("parse_many")
        return sum(prefix.state_counts.values()) if prefix is not None else 0

    with distributed.Client(cluster, timeout=60) as client:  # the files really went to the cluster
        assert client.run_on_scheduler(parses_seen) >= 1  # 16 files a task: the sample's dozen make one
    log = (tmp_path / "dask" / "out" / "coforms.log").read_text()
    assert "pdf, parse" in log  # the sample's PDFs were read (in a limited child of a Dask worker)
