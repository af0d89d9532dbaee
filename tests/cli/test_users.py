"""`coforms users add/list/disable`: the review desk's local accounts from the terminal. The password
is asked twice without being shown (or read from standard input by a script), and never printed."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.settings import Settings
from pipeline.web.app import accounts_for
from pipeline.web.roles import Role
from tests.conftest import coforms_env

COFORMS = str(Path(sys.executable).with_name("coforms"))
SECRET = "a long passphrase 4 the desk"
runner = CliRunner()


def _accounts(outputs: Path):
    return accounts_for(Settings(outputs=outputs, inbox=outputs.parent / "inbox"))


def _everything_written(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


def test_a_script_adds_a_user_with_the_password_on_standard_input(workdir):
    outputs = workdir / "outputs"
    result = runner.invoke(
        app, ["users", "add", "ada", "--role", "admin", "--password-stdin", "--outputs", str(outputs)], input=SECRET
    )
    assert result.exit_code == 0, result.output
    assert "Added ada (admin)." in result.output and SECRET not in result.output
    assert _accounts(outputs).check_password("ada", SECRET).role == Role.ADMIN
    assert SECRET.encode() not in _everything_written(outputs)


def test_the_password_is_asked_twice_and_never_shown_on_the_terminal(workdir):
    outputs = workdir / "outputs"
    env = coforms_env(workdir / "inbox", outputs)
    # a real terminal (the command's controlling one): what it echoes is what the admin would see
    pid, leader = pty.fork()
    if pid == 0:
        os.execve(COFORMS, [COFORMS, "users", "add", "bo", "--role", "finance"], env)
    seen = b""
    for answer in (SECRET, SECRET):
        # click prints "Password:" and getpass then turns the echo off and writes the space after it:
        # answering before that space would be typing ahead, which the terminal echoes and getpass's
        # flush throws away (the command would then wait for ever)
        seen += _read_until(leader, b": ", strip=False)
        os.write(leader, answer.encode() + b"\n")
    seen += _read_until(leader, b"finance).")
    status = _wait_for(pid)
    os.close(leader)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    text = seen.decode(errors="replace")
    assert text.count("Password") == 1 and "confirm" in text.lower()
    assert SECRET not in text
    assert _accounts(outputs).check_password("bo", SECRET).role == Role.FINANCE


def _wait_for(pid: int, timeout: float = 60) -> int:
    """The child's wait status; a child still running after `timeout` is killed (a test never hangs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def _read_until(fd: int, end: bytes, timeout: float = 60, strip: bool = True) -> bytes:
    got, deadline = b"", time.monotonic() + timeout
    while not (got.rstrip() if strip else got).endswith(end) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the command ended
                break
            if not chunk:
                break
            got += chunk
    return got


def test_two_passwords_that_differ_add_no_one(workdir):
    outputs = workdir / "outputs"
    result = runner.invoke(
        app, ["users", "add", "cy", "--role", "viewer", "--outputs", str(outputs)], input=f"{SECRET}\n{SECRET}x\n"
    )
    assert result.exit_code != 0
    assert "do not match" in result.output and SECRET not in result.output
    assert _accounts(outputs).users() == []


def test_a_short_password_or_an_unknown_role_is_refused_in_plain_words(workdir):
    outputs = workdir / "outputs"
    args = ["users", "add", "di", "--password-stdin", "--outputs", str(outputs)]
    short = runner.invoke(app, [*args, "--role", "admin"], input="too short")
    assert short.exit_code == 1 and "at least 12 characters" in short.output and "too short" not in short.output
    role = runner.invoke(app, [*args, "--role", "root"], input=SECRET)
    assert role.exit_code == 1 and "admin, finance or viewer" in role.output
    assert _accounts(outputs).users() == []


def test_list_shows_each_account_its_role_and_how_it_signs_in(workdir):
    outputs = workdir / "outputs"
    outputs.mkdir()
    empty = runner.invoke(app, ["users", "list", "--outputs", str(outputs)])
    assert "no accounts yet" in empty.output
    accounts = _accounts(outputs)
    accounts.add_user("ada", Role.ADMIN, SECRET)
    accounts.single_sign_on_user("eve@camden.gov.uk", Role.VIEWER)
    accounts.disable("eve@camden.gov.uk")
    result = runner.invoke(app, ["users", "list", "--outputs", str(outputs)])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "ada\tadmin\tpassword",
        "eve@camden.gov.uk\tviewer\tsingle sign-on\t(disabled)",
    ]


def test_disable_stops_sign_in_and_ends_the_sessions_at_once(workdir):
    outputs = workdir / "outputs"
    accounts = _accounts(outputs)
    token = accounts.start_session(accounts.add_user("ada", Role.ADMIN, SECRET))
    result = runner.invoke(app, ["users", "disable", "ada", "--outputs", str(outputs)])
    assert result.exit_code == 0 and "ada can no longer sign in." in result.output
    assert accounts.session(token) is None and accounts.check_password("ada", SECRET) is None
    unknown = runner.invoke(app, ["users", "disable", "nobody", "--outputs", str(outputs)])
    assert unknown.exit_code == 1 and "no user called nobody" in unknown.output
