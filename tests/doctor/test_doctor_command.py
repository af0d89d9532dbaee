"""`coforms doctor` on the sample set-up: the samples run once, with a real mailbox (Dovecot), a
real SMTP server wanting a login, and a Prefect API whose last scheduled run is recent: every check
is ok and the exit code is 0. A broken deployment: the failed check says what to fix, exit code 1."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import coforms_env, copy_samples
from tests.doctor.servers import PrefectApi, smtp_server
from tests.fixtures import dovecot

COFORMS = str(Path(sys.executable).with_name("coforms"))
CHECKS = [
    "Settings",
    "Inbox",
    "Outputs",
    "Disk space",
    "Warehouse",
    "Mailbox",
    "SMTP",
    "LibreOffice",
    "OCR",
    "Prefect server",
    "Last scheduled run",
]


@pytest.fixture(scope="module")
def sample_deployment(tmp_path_factory):
    """The samples run once into outputs/; a settings file; every server the checks talk to."""
    root = tmp_path_factory.mktemp("deployment")
    inbox, outputs = root / "inbox", root / "outputs"
    copy_samples(inbox)
    ran = subprocess.run([COFORMS, "run"], cwd=root, env=coforms_env(inbox, outputs), capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    config = root / "coforms.toml"
    config.write_text('schedule_cron = "*/15 * * * *"\ntimezone = "Europe/London"\n')
    mailbox = dovecot.Dovecot() if dovecot.available() else None
    if mailbox:
        mailbox.start()
    try:
        with PrefectApi() as prefect, smtp_server() as smtp:
            now = dt.datetime.now(dt.UTC)
            prefect.registered(now - dt.timedelta(days=3))
            prefect.ran(now - dt.timedelta(minutes=5))
            env = coforms_env(inbox, outputs)
            env.update(smtp, COFORMS_CONFIG=str(config), PREFECT_API_URL=prefect.url)
            if mailbox:
                env.update(mailbox.settings_env())
            yield root, env
    finally:
        if mailbox:
            mailbox.remove()


def _doctor(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([COFORMS, "doctor", *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_the_sample_set_up_is_all_green(sample_deployment):
    root, env = sample_deployment
    result = _doctor(root, env, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    findings = json.loads(result.stdout)
    assert [f["check"] for f in findings] == CHECKS
    expected = {f["check"]: "ok" for f in findings}
    if not dovecot.available():
        expected["Mailbox"] = "skipped"
    assert {f["check"]: f["status"] for f in findings} == expected, findings
    said = {f["check"]: f["said"] for f in findings}
    assert f"read from {root / 'coforms.toml'}" in said["Settings"]
    assert "schema" in said["Warehouse"] and "logged in as replies@camden.gov.uk" in said["SMTP"]
    assert "5 minutes ago" in said["Last scheduled run"]


def test_each_check_is_one_line_and_a_failure_says_the_fix_and_exits_1(sample_deployment, tmp_path):
    root, env = sample_deployment
    broken = {**env, "COFORMS_INBOX": str(tmp_path / "no-such-inbox"), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    result = _doctor(root, broken)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    findings = [line for line in lines if not line.startswith(" ")][:-1]  # the last line counts them
    assert [line[9:].split(":")[0] for line in findings] == CHECKS
    assert f"failed   Inbox: {tmp_path / 'no-such-inbox'} does not exist." in lines
    assert any(line.strip().startswith("Fix: Create it (sudo install -d -m 700") for line in lines)
    assert any(
        line.startswith("failed   Prefect server: no Prefect server answers at http://127.0.0.1:9/api")
        for line in lines
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert "2 failed" in lines[-1]


def test_no_schedule_skips_the_prefect_checks(sample_deployment):
    root, env = sample_deployment
    result = _doctor(root, {**env, "PREFECT_API_URL": "http://127.0.0.1:9/api"}, "--no-schedule", "--json")
    assert result.returncode == 0, result.stdout
    status = {f["check"]: f["status"] for f in json.loads(result.stdout)}
    assert status["Prefect server"] == status["Last scheduled run"] == "skipped"


def test_the_flow_names_the_doctor_asks_prefect_about_are_the_flows():
    from flows import coforms_flow
    from pipeline.doctor import schedule

    assert schedule.DEPLOYMENT_NAME == coforms_flow.DEPLOYMENT_NAME
    assert coforms_flow.coforms_run_flow.name == schedule.FLOW_NAME


def test_a_settings_file_that_is_not_there_is_the_only_finding(sample_deployment, tmp_path):
    root, env = sample_deployment
    result = _doctor(root, {**env, "COFORMS_CONFIG": str(tmp_path / "nope.toml")})
    assert result.returncode == 1
    assert (
        result.stdout.splitlines()[0]
        == f"failed   Settings: COFORMS_CONFIG names {tmp_path / 'nope.toml'}, which is not a file."
    )
    assert "0 ok" in result.stdout.splitlines()[-1]
    assert os.environ.get("COFORMS_CONFIG") is None  # the test's own environment is untouched
