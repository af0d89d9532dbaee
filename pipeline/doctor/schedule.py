"""The schedule: the Prefect server `coforms serve` reports to answers, and the scheduled runs are
happening (the last one started no longer ago than about two turns of schedule_cron).

Asked over Prefect's REST API (POST /api/deployments/filter and /api/flow_runs/filter), with
httpx: no Prefect client to import, and the same questions a person would ask in its UI."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

from pipeline.doctor.runner import Finding, failed, ok, skipped, warning
from pipeline.settings import Settings

# flows/coforms_flow.py's names (a test checks they agree; importing the flow would load Prefect)
FLOW_NAME = "coforms-run"
DEPLOYMENT_NAME = "coforms-every-15-minutes"
# the last run may have started this many scheduled times ago before it is called late
MISSED_TURNS_ALLOWED = 2
HTTP_SECONDS = 10
_NOT_SCHEDULED = "not checked: --no-schedule (runs are started by hand or by another scheduler)."
_BAD_ENDINGS = {"FAILED", "CRASHED", "CANCELLED"}


def api_url(settings: Settings) -> str:
    """Where `coforms serve` finds its server: PREFECT_API_URL, else the setting prefect_api_url."""
    return os.environ.get("PREFECT_API_URL") or settings.prefect_api_url


def check_prefect_server(settings: Settings, schedule: bool = True) -> Finding:
    import httpx

    check = "Prefect server"
    if not schedule:
        return skipped(check, _NOT_SCHEDULED)
    api = api_url(settings).rstrip("/")
    try:
        httpx.get(api + "/health", timeout=HTTP_SECONDS).raise_for_status()
    except httpx.HTTPStatusError as exc:
        return failed(
            check,
            f"{api}/health answered {exc.response.status_code}: that address is not a Prefect server's API.",
            "Correct prefect_api_url (or PREFECT_API_URL): it ends in /api, e.g. http://127.0.0.1:4200/api.",
        )
    except httpx.HTTPError as exc:
        return failed(
            check,
            f"no Prefect server answers at {api} ({type(exc).__name__}): nothing runs on the schedule.",
            "Start it (sudo systemctl start coforms-prefect), or correct prefect_api_url; if this deployment "
            "does not use the schedule, run `coforms doctor --no-schedule`.",
        )
    return ok(check, f"{api} answers.")


def check_last_run(settings: Settings, schedule: bool = True, now: dt.datetime | None = None) -> Finding:
    import httpx

    check = "Last scheduled run"
    if not schedule:
        return skipped(check, _NOT_SCHEDULED)
    api = api_url(settings).rstrip("/")
    by_deployment = {"deployments": {"name": {"any_": [DEPLOYMENT_NAME]}}, "flows": {"name": {"any_": [FLOW_NAME]}}}
    try:
        deployments = _post(api + "/deployments/filter", {**by_deployment, "limit": 1})
        runs = _post(
            api + "/flow_runs/filter",
            {
                **by_deployment,
                "flow_runs": {"start_time": {"is_null_": False}},
                "sort": "START_TIME_DESC",
                "limit": 1,
            },
        )
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: an answer that is not JSON
        return skipped(check, f"not checked: the Prefect server at {api} did not answer ({type(exc).__name__}).")
    serve_fix = "Start the schedule: sudo systemctl start coforms-serve (its log: journalctl -u coforms-serve)."
    if not deployments:
        return warning(check, f"`coforms serve` has never registered its schedule with {api}.", serve_fix)
    zone = ZoneInfo(settings.timezone)
    now = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
    if not runs:
        created = deployments[0].get("created")
        since = _moment(created).astimezone(zone) if created else now
        missed = missed_turns(settings.schedule_cron, since, now)
        said = f"no scheduled run has started yet; the schedule was registered {_ago(now - since)} ago"
        if missed > MISSED_TURNS_ALLOWED:
            return warning(check, said + f" and should have run {missed} times since.", serve_fix)
        return ok(check, said + ": the first run is due soon.")
    last = runs[0]
    started = _moment(last["start_time"]).astimezone(zone)
    state = (last.get("state") or {}).get("type") or "UNKNOWN"
    said = (
        f"the last run ({last.get('name', '?')}) started {_ago(now - started)} ago "
        f"({started:%d/%m/%Y %H:%M}), state {state}"
    )
    missed = missed_turns(settings.schedule_cron, started, now)
    if missed > MISSED_TURNS_ALLOWED:
        return warning(
            check,
            f"{said}; the schedule ('{settings.schedule_cron}') should have run it {missed} times since.",
            "Check that `coforms serve` is running: sudo systemctl status coforms-serve; "
            "its log: journalctl -u coforms-serve.",
        )
    if state in _BAD_ENDINGS:
        return warning(
            check,
            f"{said}.",
            "Open that run's page in the Prefect UI to see why it ended so; the next run tries again.",
        )
    return ok(check, f"{said}.")


def missed_turns(cron: str, since: dt.datetime, now: dt.datetime, at_most: int = 100) -> int:
    """How many times the schedule fired after `since` and up to `now` (counted up to `at_most`)."""
    from cronsim import CronSim

    count = 0
    for moment in CronSim(cron, since):
        if moment > now or count >= at_most:
            break
        count += 1
    return count


def _post(url: str, body: dict) -> list[dict]:
    import httpx

    response = httpx.post(url, json=body, timeout=HTTP_SECONDS)
    response.raise_for_status()
    return response.json()


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ago(delta: dt.timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"
