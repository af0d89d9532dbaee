"""The Prefect flow and its scheduled deployment, against a real (temporary) Prefect server."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.settings import Settings
from tests.conftest import copy_samples


@pytest.fixture(scope="session")
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    # The harness starts a real server in a subprocess: ~30 s on a small machine.
    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_flow_processes_the_inbox_and_publishes_artifacts(prefect_server, workdir, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.coforms_flow import coforms_run_flow

    monkeypatch.setenv("COFORMS_INBOX", str(workdir / "inbox"))
    monkeypatch.setenv("COFORMS_OUTPUTS", str(workdir / "outputs"))
    monkeypatch.setenv("COFORMS_BATCH_SIZE", "4")  # several batches, one task each
    samples = copy_samples(workdir / "inbox")
    state = coforms_run_flow(return_state=True)
    assert state.is_completed()
    result = state.result()
    assert result["received"] == len(samples) + 1  # the sample email carries two forms
    assert result["loaded"] >= 4 and result["held"] == 2 and result["rejected"] == 1
    assert result["pounds_loaded"] == "153.00"  # £82.50 of it from the scanned sheet
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM submissions").fetchone()[0] == len(samples) + 1
    con.close()
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(state.state_details.flow_run_id)
        tasks = client.read_task_runs()
        batch_runs = [t for t in tasks if t.flow_run_id == flow_run.id and t.name.startswith("process-batch")]
        assert len(batch_runs) == 3  # 11 files in batches of 4: one task per batch, not per file
        keys = {
            a.key
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["coforms-run-summary", "coforms-run-problems"])
                )
            )
        }
    assert keys == {"coforms-run-summary", "coforms-run-problems"}


def test_deployment_is_scheduled_every_15_minutes_and_never_overlaps(prefect_server, workdir):
    from prefect.client.orchestration import get_client

    from flows.coforms_flow import DEPLOYMENT_NAME, build_deployment

    deployment = build_deployment(Settings())
    deployment_id = deployment.apply()
    with get_client(sync_client=True) as client:
        stored = client.read_deployment(deployment_id)
    assert stored.name == DEPLOYMENT_NAME
    (schedule,) = stored.schedules
    assert schedule.schedule.cron == "*/15 * * * *" and schedule.schedule.timezone == "Europe/London"
    assert schedule.active
    assert stored.global_concurrency_limit is not None and stored.global_concurrency_limit.limit == 1
    assert stored.concurrency_options.collision_strategy.value == "CANCEL_NEW"


def test_schedule_comes_from_settings(workdir, monkeypatch):
    from flows.coforms_flow import build_deployment

    monkeypatch.setenv("COFORMS_SCHEDULE_CRON", "0 7 * * 1-5")
    deployment = build_deployment(Settings())
    assert deployment.schedules[0].schedule.cron == "0 7 * * 1-5"


def test_flow_fetches_through_graph_first_when_mail_source_is_graph(prefect_server, workdir, monkeypatch):
    """No imap_host: with mail_source = "graph" the flow still fetches first, and the run reads it."""
    from flows.coforms_flow import coforms_run_flow
    from tests.fixtures import emails
    from tests.intake.m365_server import M365Server

    graph = M365Server()
    graph.start()
    try:
        for key, value in graph.settings_env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("COFORMS_MAIL_SOURCE", "graph")
        monkeypatch.setenv("COFORMS_INBOX", str(workdir / "inbox"))
        monkeypatch.setenv("COFORMS_OUTPUTS", str(workdir / "outputs"))
        graph.tenant.deliver(emails.several_forms())
        state = coforms_run_flow(return_state=True)
        assert state.is_completed()
        assert state.result()["received"] >= 1
        assert (graph.tenant.count("Inbox"), graph.tenant.count("Processed")) == (0, 1)
    finally:
        graph.stop()
