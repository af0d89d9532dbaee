"""Local accounts and sessions, in a small SQLite file of their own (OUTPUTS/web/accounts.sqlite):
not in the warehouse, which a run holds to itself while it loads.

Passwords are hashed with argon2id (argon2-cffi's defaults, rehashed when they change) and never
stored, logged or printed. A session is a random token in a cookie; only its SHA-256 is kept, so
the file does not give anyone a way in. Signing in always starts a new session (no fixation);
a session ends after `session_seconds` without use, and in any case LONGEST_SESSION_FACTOR times
that after it began, when its user is disabled, or when they sign out.

A user signs in either with a password (added by `coforms users add`) or with the council's
single sign-on (pipeline.web.oidc): such a user's row is made at their first sign-in, has no
password, and takes its role from the identity provider each time. `coforms users disable` stops
both kinds here, whatever the identity provider says.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipeline.files import private_dir
from pipeline.web.roles import Role

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT, disabled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, signs_in_with TEXT NOT NULL DEFAULT 'password'
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, csrf TEXT NOT NULL, created_at REAL NOT NULL,
    seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (attempt_key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (attempt_key, at);
CREATE TABLE IF NOT EXISTS sign_in_flows (
    browser_sha256 TEXT PRIMARY KEY, state TEXT NOT NULL, nonce TEXT NOT NULL, code_verifier TEXT NOT NULL,
    next TEXT, created_at REAL NOT NULL
);
"""
# a busy session still ends this many times web_session_hours after its sign-in
LONGEST_SESSION_FACTOR = 3
# a single sign-on that has not come back from the identity provider within this long is void
SIGN_IN_FLOW_SECONDS = 10 * 60
PASSWORD = "password"  # how a user signs in: users.signs_in_with
SINGLE_SIGN_ON = "single sign-on"
_hasher = PasswordHasher()
# verifying against this when the name is unknown takes as long as a real check: the time a
# failed sign-in takes does not tell whether the account exists
_NO_SUCH_USER = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(Exception):
    """A change to the accounts that cannot be made; the message says why in plain words."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role


@dataclass(frozen=True)
class Account:
    """A user as `coforms users list` shows them."""

    user: User
    signs_in_with: str  # PASSWORD or SINGLE_SIGN_ON
    disabled: bool


@dataclass(frozen=True)
class SignInFlow:
    """A single sign-on under way: what the identity provider's answer must match."""

    state: str
    nonce: str
    code_verifier: str
    next: str | None


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str  # the token every form post of this session must carry


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, path: Path, session_seconds: float = 8 * 3600, clock: Callable[[], float] = time.time):
        self.path = path
        self.session_seconds = session_seconds
        self.clock = clock  # the tests move it on to see sessions end
        private_dir(path.parent)
        with self._db() as db:
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(users)")}
            if "signs_in_with" not in columns:  # a file made before single sign-on
                db.execute(f"ALTER TABLE users ADD COLUMN signs_in_with TEXT NOT NULL DEFAULT '{PASSWORD}'")
        path.chmod(0o600)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # one connection per use: pages are served from several threads
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:
                yield db
        finally:
            db.close()

    # -- users

    def add_user(self, name: str, role: Role, password: str) -> User:
        name = name.strip()
        if not name or len(name) > 100:
            raise AccountError("A user name must have 1 to 100 characters.")
        if len(password) < 12:
            raise AccountError("A password must have at least 12 characters.")
        if len(password) > 1000:
            raise AccountError("A password must have at most 1000 characters.")
        with self._db() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccountError(f"There is already a user called {name}.")
            db.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, Role(role).value, _hasher.hash(password), self.clock()),
            )
        return User(name, Role(role))

    def users(self) -> list[Account]:
        """Every user, how they sign in and whether the account is disabled."""
        with self._db() as db:
            rows = db.execute("SELECT name, role, signs_in_with, disabled FROM users ORDER BY name").fetchall()
        return [Account(User(name, Role(role)), way, bool(disabled)) for name, role, way, disabled in rows]

    def single_sign_on_user(self, name: str, role: Role) -> User:
        """The user the identity provider vouched for, with the role it gave them this time (made at
        their first sign-in). Refused for a disabled account, and for a name a password account has:
        the identity provider's word does not open someone else's local account."""
        name = name.strip()
        if not name or len(name) > 100:
            raise AccountError("The council account has no name this service can use.")
        with self._db() as db:
            row = db.execute("SELECT signs_in_with, disabled FROM users WHERE name = ?", (name,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO users (name, role, created_at, signs_in_with) VALUES (?, ?, ?, ?)",
                    (name, Role(role).value, self.clock(), SINGLE_SIGN_ON),
                )
            elif row[0] != SINGLE_SIGN_ON:
                raise AccountError(f"The name {name} belongs to an account that signs in with a password here.")
            elif row[1]:
                raise AccountError(f"The account {name} is disabled on this service.")
            else:
                db.execute("UPDATE users SET role = ? WHERE name = ?", (Role(role).value, name))
        return User(name, Role(role))

    def disable(self, name: str) -> None:
        with self._db() as db:
            if not db.execute("UPDATE users SET disabled = 1 WHERE name = ?", (name,)).rowcount:
                raise AccountError(f"There is no user called {name}.")
            db.execute("DELETE FROM sessions WHERE name = ?", (name,))

    def check_password(self, name: str, password: str) -> User | None:
        """The user, when the password is theirs and the account is enabled."""
        with self._db() as db:
            row = db.execute(
                "SELECT role, password_hash, disabled FROM users WHERE name = ? AND signs_in_with = ?", (name, PASSWORD)
            ).fetchone()
        stored = row[1] if row and row[1] else _NO_SUCH_USER
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or row[2]:
            return None
        if _hasher.check_needs_rehash(stored):
            with self._db() as db:
                db.execute("UPDATE users SET password_hash = ? WHERE name = ?", (_hasher.hash(password), name))
        return User(name, Role(row[0]))

    # -- sessions

    @property
    def longest_session_seconds(self) -> float:
        return self.session_seconds * LONGEST_SESSION_FACTOR

    def start_session(self, user: User) -> str:
        """A new session for the user; returns the token for the cookie (kept only as its hash)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._db() as db:
            db.execute(
                "DELETE FROM sessions WHERE seen_at < ? OR created_at < ?",
                (now - self.session_seconds, now - self.longest_session_seconds),
            )
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (_sha256(token), user.name, secrets.token_urlsafe(32), now, now),
            )
        return token

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token (an expired one, or one of a disabled user, is none)."""
        if not token:
            return None
        now = self.clock()
        with self._db() as db:
            row = db.execute(
                "SELECT s.name, u.role, s.csrf, s.seen_at, s.created_at FROM sessions s JOIN users u USING (name) "
                "WHERE s.token_sha256 = ? AND u.disabled = 0",
                (_sha256(token),),
            ).fetchone()
            if row is None:
                return None
            if row[3] < now - self.session_seconds or row[4] < now - self.longest_session_seconds:
                db.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_sha256(token),))
                return None
            db.execute("UPDATE sessions SET seen_at = ? WHERE token_sha256 = ?", (now, _sha256(token)))
        return Session(User(row[0], Role(row[1])), row[2])

    def end_session(self, token: str | None) -> None:
        if token:
            with self._db() as db:
                db.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_sha256(token),))

    # -- sign-in attempts

    def failed_attempts(self, key: str, within_seconds: float) -> int:
        with self._db() as db:
            db.execute("DELETE FROM login_failures WHERE at < ?", (self.clock() - 24 * 3600,))
            (n,) = db.execute(
                "SELECT count(*) FROM login_failures WHERE attempt_key = ? AND at >= ?",
                (key, self.clock() - within_seconds),
            ).fetchone()
        return n

    def record_failure(self, key: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO login_failures VALUES (?, ?)", (key, self.clock()))

    def clear_failures(self, key: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM login_failures WHERE attempt_key = ?", (key,))

    # -- single sign-on under way (state, nonce and PKCE verifier kept here, not in the browser)

    def start_sign_in_flow(self, flow: SignInFlow) -> str:
        """Keeps the flow; returns the token for the browser's cookie that ties the answer to this browser."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._db() as db:
            db.execute("DELETE FROM sign_in_flows WHERE created_at < ?", (now - SIGN_IN_FLOW_SECONDS,))
            db.execute(
                "INSERT INTO sign_in_flows VALUES (?, ?, ?, ?, ?, ?)",
                (_sha256(token), flow.state, flow.nonce, flow.code_verifier, flow.next, now),
            )
        return token

    def take_sign_in_flow(self, token: str | None) -> SignInFlow | None:
        """The flow of this browser's cookie, once only (a replayed answer finds nothing)."""
        if not token:
            return None
        with self._db() as db:
            row = db.execute(
                "DELETE FROM sign_in_flows WHERE browser_sha256 = ? AND created_at >= ? "
                "RETURNING state, nonce, code_verifier, next",
                (_sha256(token), self.clock() - SIGN_IN_FLOW_SECONDS),
            ).fetchone()
        return SignInFlow(*row) if row else None
