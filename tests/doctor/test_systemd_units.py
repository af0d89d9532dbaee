"""The systemd units in deploy/systemd: `systemd-analyze verify` finds nothing to say about them
(with their /opt/coforms paths pointed at this virtualenv, since verify wants the programs to
exist), each carries the hardening the README promises, and their exposure score stays low.

The hardening itself cannot be started here (no systemd as PID 1), so its effect on what a run
needs is reproduced by hand: an unprivileged account with no capabilities and no new privileges,
the system and the code read-only, a private /tmp, HOME in the state directory, umask 077. There,
LibreOffice still converts (in a network namespace of its own) and OCR still reads a scan."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GOLDEN, ROOT

UNITS = ROOT / "deploy" / "systemd"
SERVICES = ["coforms-prefect.service", "coforms-serve.service", "coforms-web.service"]
NAMES = [*SERVICES, "coforms-doctor.service", "coforms-retention.service"]
VENV_BIN = Path(sys.executable).parent
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
needs_systemd_analyze = pytest.mark.skipif(
    not Path(SYSTEMD_ANALYZE).exists(), reason="systemd-analyze is not installed"
)

# every unit: what the README promises about the services
HARDENING = {
    "User": "coforms",
    "Group": "coforms",
    "UMask": "0077",
    "StateDirectoryMode": "0700",
    "WorkingDirectory": "/var/lib/coforms",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/coforms",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "PrivateMounts": "yes",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "ProtectClock": "yes",
    "ProtectHostname": "yes",
    "ProtectProc": "invisible",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "RemoveIPC": "yes",
    "SystemCallArchitectures": "native",
    "SystemCallErrorNumber": "EPERM",
}


def _directives(name: str) -> dict[str, list[str]]:
    """Each key of the unit, with every value it is given (systemd allows a key more than once)."""
    found: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def _copies_for_here(folder: Path, change=lambda text: text) -> list[Path]:
    folder.mkdir(exist_ok=True)
    copies = []
    for name in [*NAMES, "coforms-doctor.timer", "coforms-retention.timer"]:
        text = (UNITS / name).read_text().replace("/opt/coforms/.venv/bin/", f"{VENV_BIN}/")
        (folder / name).write_text(change(text))
        copies.append(folder / name)
    return copies


def _verify(units: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *map(str, units)], capture_output=True, text=True, timeout=60
    )


@needs_systemd_analyze
def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path):
    result = _verify(_copies_for_here(tmp_path / "units"))
    assert result.returncode == 0 and result.stderr == "", result.stderr


@needs_systemd_analyze
def test_verify_would_catch_a_misspelt_option(tmp_path):
    result = _verify(_copies_for_here(tmp_path / "units", lambda t: t.replace("ProtectHome=yes", "ProtectHome=yess")))
    assert "Failed to parse protect home value" in result.stderr


@pytest.mark.parametrize("name", NAMES)
def test_each_unit_is_hardened(name):
    unit = _directives(name)
    assert {key: unit.get(key, [None])[-1] for key in HARDENING} == HARDENING
    assert unit["SystemCallFilter"][0] == "@system-service"
    assert "coforms" in unit["StateDirectory"][0].split()
    assert unit["Environment"].count("HOME=/var/lib/coforms") == 1  # LibreOffice's home: writable


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_restarts_on_failure_and_starts_at_boot(name):
    unit = _directives(name)
    assert unit["Restart"] == ["on-failure"] and unit["WantedBy"] == ["multi-user.target"]


def test_the_doctor_runs_as_the_services_do_and_every_morning():
    doctor, serve = _directives("coforms-doctor.service"), _directives("coforms-serve.service")
    assert doctor["Type"] == ["oneshot"] and doctor["ExecStart"] == ["/opt/coforms/.venv/bin/coforms doctor"]
    same = ("Environment", "EnvironmentFile", "User", "StateDirectory", "ReadWritePaths", "RestrictNamespaces")
    assert {k: doctor[k] for k in same} == {k: serve[k] for k in same}
    timer = _directives("coforms-doctor.timer")
    assert timer["OnCalendar"] == ["*-*-* 07:00:00"] and timer["WantedBy"] == ["timers.target"]


def test_retention_is_applied_as_the_services_run_once_a_month():
    retention, serve = _directives("coforms-retention.service"), _directives("coforms-serve.service")
    assert retention["Type"] == ["oneshot"]
    assert retention["ExecStart"] == ["/opt/coforms/.venv/bin/coforms retention --apply"]
    same = ("Environment", "EnvironmentFile", "User", "StateDirectory", "ReadWritePaths", "RestrictNamespaces")
    assert {k: retention[k] for k in same} == {k: serve[k] for k in same}
    timer = _directives("coforms-retention.timer")
    assert timer["OnCalendar"] == ["*-*-01 03:00:00"] and timer["WantedBy"] == ["timers.target"]


@pytest.mark.parametrize(
    "name", ["coforms-serve.service", "coforms-web.service", "coforms-doctor.service", "coforms-retention.service"]
)
def test_the_coforms_services_read_the_settings_file_and_the_secrets(name):
    unit = _directives(name)
    assert "COFORMS_CONFIG=/etc/coforms/coforms.toml" in unit["Environment"]
    assert unit["EnvironmentFile"] == ["-/etc/coforms/secrets.env"]
    # LibreOffice's conversions without network: unshare -rn --pid (pipeline.read.convert)
    assert unit["RestrictNamespaces"] == ["user net pid"]


def test_serve_starts_after_the_prefect_server_and_talks_to_it():
    serve, server = _directives("coforms-serve.service"), _directives("coforms-prefect.service")
    assert "coforms-prefect.service" in serve["After"][0].split()
    assert "coforms-prefect.service" in serve["Wants"][0].split()
    assert serve["ExecStart"] == ["/opt/coforms/.venv/bin/coforms serve"]
    port = re.search(r"--port (\d+)", server["ExecStart"][0]).group(1)
    assert f"PREFECT_API_URL=http://127.0.0.1:{port}/api" in serve["Environment"]
    assert server["RestrictNamespaces"] == ["yes"] and server["IPAddressDeny"] == ["any"]
    assert server["SystemCallFilter"] == ["@system-service", "~@privileged"]


@needs_systemd_analyze
@pytest.mark.parametrize("name", NAMES)
def test_exposure_score_is_low(tmp_path, name):
    unit = next(u for u in _copies_for_here(tmp_path / "units") if u.name == name)
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=yes", "--no-pager", str(unit)], capture_output=True, text=True
    )
    score = float(re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout + result.stderr).group(1))
    # 1.9 for serve, web and doctor, 1.2 for the Prefect server; 9.2 without the hardening
    assert score <= 2.5, result.stdout


# -- the hardening's effect, reproduced without systemd


def _mounts_work() -> bool:
    return (
        os.geteuid() == 0
        and shutil.which("unshare") is not None
        and shutil.which("setpriv") is not None
        and subprocess.run(["unshare", "-m", "true"]).returncode == 0
    )


def _as_the_service(state: Path, *command: str) -> subprocess.CompletedProcess:
    """`command` as a system account (nobody) the way the units run coforms: no capabilities, no new
    privileges, /usr, /etc and the code read-only, a private /tmp, HOME the state folder, umask 077.
    The state folder is seen at /mnt/state (/tmp, where the test's folders are, is replaced)."""
    python_home = Path(sys.base_prefix).resolve()
    # Python itself may live in root's home (pyenv) here; for the service it is under /opt or /usr
    under_root = python_home.is_relative_to("/root")
    script = [
        "set -e",
        "umask 022",  # the folders made for the mounts: this process's umask may be coforms' 077
        "mount -t tmpfs -o mode=755 tmpfs /mnt",
        "mkdir /mnt/state /mnt/python",
        f"mount --bind '{state}' /mnt/state",
    ]
    if under_root:
        script += [
            f"mount --bind -o ro '{python_home}' /mnt/python",
            "mount -t tmpfs -o mode=755 tmpfs /root",  # ProtectHome: root's home hidden
            f"mkdir -p '{python_home}'",
            f"mount --bind /mnt/python '{python_home}'",
        ]
    # a checkout under /tmp (a CI clone) would vanish under the private /tmp: carry it across
    code_in_tmp = ROOT.resolve().is_relative_to("/tmp")
    if code_in_tmp:
        script += ["mkdir /mnt/code", f"mount --bind '{ROOT}' /mnt/code"]
    script += ["mount -t tmpfs -o mode=1777 tmpfs /tmp"]  # PrivateTmp
    if code_in_tmp:
        script += [f"mkdir -p '{ROOT}'", f"mount --bind /mnt/code '{ROOT}'"]
    script += [
        "mount --bind -o ro /usr /usr",  # ProtectSystem=strict
        "mount --bind -o ro /etc /etc",
        f"mount --bind -o ro '{ROOT}' '{ROOT}'",
        "umask 077",
        "exec setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --bounding-set=-all "
        "--inh-caps=-all env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/mnt/state "
        'COFORMS_INBOX=/mnt/state/inbox COFORMS_OUTPUTS=/mnt/state/outputs COFORMS_SETTLE_SECONDS=0 "$@"',
    ]
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", "\n".join(script), "sh", *command],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.skipif(not _mounts_work(), reason="needs root, unshare -m and setpriv")
def test_libreoffice_and_ocr_work_under_the_units_restrictions(tmp_path):
    state = tmp_path / "state"
    (state / "inbox").mkdir(parents=True)
    shutil.copy(GOLDEN / "planning" / "legacy_toolkit_layout.doc", state / "inbox" / "Plan (old Word).doc")
    shutil.copy(ROOT / "tests" / "golden_scans" / "voucher" / "clean_300dpi.png", state / "inbox" / "Vouchers.png")
    shutil.chown(state, 65534, 65534)
    for path in state.rglob("*"):
        shutil.chown(path, 65534, 65534)
    state.chmod(0o700)

    doctor = _as_the_service(state, str(VENV_BIN / "coforms"), "doctor", "--no-schedule", "--json")
    found = {f["check"]: f["status"] for f in json.loads(doctor.stdout or "[]")}
    assert found.get("LibreOffice") == found.get("OCR") == "ok", doctor.stdout + doctor.stderr
    # the conversion's own sandbox (a network namespace) can still be made by this account
    probe = _as_the_service(
        state, str(VENV_BIN / "python"), "-c", "from pipeline.read.convert import no_network_prefix as p; print(p())"
    )
    assert "-rn" in probe.stdout, probe.stdout + probe.stderr

    run = _as_the_service(state, str(VENV_BIN / "coforms"), "run")
    assert run.returncode == 0, run.stdout + run.stderr
    import duckdb

    con = duckdb.connect(str(state / "outputs" / "warehouse.duckdb"), read_only=True)
    read = dict(con.execute("SELECT source_file, status FROM submissions").fetchall())
    con.close()
    # converted by LibreOffice and read by OCR (not held as legacy_format or unreadable)
    assert read == {"Plan (old Word).doc": "loaded", "Vouchers.png": "loaded"}
    assert oct((state / "outputs").stat().st_mode & 0o777) == "0o700"
    assert (state / "outputs" / "warehouse.duckdb").stat().st_uid == 65534
