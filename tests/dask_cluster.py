"""A real Dask cluster on this machine for the tests and the benchmark: `dask scheduler` and
`dask worker` started as separate processes, as on a cluster, stopped when the block ends."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.postgres import free_port

BIN = Path(sys.executable).parent


@contextmanager
def local_dask_cluster(workdir: Path, workers: int = 2) -> Iterator[str]:
    """Yields the scheduler's address once `workers` single-threaded workers have joined."""
    import distributed

    address = f"tcp://127.0.0.1:{free_port()}"
    # workers that may start processes of their own: each PDF is read in a time- and memory-limited child
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                address.rsplit(":", 1)[1],
                "--no-dashboard",
            ],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    procs += [
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "worker",
                address,
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--name",
                f"worker-{n}",
            ],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(1, workers + 1)
    ]
    try:
        client = distributed.Client(address, timeout=60)
        client.wait_for_workers(workers, timeout=120)
        client.close()
        yield address
    finally:
        for proc in procs[::-1]:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
