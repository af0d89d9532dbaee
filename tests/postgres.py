"""A throwaway PostgreSQL server for the tests and the benchmark: Debian's postgresql package
(installed by .ci/run), a new cluster in a temporary folder, listening on 127.0.0.1 only, gone
when the block ends."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa


class PostgresMissing(RuntimeError):
    pass


def _bin_dir() -> Path:
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if versions:
        return Path(versions[-1]).parent
    raise PostgresMissing("PostgreSQL is not installed: `apt-get install postgresql` (.ci/run does it).")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_postgres(durable: bool = False) -> Iterator[str]:
    """Start a server; yields the URL of its `postgres` database (superuser, no password).
    Not `durable` (tests): no fsync, faster and nothing worth keeping; the benchmark keeps fsync
    on, as a real server has it."""
    bin_dir = _bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="coforms-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: as the user the package created
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    try:
        subprocess.run(
            [
                *run_as,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-h 127.0.0.1 -p {port} -k {folder}" + ("" if durable else " -c fsync=off -c full_page_writes=off")
        subprocess.run(
            [
                *run_as,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "server.log"),
                "-w",
                "-o",
                options,
                "start",
            ],
            check=True,
            capture_output=True,
        )
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
            )
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"{exc.cmd[len(run_as)]} failed: {exc.stderr.decode(errors='replace')}") from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def new_database(server_url: str, template: str | None = None) -> str:
    """A new, empty database on the server (or a copy of the database `template`); its URL."""
    name = f"coforms_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(
        server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as conn:
            copy = f" TEMPLATE {template.rsplit('/', 1)[1]}" if template else ""
            conn.execute(sa.text(f"CREATE DATABASE {name}{copy}"))
    finally:
        engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name
