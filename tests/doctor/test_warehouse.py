"""The warehouse check: ok at this pipeline's schema; an older schema fails on a PostgreSQL server
(runs refuse it until `coforms migrate`) and warns on the DuckDB file (the next run upgrades it);
a file that is no warehouse, or a server that refuses the login, fails; a run holding the file is
a warning to try again."""

from __future__ import annotations

import subprocess
import sys

from pipeline.doctor.runner import Status
from pipeline.doctor.warehouse import check_warehouse
from pipeline.settings import Settings
from pipeline.store import database
from tests.postgres import new_database

OLDER = f"{int(database.HEAD_REVISION) - 1:04d}"


def _migrate(url: str, revision: str = "head") -> None:
    engine = database.make_engine(url)
    with engine.connect() as conn:
        database.migrate(conn, revision)
    engine.dispose()


def _settings(workdir, **more) -> Settings:
    return Settings(inbox=workdir / "inbox", outputs=workdir / "outputs", **more)


def test_a_warehouse_at_this_schema_is_ok(workdir):
    settings = _settings(workdir)
    settings.outputs.mkdir()
    _migrate(database.warehouse_url(settings.warehouse))
    finding = check_warehouse(settings)
    assert finding.status is Status.OK and f"at schema {database.HEAD_REVISION}" in finding.said


def test_no_warehouse_yet_is_a_warning_to_run_once(workdir):
    finding = check_warehouse(_settings(workdir))
    assert finding.status is Status.WARNING and "no warehouse yet" in finding.said
    assert "coforms run" in finding.fix


def test_an_older_duckdb_warehouse_is_a_warning_the_next_run_mends(workdir):
    settings = _settings(workdir)
    settings.outputs.mkdir()
    _migrate(database.warehouse_url(settings.warehouse), OLDER)
    finding = check_warehouse(settings)
    assert finding.status is Status.WARNING
    assert f"is at schema {OLDER}; this coforms needs {database.HEAD_REVISION}" in finding.said


def test_an_older_postgresql_warehouse_fails_until_migrated(workdir, postgres_server):
    url = new_database(postgres_server)
    _migrate(database.warehouse_url(url), OLDER)
    settings = _settings(workdir, warehouse_url=url)
    finding = check_warehouse(settings)
    assert finding.status is Status.FAILED and "Run `coforms migrate`" in finding.fix
    _migrate(database.warehouse_url(url))
    assert check_warehouse(settings).status is Status.OK


def test_a_postgresql_server_that_refuses_the_login_fails(workdir, postgres_server):
    url = new_database(postgres_server)
    wrong = database.sa.engine.make_url(database.warehouse_url(url)).set(username="nobody_here", password="wrong")
    settings = _settings(workdir, warehouse_url=wrong.render_as_string(hide_password=False))
    finding = check_warehouse(settings)
    assert finding.status is Status.FAILED and "cannot be opened" in finding.said
    assert "wrong" not in finding.said  # the password is never shown


def test_a_file_that_is_no_warehouse_fails(workdir):
    settings = _settings(workdir)
    settings.outputs.mkdir()
    settings.warehouse_path.write_bytes(b"this is not a database" * 100)
    finding = check_warehouse(settings)
    assert finding.status is Status.FAILED and "cannot be opened" in finding.said


def test_a_run_holding_the_warehouse_is_a_warning_to_try_again(workdir):
    settings = _settings(workdir)
    settings.outputs.mkdir()
    _migrate(database.warehouse_url(settings.warehouse))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); sys.stdin.read()",
            str(settings.warehouse_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        finding = check_warehouse(settings)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert finding.status is Status.WARNING and "a run is using" in finding.said
