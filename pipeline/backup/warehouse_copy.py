"""The warehouse's part of a backup: the DuckDB file copied whole, or a PostgreSQL database
dumped by pg_dump (custom format) and put back by pg_restore.

Both are taken holding the run lock, so no run or admin action writes meanwhile. The DuckDB file
is copied with its write-ahead log, if there is one, and the copy is then checkpointed on its
own, so that the backup holds one self-contained file with exactly the warehouse's contents.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import sqlalchemy as sa

from pipeline.backup.errors import BackupFailed, RestoreRefused
from pipeline.store import database

PG_DUMP_FILE = "warehouse.pgdump"


def client_missing(tool: str) -> str:
    return (
        f"the warehouse is a PostgreSQL database, and this needs PostgreSQL's {tool}, which is not installed "
        "here: install the PostgreSQL client (Debian or Ubuntu: `sudo apt-get install postgresql-client`, of the "
        "server's version or newer), then run the command again."
    )


def checkpointed_copy(warehouse_file: Path, folder: Path) -> tuple[Path, str | None]:
    """A copy of the embedded warehouse in `folder`, its log folded in; and its schema revision."""
    copy = folder / warehouse_file.name
    shutil.copyfile(warehouse_file, copy)
    wal = warehouse_file.with_name(warehouse_file.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    engine = database.make_engine(database.warehouse_url(copy))
    try:
        with engine.connect() as conn:
            revision = database.current_revision(conn)
            conn.commit()
            conn.exec_driver_sql("CHECKPOINT")
    finally:
        engine.dispose()
    return copy, revision


def server_revision(url: str) -> str | None:
    engine = database.make_engine(url)
    try:
        with engine.connect() as conn:
            return database.current_revision(conn)
    finally:
        engine.dispose()


def client_tool(name: str) -> str | None:
    """pg_dump or pg_restore: on the PATH, or the newest of Debian's PostgreSQL packages."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return versions[-1] if versions else None


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The server's URL as libpq takes it, and the environment that carries its password (never on
    the command line, where other users of the machine could read it)."""
    parsed = sa.engine.make_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def where(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _run(tool: str, args: list[str], env: dict[str, str], failed: str, error: type[Exception]) -> None:
    proc = subprocess.run([tool, *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise error(f"{failed}: {lines[0] if lines else f'{Path(tool).name} ended with code {proc.returncode}'}")


def dump_server(url: str, target: Path) -> None:
    """The whole warehouse database in pg_dump's custom format (one consistent snapshot)."""
    tool = client_tool("pg_dump")
    if tool is None:
        raise BackupFailed(client_missing("pg_dump"))
    plain, env = _libpq(url)
    _run(
        tool,
        ["--format=custom", "--no-owner", "--no-privileges", f"--file={target}", f"--dbname={plain}"],
        env,
        f"pg_dump could not copy the warehouse {where(url)}",
        BackupFailed,
    )
    target.chmod(0o600)


def require_empty_server(url: str) -> None:
    """A restore goes into a new, empty database, never over a warehouse."""
    engine = database.make_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.exec_driver_sql(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).scalar()
    except sa.exc.DBAPIError as exc:
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise RestoreRefused(f"the warehouse database {where(url)} could not be reached ({first}).") from exc
    finally:
        engine.dispose()
    if tables:
        raise RestoreRefused(
            f"the warehouse database {where(url)} is not empty ({tables} tables): restore into a new, empty "
            "database (createdb), with the setting warehouse_url naming it."
        )


def restore_server(url: str, dump: Path) -> None:
    tool = client_tool("pg_restore")
    if tool is None:
        raise RestoreRefused(client_missing("pg_restore"))
    plain, env = _libpq(url)
    _run(
        tool,
        ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", f"--dbname={plain}", str(dump)],
        env,
        f"pg_restore could not put the warehouse back into {where(url)} (nothing of it was kept)",
        RestoreRefused,
    )
