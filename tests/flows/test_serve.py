"""`coforms serve` against a real `prefect server start`: the schedule really fires.

A temporary Prefect server never fires schedules, so this starts the real one on a free
port, serves the deployment on a one-minute cron, and waits for the scheduled run to empty
the inbox into the warehouse. Slow by nature (up to two minutes): it waits for a minute
boundary.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb

from tests.conftest import GOLDEN

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(condition, timeout: float, what: str, procs=()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(f"{proc.args[0]} exited with {proc.returncode} while waiting for {what}")
        if condition():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_serve_runs_the_pipeline_on_its_cron_schedule(tmp_path):
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    inbox, outputs = tmp_path / "inbox", tmp_path / "outputs"
    inbox.mkdir()
    shutil.copy(GOLDEN / "voucher" / "table_total_row.docx", inbox / "vouchers.docx")
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "COFORMS_INBOX": str(inbox),
        "COFORMS_OUTPUTS": str(outputs),
        "COFORMS_SCHEDULE_CRON": "* * * * *",
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        start_new_session=True,
        stdout=(logs / "server.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    serve = None
    try:
        _wait(lambda: _healthy(f"{api}/health"), 180, "the Prefect server", [server])
        serve = subprocess.Popen(
            [str(BIN / "coforms"), "serve"],
            env=env,
            cwd=tmp_path,
            start_new_session=True,
            stdout=(logs / "serve.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        _wait(lambda: not any(inbox.iterdir()), 200, "a scheduled run to empty the inbox", [server, serve])
        _wait(lambda: (outputs / "voucher_reconciliation.xlsx").exists(), 60, "the reports", [server, serve])
    except AssertionError:
        print((logs / "serve.log").read_text()[-3000:])
        raise
    finally:
        if serve is not None:
            _stop(serve)
        _stop(server)
    con = duckdb.connect(str(outputs / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT status, source_file FROM submissions").fetchall() == [("loaded", "vouchers.docx")]
    con.close()
