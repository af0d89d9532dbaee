"""Local accounts and sessions (pipeline.web.accounts): what the file keeps and what it never keeps,
and when a session ends (idle, too old, its user disabled, signed out)."""

from __future__ import annotations

import sqlite3

import pytest

from pipeline.web.accounts import (
    LONGEST_SESSION_FACTOR,
    PASSWORD,
    SIGN_IN_FLOW_SECONDS,
    AccountError,
    Accounts,
    SignInFlow,
)
from pipeline.web.roles import Role

SECRET = "correct horse battery staple"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(tmp_path, clock) -> Accounts:
    accounts = Accounts(tmp_path / "web" / "accounts.sqlite", session_seconds=3600, clock=clock)
    accounts.add_user("ada", Role.ADMIN, SECRET)
    return accounts


def test_the_file_keeps_neither_passwords_nor_session_tokens(accounts, tmp_path):
    token = accounts.start_session(accounts.check_password("ada", SECRET))
    raw = b"".join(path.read_bytes() for path in (tmp_path / "web").iterdir())
    assert SECRET.encode() not in raw and token.encode() not in raw
    assert b"$argon2id$" in raw
    assert (tmp_path / "web" / "accounts.sqlite").stat().st_mode & 0o077 == 0


def test_only_the_right_password_of_an_enabled_account_signs_in(accounts):
    assert accounts.check_password("ada", SECRET).role == Role.ADMIN
    assert accounts.check_password("ada", SECRET + "!") is None
    assert accounts.check_password("nobody", SECRET) is None
    accounts.disable("ada")
    assert accounts.check_password("ada", SECRET) is None


def test_a_password_too_short_or_a_name_taken_is_refused(accounts):
    with pytest.raises(AccountError, match="at least 12"):
        accounts.add_user("bo", Role.VIEWER, "short")
    with pytest.raises(AccountError, match="already a user"):
        accounts.add_user("ada", Role.VIEWER, SECRET)
    with pytest.raises(AccountError, match="1 to 100"):
        accounts.add_user("  ", Role.VIEWER, SECRET)


def test_every_sign_in_starts_a_new_session_with_its_own_csrf_token(accounts):
    user = accounts.check_password("ada", SECRET)
    first, second = accounts.start_session(user), accounts.start_session(user)
    assert first != second
    assert accounts.session(first).csrf != accounts.session(second).csrf


def test_a_session_ends_after_the_idle_time_but_not_while_used(accounts, clock):
    token = accounts.start_session(accounts.check_password("ada", SECRET))
    clock.now += 3000
    assert accounts.session(token) is not None  # used: the idle time starts again
    clock.now += 3000
    assert accounts.session(token) is not None
    clock.now += 3601
    assert accounts.session(token) is None
    clock.now -= 3601  # once ended, it stays ended
    assert accounts.session(token) is None


def test_a_busy_session_still_ends_at_its_longest(accounts, clock):
    token = accounts.start_session(accounts.check_password("ada", SECRET))
    end = clock.now + 3600 * LONGEST_SESSION_FACTOR
    while clock.now + 1800 < end:
        clock.now += 1800
        assert accounts.session(token) is not None
    clock.now = end + 1
    assert accounts.session(token) is None


def test_signing_out_and_disabling_end_sessions(accounts):
    user = accounts.check_password("ada", SECRET)
    kept, ended = accounts.start_session(user), accounts.start_session(user)
    accounts.end_session(ended)
    assert accounts.session(ended) is None and accounts.session(kept) is not None
    accounts.disable("ada")
    assert accounts.session(kept) is None


def test_a_role_changed_in_the_file_counts_at_the_next_request(accounts):
    token = accounts.start_session(accounts.check_password("ada", SECRET))
    with sqlite3.connect(accounts.path) as db:
        db.execute("UPDATE users SET role = 'viewer' WHERE name = 'ada'")
    assert accounts.session(token).user.role == Role.VIEWER


def test_failed_attempts_count_within_their_window_and_a_success_clears_them(accounts, clock):
    for _ in range(3):
        accounts.record_failure("name:ada")
    assert accounts.failed_attempts("name:ada", 900) == 3
    clock.now += 901
    assert accounts.failed_attempts("name:ada", 900) == 0
    accounts.record_failure("name:ada")
    accounts.clear_failures("name:ada")
    assert accounts.failed_attempts("name:ada", 900) == 0


def test_a_single_sign_on_flow_is_taken_once_and_not_after_its_time(accounts, clock):
    flow = SignInFlow("state", "nonce", "verifier", "/summary")
    browser = accounts.start_sign_in_flow(flow)
    assert accounts.take_sign_in_flow("another browser") is None
    assert accounts.take_sign_in_flow(browser) == flow
    assert accounts.take_sign_in_flow(browser) is None
    late = accounts.start_sign_in_flow(flow)
    clock.now += SIGN_IN_FLOW_SECONDS + 1
    assert accounts.take_sign_in_flow(late) is None


def test_a_single_sign_on_user_gets_no_password_and_cannot_take_a_password_account(accounts):
    user = accounts.single_sign_on_user("bo@camden.gov.uk", Role.FINANCE)
    assert user.role == Role.FINANCE
    assert accounts.check_password("bo@camden.gov.uk", "") is None
    with pytest.raises(AccountError, match="password"):
        accounts.single_sign_on_user("ada", Role.ADMIN)
    with pytest.raises(AccountError, match="already a user"):
        accounts.add_user("bo@camden.gov.uk", Role.ADMIN, SECRET)


def test_a_file_from_before_single_sign_on_is_brought_up_to_date(tmp_path):
    path = tmp_path / "accounts.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT, "
            "disabled INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL)"
        )
        db.execute("INSERT INTO users VALUES ('old', 'viewer', 'x', 0, 0)")
    (account,) = Accounts(path).users()
    assert account.user.name == "old" and account.signs_in_with == PASSWORD
