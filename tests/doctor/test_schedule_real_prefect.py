"""The last-run check against a real `prefect server start` (not the small stand-in of
test_schedule.py): the deployment `coforms serve` registers is found, a run of it started from
Prefect's own client is the last run, and the same run two hours on is late."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap

import pytest

from pipeline.doctor.runner import Status
from pipeline.doctor.schedule import check_last_run, check_prefect_server
from pipeline.settings import Settings
from tests.conftest import ROOT
from tests.flows.test_serve import BIN, _free_port, _healthy, _stop, _wait

REGISTER = textwrap.dedent(
    """
    import sys
    from prefect.client.orchestration import get_client
    from prefect.states import Running
    from flows.coforms_flow import build_deployment
    from pipeline.settings import Settings

    deployment_id = build_deployment(Settings()).apply()
    if sys.argv[1] == "and-run":
        with get_client(sync_client=True) as client:
            run = client.create_flow_run_from_deployment(deployment_id)
            client.set_flow_run_state(run.id, Running(), force=True)
    """
)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
    }
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=home,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: _healthy(f"{api}/health"), 180, "the Prefect server", [server])
        yield api, env
    finally:
        _stop(server)


def _register(env: dict[str, str], *what: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", REGISTER, *what], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_last_run_as_a_real_prefect_server_tells_it(prefect_server, workdir, monkeypatch):
    api, env = prefect_server
    monkeypatch.setenv("PREFECT_API_URL", api)
    assert check_prefect_server(Settings()).status is Status.OK
    finding = check_last_run(Settings())
    assert finding.status is Status.WARNING and "never registered its schedule" in finding.said

    _register(env, "only")
    finding = check_last_run(Settings())
    assert finding.status is Status.OK and finding.said.startswith("no scheduled run has started yet")

    _register(env, "and-run")
    finding = check_last_run(Settings())
    assert finding.status is Status.OK and "state RUNNING" in finding.said, finding
    later = check_last_run(Settings(), now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
    assert later.status is Status.WARNING and "should have run it 8 times since" in later.said
