"""The Prefect checks against an HTTP server speaking Prefect's REST API (tests/doctor/servers.py;
the same requests were checked against a real `prefect server start`): the server answers or not,
and the last scheduled run is recent, late (more than two turns of schedule_cron missed), ended
badly, or has not happened yet."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pipeline.doctor.runner import Status
from pipeline.doctor.schedule import DEPLOYMENT_NAME, FLOW_NAME, check_last_run, check_prefect_server, missed_turns
from pipeline.settings import Settings
from tests.doctor.servers import PrefectApi
from tests.smtp_server import free_port

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)  # a Friday


@pytest.fixture
def prefect(workdir, monkeypatch):
    with PrefectApi() as api:
        monkeypatch.setenv("PREFECT_API_URL", api.url)
        api.registered(NOW - dt.timedelta(days=30))
        yield api


def _last_run(**settings) -> object:
    return check_last_run(Settings(**settings), now=NOW)


def test_a_prefect_server_that_answers_is_ok(prefect):
    finding = check_prefect_server(Settings())
    assert finding.status is Status.OK and finding.said == f"{prefect.url} answers."


def test_a_prefect_server_that_does_not_answer_fails_and_the_last_run_is_not_checked(workdir, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    finding = check_prefect_server(Settings())
    assert finding.status is Status.FAILED and f"no Prefect server answers at {url}" in finding.said
    assert "systemctl start coforms-prefect" in finding.fix and "--no-schedule" in finding.fix
    assert check_last_run(Settings()).status is Status.SKIPPED


def test_an_address_that_is_not_prefects_api_fails_and_says_how_it_ends(prefect, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", prefect.url.removesuffix("/api"))
    finding = check_prefect_server(Settings())
    assert finding.status is Status.FAILED and "answered 404" in finding.said
    assert "it ends in /api" in finding.fix


def test_the_setting_is_used_when_prefect_api_url_is_not_in_the_environment(prefect, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL")
    assert check_prefect_server(Settings(prefect_api_url=prefect.url)).status is Status.OK


def test_without_the_schedule_both_are_skipped(workdir):
    assert check_prefect_server(Settings(), schedule=False).status is Status.SKIPPED
    assert check_last_run(Settings(), schedule=False).status is Status.SKIPPED


def test_a_recent_run_is_ok_and_the_question_names_the_deployment(prefect):
    prefect.ran(NOW - dt.timedelta(minutes=20), name="quiet-otter")
    finding = _last_run()
    assert finding.status is Status.OK
    assert finding.said == "the last run (quiet-otter) started 20 minutes ago (27/11/2026 11:40), state COMPLETED."
    path, body = prefect.asked[-1]
    assert path == "/api/flow_runs/filter"
    assert body["deployments"] == {"name": {"any_": [DEPLOYMENT_NAME]}}
    assert body["flows"] == {"name": {"any_": [FLOW_NAME]}}
    assert body["sort"] == "START_TIME_DESC" and body["limit"] == 1


def test_a_last_run_too_old_is_a_warning_to_check_the_service(prefect):
    prefect.ran(NOW - dt.timedelta(hours=2))
    finding = _last_run()
    assert finding.status is Status.WARNING
    assert "started 2 hours ago" in finding.said
    assert "('*/15 * * * *') should have run it 8 times since" in finding.said
    assert "systemctl status coforms-serve" in finding.fix


def test_a_weekday_schedule_is_not_late_over_the_weekend(prefect):
    monday_morning = dt.datetime(2026, 11, 30, 8, 30, tzinfo=ZoneInfo("Europe/London"))
    prefect.ran(dt.datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Europe/London")))
    finding = check_last_run(Settings(schedule_cron="0 9 * * 1-5"), now=monday_morning)
    assert finding.status is Status.OK and "2 days ago (27/11/2026 09:00)" in finding.said


def test_a_last_run_that_failed_is_a_warning(prefect):
    prefect.ran(NOW - dt.timedelta(minutes=10), state="CRASHED")
    finding = _last_run()
    assert finding.status is Status.WARNING and "state CRASHED" in finding.said
    assert "Prefect UI" in finding.fix


def test_no_deployment_registered_is_a_warning_to_start_serve(prefect):
    prefect.deployments = []
    finding = _last_run()
    assert finding.status is Status.WARNING and "never registered its schedule" in finding.said
    assert "systemctl start coforms-serve" in finding.fix


def test_no_run_yet_is_said_ok_while_the_first_is_due_and_a_warning_after(prefect):
    prefect.registered(NOW - dt.timedelta(minutes=10))
    finding = _last_run()
    assert finding.status is Status.OK and finding.said.startswith("no scheduled run has started yet")
    prefect.registered(NOW - dt.timedelta(hours=3))
    finding = _last_run()
    assert finding.status is Status.WARNING and "should have run 12 times since" in finding.said


def test_missed_turns_counts_the_schedule_in_its_time_zone():
    zone = ZoneInfo("Europe/London")
    since = dt.datetime(2026, 3, 28, 23, 0, tzinfo=zone)  # the clocks go forward at 01:00 on the 29th
    assert missed_turns("0 * * * *", since, dt.datetime(2026, 3, 29, 4, 0, tzinfo=zone)) == 4
    assert missed_turns("*/15 * * * *", NOW, NOW) == 0
