"""The folders: each fails when it is missing, a file, not writable (a read-only mount, made in a
private mount namespace) or, for the outputs, readable by others; the disk space check fails on a
nearly full disk (a tiny tmpfs) and warns on a small one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.doctor.folders import check_disk_space, check_inbox, check_outputs
from pipeline.doctor.runner import Status
from pipeline.settings import Settings
from tests.conftest import coforms_env

COFORMS = str(Path(sys.executable).with_name("coforms"))


def _settings(workdir: Path) -> Settings:
    return Settings(inbox=workdir / "inbox", outputs=workdir / "outputs")


def test_folders_that_are_there_private_and_writable_are_ok(workdir):
    (workdir / "outputs").mkdir(mode=0o700)
    settings = _settings(workdir)
    assert check_inbox(settings).status is Status.OK
    assert check_outputs(settings).status is Status.OK
    assert check_disk_space(settings).status is Status.OK  # the test machine has more than 5 GB free


def test_a_missing_inbox_fails_and_says_how_to_make_it(workdir):
    (workdir / "inbox").rmdir()
    finding = check_inbox(_settings(workdir))
    assert finding.status is Status.FAILED and finding.said == f"{workdir / 'inbox'} does not exist."
    assert "install -d -m 700" in finding.fix and "'inbox'" in finding.fix


def test_a_missing_outputs_folder_fails(workdir):
    finding = check_outputs(_settings(workdir))
    assert finding.status is Status.FAILED and "does not exist" in finding.said


def test_an_inbox_that_is_a_file_fails(workdir):
    (workdir / "inbox").rmdir()
    (workdir / "inbox").write_text("")
    finding = check_inbox(_settings(workdir))
    assert finding.status is Status.FAILED and "is a file, not a folder" in finding.said


def test_outputs_others_can_read_fail_with_the_chmod_to_run(workdir):
    (workdir / "outputs").mkdir()
    (workdir / "outputs").chmod(0o755)
    finding = check_outputs(_settings(workdir))
    assert finding.status is Status.FAILED and "mode 0755" in finding.said
    assert finding.fix == f"Make it private: chmod 700 {workdir / 'outputs'}"


# -- a read-only disk and a nearly full one, as root in a private mount namespace


def _mounts_work() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-m", "true"]).returncode == 0


needs_mounts = pytest.mark.skipif(not _mounts_work(), reason="no private mount namespace here (unshare -m)")


def _doctor_with(workdir: Path, mount: str) -> tuple[int, dict[str, dict]]:
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", f'{mount} && exec "$0" doctor --no-schedule --json', COFORMS],
        cwd=workdir,
        env=coforms_env(workdir / "inbox", workdir / "outputs"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, {f["check"]: f for f in json.loads(result.stdout)}


@needs_mounts
def test_an_outputs_folder_on_a_read_only_disk_fails(workdir):
    outputs = workdir / "outputs"
    outputs.mkdir(mode=0o700)
    code, found = _doctor_with(workdir, f"mount --bind -o ro '{outputs}' '{outputs}'")
    assert code == 1
    assert found["Outputs"]["status"] == "failed"
    assert found["Outputs"]["said"] == f"{outputs} is on a read-only disk or share."
    assert found["Inbox"]["status"] == "ok"


@needs_mounts
def test_a_nearly_full_disk_fails_and_a_small_one_warns(workdir):
    outputs = workdir / "outputs"
    outputs.mkdir(mode=0o700)
    code, found = _doctor_with(workdir, f"mount -t tmpfs -o size=16m,mode=700 tmpfs '{outputs}'")
    assert code == 1
    assert found["Disk space"]["status"] == "failed" and "less than 1 GB" in found["Disk space"]["said"]
    # a tmpfs takes memory only as it fills: a 2 GB one costs nothing here
    code, found = _doctor_with(workdir, f"mount -t tmpfs -o size=2g,mode=700 tmpfs '{outputs}'")
    assert found["Disk space"]["status"] == "warning" and "less than 5 GB" in found["Disk space"]["said"]
