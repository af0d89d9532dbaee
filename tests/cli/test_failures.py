"""Every expected failure is one plain sentence and an exit code (1 failed, 2 busy); a traceback
only with --debug. Folders: a missing inbox is an error, and only the commands that make the
outputs folder (run, migrate, fetch) ever create one."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import coforms_env
from tests.fixtures.voucher_sheets import voucher_sheet

COFORMS = str(Path(sys.executable).with_name("coforms"))
runner = CliRunner()
LINES = [("Grace Adeyemi", dt.date(2025, 5, 6), "Workshop 1", Decimal("20.00"))]


def _said(result) -> str:
    return " ".join(result.output.split())


def _one_sentence_no_traceback(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text
    assert 0 < len(text.strip().splitlines()) <= 3  # one sentence, wrapped at most twice by the terminal


def test_a_missing_inbox_is_an_error_in_one_sentence_and_leaves_no_outputs_folder(workdir):
    result = runner.invoke(app, ["run", "--inbox", str(workdir / "no" / "such" / "folder")])
    assert result.exit_code == 1
    assert "does not exist" in _said(result) and "no/such/folder" in _said(result)
    _one_sentence_no_traceback(result.output)
    assert not (workdir / "outputs").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["accept", "1", "--reason", "fine"],
        ["reject", "1", "--reason", "not ours"],
        ["supersede", "1", "2"],
        ["exceptions"],
        ["report"],
        ["check"],
    ],
    ids=lambda args: args[0],
)
def test_a_command_run_where_nothing_has_run_says_so_and_creates_no_outputs_folder(workdir, args):
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "There is no outputs folder" in _said(result) and "--outputs" in _said(result)
    _one_sentence_no_traceback(result.output)
    assert not (workdir / "outputs").exists()


def test_every_command_that_uses_the_outputs_folder_takes_outputs(workdir):
    elsewhere = workdir / "council share" / "coforms"
    (workdir / "inbox" / "Vouchers.xlsx").write_bytes(voucher_sheet(LINES))
    assert runner.invoke(app, ["run", "--outputs", str(elsewhere)]).exit_code == 0
    for args in (["accept", "1", "--reason", "checked"], ["exceptions"], ["report"], ["check"], ["migrate"]):
        result = runner.invoke(app, [*args, "--outputs", str(elsewhere)])
        assert result.exit_code == 0, (args, result.output)
    assert not (workdir / "outputs").exists()
    assert "accept" in {row[0] for row in _audit(elsewhere)}


def _audit(outputs: Path) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(outputs / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("SELECT action FROM audit").fetchall()
    finally:
        con.close()


def test_an_invalid_setting_is_named_in_plain_words(workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_WORKERS", "none")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 1
    assert "A setting is not valid (workers:" in _said(result)
    _one_sentence_no_traceback(result.output)


def test_serve_without_a_prefect_server_says_how_to_start_one(workdir, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port}/api")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1
    assert "No Prefect server answers" in _said(result) and "prefect-server" in _said(result)
    _one_sentence_no_traceback(result.output)


def test_debug_shows_the_traceback(workdir):
    result = subprocess.run(
        [COFORMS, "--debug", "run", "--inbox", str(workdir / "missing")],
        cwd=workdir,
        env=coforms_env(workdir / "missing", workdir / "outputs"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "InboxMissing" in result.stderr
    assert "does not exist" in result.stderr


# -- real read-only and full disks, made in a private mount namespace (as root, where allowed)


def _namespace_mounts_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(not _namespace_mounts_work(), reason="no private mount namespace here (unshare -m)")


def _coforms_in_namespace(workdir: Path, mount: str) -> subprocess.CompletedProcess:
    script = f'{mount} && exec "$0" run'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, COFORMS],
        cwd=workdir,
        env=coforms_env(workdir / "inbox", workdir / "outputs"),
        capture_output=True,
        text=True,
        timeout=300,
    )


@needs_mounts
def test_a_read_only_outputs_folder_is_one_plain_sentence(workdir):
    (workdir / "outputs").mkdir()
    (workdir / "inbox" / "Vouchers.xlsx").write_bytes(voucher_sheet(LINES))
    outputs = workdir / "outputs"
    result = _coforms_in_namespace(workdir, f"mount --bind -o ro '{outputs}' '{outputs}'")
    assert result.returncode == 1, result.stderr
    said = " ".join(result.stderr.split())
    assert "read-only" in said and str(outputs) in said
    _one_sentence_no_traceback(result.stderr)
    assert (workdir / "inbox" / "Vouchers.xlsx").exists()  # nothing taken from the inbox


@needs_mounts
def test_a_full_disk_is_one_plain_sentence_and_loses_nothing(workdir):
    (workdir / "outputs").mkdir()
    (workdir / "inbox" / "Vouchers.xlsx").write_bytes(voucher_sheet(LINES))
    outputs = workdir / "outputs"
    # too small for the warehouse: the run stops before anything is recorded (the tmpfs goes with the
    # namespace, so a run that recorded the form there would look like a loss here)
    result = _coforms_in_namespace(workdir, f"mount -t tmpfs -o size=16k tmpfs '{outputs}'")
    assert result.returncode == 1, result.stderr
    said = " ".join(result.stderr.split())
    assert "is full: free some space" in said
    assert "Traceback" not in result.stderr
    assert (workdir / "inbox" / "Vouchers.xlsx").exists()


def test_fetch_never_makes_a_missing_inbox_so_an_unmounted_share_stays_an_error(workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_IMAP_HOST", "mail.invalid")
    monkeypatch.setenv("COFORMS_IMAP_USER", "coproduction")
    monkeypatch.setenv("COFORMS_IMAP_PASSWORD", "secret")
    share = workdir / "share" / "inbox"
    fetched = runner.invoke(app, ["fetch", "--inbox", str(share)])
    assert fetched.exit_code == 1 and "does not exist" in _said(fetched)
    assert not share.exists()
    assert runner.invoke(app, ["run", "--inbox", str(share)]).exit_code == 1  # still an error, never a quiet day


def test_check_on_a_missing_inbox_or_an_outputs_folder_with_no_warehouse_is_not_all_clear(workdir):
    (workdir / "outputs").mkdir()
    missing = runner.invoke(app, ["check", "--inbox", str(workdir / "gone")])
    assert missing.exit_code == 1 and "does not exist" in _said(missing)
    nothing = runner.invoke(app, ["check"])
    assert nothing.exit_code == 1 and "There is no warehouse" in _said(nothing)
    assert "up to date" not in _said(nothing)


def test_an_outputs_path_that_is_a_file_is_said_to_be_one(workdir):
    (workdir / "afile").write_text("not a folder")
    for args in (["run"], ["report"], ["check"]):
        result = runner.invoke(app, [*args, "--outputs", str(workdir / "afile")])
        assert result.exit_code == 1 and "is a file, not a folder" in _said(result), args


def test_an_admin_command_that_meets_a_run_says_to_try_again_not_that_a_run_will_do_it(workdir):
    from pipeline.settings import Settings
    from pipeline.store.lock import exclusive_run

    (workdir / "inbox" / "Vouchers.xlsx").write_bytes(voucher_sheet(LINES))
    assert runner.invoke(app, ["run"]).exit_code == 0
    with exclusive_run(Settings().outputs, 0):
        result = runner.invoke(app, ["reject", "1", "--reason", "x"], env={"COFORMS_LOCK_WAIT_SECONDS": "0"})
    assert result.exit_code == 2
    assert "run the command again when it has finished" in _said(result) and "next scheduled run" not in _said(result)


def test_an_exception_that_declares_itself_plain_is_said_as_it_is():
    from pipeline.cli.errors import exit_code, plain_message

    class BackupDamaged(Exception):
        plain_prefix = "Not restored: "

    assert plain_message(BackupDamaged("file x is damaged.")) == "Not restored: file x is damaged."
    assert exit_code(BackupDamaged("x")) == 1
    assert "does not expect" in plain_message(ValueError("x"))
