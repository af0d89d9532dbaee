from __future__ import annotations

import datetime as dt
import os
import tempfile

# Prefect reads its home at import: keep test runs out of ~/.prefect and off any real server.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="coforms-prefect-home-")
os.environ.pop("PREFECT_API_URL", None)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
# Tests write a file and run at once: the inbox's settling time (a file still being copied in is
# left for the next run) is tested on its own, in tests/intake/test_inbox.py, and is 0 everywhere else.
os.environ["COFORMS_SETTLE_SECONDS"] = "0"
from pathlib import Path

import pytest

from pipeline.settings import Settings
from pipeline.store.warehouse import PUBLIC_VIEWS
from pipeline.validate.form import Context

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
# Fixed, so that "not in the future" does not drift as the calendar moves on.
TODAY = dt.date(2026, 11, 22)
# The public views a run fills (pipeline.store.warehouse.PUBLIC_VIEWS), without the admin's audit
# trail, whose rows carry the moment of each action.
RUN_VIEWS = tuple(v for v in PUBLIC_VIEWS if v != "audit")


@pytest.fixture
def ctx() -> Context:
    return Context(today=TODAY)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp dir with an empty inbox/ and outputs/, and no coforms.toml or COFORMS_* leaking in."""
    for key in list(__import__("os").environ):
        if key.startswith("COFORMS_") and key != "COFORMS_SETTLE_SECONDS":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inbox").mkdir()
    return tmp_path


@pytest.fixture
def settings(workdir: Path) -> Settings:
    return Settings(inbox=workdir / "inbox", outputs=workdir / "outputs")


def copy_samples(dest: Path) -> list[Path]:
    """The bundled sample inbox, built from the golden files: inbox/ itself is emptied by `make run`."""
    from tests.fixtures.build_golden import build_samples

    return build_samples(dest)


def query_warehouse(workdir: Path, sql: str) -> list[tuple]:
    """Rows of a query on workdir/outputs/warehouse.duckdb (opened read-only, then closed)."""
    import duckdb

    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def resaved(data: bytes, tag: str) -> bytes:
    """The same Office document in other bytes (as when a file is saved again, or another
    resident's copy): the zip is rewritten with a comment."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.comment = tag.encode()
    return out.getvalue()


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL server for the whole session (tests/postgres.py)."""
    from tests.postgres import throwaway_postgres

    with throwaway_postgres() as url:
        yield url


@pytest.fixture
def postgres_database(postgres_server) -> str:
    """A new database on it, with the warehouse schema made by `coforms migrate`'s code."""
    from pipeline.store import database
    from tests.postgres import new_database

    url = database.warehouse_url(new_database(postgres_server))
    engine = database.make_engine(url)
    with engine.connect() as conn:
        database.migrate(conn)
    engine.dispose()
    return url


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse_target(request, tmp_path: Path):
    """Each backend in turn: a DuckDB file, then a PostgreSQL database."""
    if request.param == "duckdb":
        return tmp_path / "warehouse.duckdb"
    return request.getfixturevalue("postgres_database")


def coforms_env(inbox: Path, outputs: Path, **settings: object) -> dict[str, str]:
    """The environment for a `coforms` subprocess: this one's, without any COFORMS_* setting of its
    own, with the inbox and outputs given, no settling time (the files were just written) and
    `settings` (parse_seconds=30 -> COFORMS_PARSE_SECONDS=30)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COFORMS_")}
    env.update(COFORMS_INBOX=str(inbox), COFORMS_OUTPUTS=str(outputs), COFORMS_SETTLE_SECONDS="0")
    env.update({f"COFORMS_{name.upper()}": str(value) for name, value in settings.items()})
    return env
