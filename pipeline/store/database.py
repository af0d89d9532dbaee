"""Where the warehouse lives, and its schema version.

The embedded DuckDB file (`outputs/warehouse.duckdb`) is the default; setting `warehouse_url`
to a `postgresql://` URL puts the same tables and views in a PostgreSQL server instead. Both are
reached through SQLAlchemy (duckdb_engine, psycopg), so the pipeline has one code path and
writes SQL both engines understand.

The schema is versioned with Alembic (`pipeline/store/migrations/`). An embedded warehouse is brought
up to date when it is opened (it is private to this pipeline); a server database only by
`coforms migrate`, so that whoever runs the server decides when its schema changes.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD_REVISION = "0007"  # the newest file in migrations/versions (a test checks they agree)
VERSION_TABLE_SCHEMA = "store"  # beside the tables, so the public schema holds the documented views only


class WarehouseBusy(Exception):
    """Another process holds the embedded warehouse open for writing (a run)."""


class UnsupportedWarehouse(ValueError):
    """A warehouse_url for a database other than DuckDB or PostgreSQL."""


class WarehouseNotMigrated(Exception):
    """A server warehouse whose schema is older (or newer) than this version of the pipeline."""


def warehouse_url(target: Path | str) -> str:
    """A SQLAlchemy URL for a DuckDB file path or an URL given as it is."""
    if isinstance(target, Path) or "://" not in str(target):
        return f"duckdb:///{Path(target).absolute()}"
    url = str(target)
    if url.startswith(("postgresql://", "postgres://")):  # the plain form people copy: use psycopg 3
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if sa.engine.make_url(url).get_backend_name() not in ("duckdb", "postgresql"):
        raise UnsupportedWarehouse(
            f"The warehouse must be a DuckDB file or a PostgreSQL database; "
            f"{sa.engine.make_url(url).render_as_string(hide_password=True)} is neither."
        )
    return url


def embedded_path(url: str) -> Path | None:
    """The file of an embedded (DuckDB) warehouse, None for a server."""
    parsed = sa.engine.make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "duckdb" and parsed.database else None


def make_engine(url: str, read_only: bool = False) -> Engine:
    # NullPool: one connection per Warehouse, really closed when it is (a DuckDB file stays
    # locked while any connection to it is open)
    connect_args = {"read_only": True} if read_only and embedded_path(url) else {}
    return sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)


def is_lock_error(exc: BaseException) -> bool:
    """DuckDB's 'Could not set lock on file': a run has the warehouse open. Or, within one process
    (the review desk), 'different configuration': the file is open read-only for a page while an
    action opens it to write, or the other way round; either way, someone else has it now."""
    original = getattr(exc, "orig", exc)
    kind, text = type(original).__name__, str(original).lower()
    if kind == "IOException" and "lock" in text:
        return True
    return kind == "ConnectionException" and "different configuration" in text


def exists(url: str) -> bool:
    """Has the warehouse been created (a file, or a database with our tables)?"""
    path = embedded_path(url)
    if path is not None:
        return path.exists()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return current_revision(conn) is not None
    finally:
        engine.dispose()


def current_revision(conn: Connection) -> str | None:
    has_table = conn.execute(
        sa.text(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = :schema AND table_name = 'alembic_version'"  # noqa: E501
        ),
        {"schema": VERSION_TABLE_SCHEMA},
    ).scalar()
    if not has_table:
        return None
    return conn.execute(sa.text(f"SELECT max(version_num) FROM {VERSION_TABLE_SCHEMA}.alembic_version")).scalar()


def _alembic_config(conn: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def migrate(conn: Connection, revision: str = "head") -> tuple[str | None, str | None]:
    """Create or upgrade the schema (each migration in its own transaction); the revision before
    and after."""
    from alembic import command

    before = current_revision(conn)
    if conn.in_transaction():
        conn.commit()
    command.upgrade(_alembic_config(conn), revision)
    if conn.in_transaction():
        conn.commit()
    return before, current_revision(conn)


def head_of_scripts() -> str:
    """The newest revision among the migration files (slower than HEAD_REVISION: reads them)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()
