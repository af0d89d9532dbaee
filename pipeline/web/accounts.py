"""Local accounts and sessions, in a small SQLite file of their own (OUTPUTS/web/accounts.sqlite):
not in the warehouse, which a run holds to itself while it loads.

Passwords are hashed with argon2id (argon2-cffi's defaults, rehashed when they change) and never
stored, logged or printed. A session is a random token in a cookie; only its SHA-256 is kept, so
the file does not give anyone a way in. Signing in always starts a new session (no fixation).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterator
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
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, csrf TEXT NOT NULL, created_at REAL NOT NULL,
    seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (attempt_key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (attempt_key, at);
"""
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
class Session:
    user: User
    csrf: str  # the token every form post of this session must carry


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, path: Path, session_seconds: float = 8 * 3600):
        self.path = path
        self.session_seconds = session_seconds
        private_dir(path.parent)
        with self._db() as db:
            db.executescript(_SCHEMA)
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
        with self._db() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccountError(f"There is already a user called {name}.")
            db.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, Role(role).value, _hasher.hash(password), time.time()),
            )
        return User(name, Role(role))

    def users(self) -> list[tuple[User, bool]]:
        """Every user, and whether the account is disabled."""
        with self._db() as db:
            rows = db.execute("SELECT name, role, disabled FROM users ORDER BY name").fetchall()
        return [(User(name, Role(role)), bool(disabled)) for name, role, disabled in rows]

    def disable(self, name: str) -> None:
        with self._db() as db:
            if not db.execute("UPDATE users SET disabled = 1 WHERE name = ?", (name,)).rowcount:
                raise AccountError(f"There is no user called {name}.")
            db.execute("DELETE FROM sessions WHERE name = ?", (name,))

    def check_password(self, name: str, password: str) -> User | None:
        """The user, when the password is theirs and the account is enabled."""
        with self._db() as db:
            row = db.execute("SELECT role, password_hash, disabled FROM users WHERE name = ?", (name,)).fetchone()
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

    def start_session(self, user: User) -> str:
        """A new session for the user; returns the token for the cookie (kept only as its hash)."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE seen_at < ?", (now - self.session_seconds,))
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (_sha256(token), user.name, secrets.token_urlsafe(32), now, now),
            )
        return token

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token (an expired one, or one of a disabled user, is none)."""
        if not token:
            return None
        now = time.time()
        with self._db() as db:
            row = db.execute(
                "SELECT s.name, u.role, s.csrf, s.seen_at FROM sessions s JOIN users u USING (name) "
                "WHERE s.token_sha256 = ? AND u.disabled = 0",
                (_sha256(token),),
            ).fetchone()
            if row is None or row[3] < now - self.session_seconds:
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
            db.execute("DELETE FROM login_failures WHERE at < ?", (time.time() - 24 * 3600,))
            (n,) = db.execute(
                "SELECT count(*) FROM login_failures WHERE attempt_key = ? AND at >= ?",
                (key, time.time() - within_seconds),
            ).fetchone()
        return n

    def record_failure(self, key: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO login_failures VALUES (?, ?)", (key, time.time()))
