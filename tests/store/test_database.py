"""pipeline.store.database: where the warehouse is, and its schema version (Alembic migrations)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.store import database
from pipeline.store.warehouse import Warehouse


def test_the_head_revision_in_code_is_the_newest_migration_file():
    assert database.head_of_scripts() == database.HEAD_REVISION


def test_a_file_path_is_the_embedded_warehouse_and_a_postgres_url_uses_psycopg(tmp_path):
    url = database.warehouse_url(tmp_path / "w.duckdb")
    assert database.embedded_path(url) == tmp_path / "w.duckdb"
    server = database.warehouse_url("postgres://coforms:secret@db.example/warehouse")
    assert server == "postgresql+psycopg://coforms:secret@db.example/warehouse"
    assert database.embedded_path(server) is None


def test_a_warehouse_url_for_another_database_is_refused_in_plain_words():
    with pytest.raises(
        database.UnsupportedWarehouse, match="DuckDB file or a PostgreSQL database; mysql://u:\\*\\*\\*@h/db"
    ):
        database.warehouse_url("mysql://u:secret@h/db")


def test_migrate_twice_changes_nothing_the_second_time(tmp_path):
    engine = database.make_engine(database.warehouse_url(tmp_path / "w.duckdb"))
    with engine.connect() as conn:
        assert database.migrate(conn) == (None, database.HEAD_REVISION)
        assert database.migrate(conn) == (database.HEAD_REVISION, database.HEAD_REVISION)
    engine.dispose()


def test_a_duckdb_warehouse_from_before_migrations_is_upgraded_and_keeps_its_rows(tmp_path):
    """Schema 2 (versioned in store.meta): no superseded_by/correction_key, problems without state."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("""
        CREATE SCHEMA store;
        CREATE SEQUENCE store.submission_ids START 1;
        CREATE TABLE store.meta (key VARCHAR PRIMARY KEY, value VARCHAR);
        INSERT INTO store.meta VALUES ('schema_version', '2');
        CREATE TABLE store.submissions (
            submission_id BIGINT PRIMARY KEY, form_type VARCHAR, source_file VARCHAR NOT NULL,
            container_file VARCHAR, sender VARCHAR, subject VARCHAR, received_at TIMESTAMP, message_id VARCHAR,
            sha256 VARCHAR NOT NULL, status VARCHAR NOT NULL, project_name VARCHAR, loaded_at TIMESTAMP NOT NULL,
            duplicate_of BIGINT, notes VARCHAR, intake_id BIGINT, part_no INTEGER);
        CREATE TABLE store.problems (
            submission_id BIGINT NOT NULL, problem_no INTEGER NOT NULL, severity VARCHAR NOT NULL,
            code VARCHAR NOT NULL, field VARCHAR, location VARCHAR, message VARCHAR NOT NULL, value VARCHAR,
            PRIMARY KEY (submission_id, problem_no));
        INSERT INTO store.submissions VALUES (1, 'voucher', 'v.docx', NULL, NULL, NULL, NULL, NULL, 'abc', 'held',
            NULL, TIMESTAMP '2026-01-05 10:00:00', NULL, NULL, NULL, NULL);
        INSERT INTO store.problems VALUES (1, 1, 'error', 'total_mismatch', 'total', 'table 1', 'Total wrong', '9');
    """)
    con.close()
    with Warehouse(path) as wh:
        assert database.current_revision(wh.conn) == database.HEAD_REVISION
        assert wh.rows("SELECT submission_id, code, state FROM exceptions") == [(1, "total_mismatch", "open")]
        assert wh.one("SELECT status, superseded_by FROM submissions") == ("held", None)
        assert not wh.one("SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'")[0]


def test_a_server_database_is_not_migrated_behind_its_owners_back(postgres_server, workdir, monkeypatch):
    from tests.postgres import new_database

    url = new_database(postgres_server)
    with pytest.raises(database.WarehouseNotMigrated, match="coforms migrate"):
        Warehouse(url)
    monkeypatch.setenv("COFORMS_WAREHOUSE_URL", url)
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 1 and "coforms migrate" in result.output
    result = CliRunner().invoke(app, ["migrate"])
    assert result.exit_code == 0 and f"(new) -> {database.HEAD_REVISION}" in result.output
    assert "postgres@" in result.output and "***" not in result.output  # no password in this URL to hide
    assert CliRunner().invoke(app, ["run"]).exit_code == 0
    assert Path("outputs/exceptions.xlsx").exists()


def test_migrate_never_prints_the_password(postgres_server, workdir, monkeypatch):
    from tests.postgres import new_database

    url = new_database(postgres_server).replace("postgres@", "postgres:hunter2@")  # trust auth ignores it
    monkeypatch.setenv("COFORMS_WAREHOUSE_URL", url)
    result = CliRunner().invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output and "***" in result.output


def _store_indexes(conn) -> set[str]:
    return {r[0] for r in conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE schemaname = 'store'")}


def test_a_server_warehouse_at_0001_gains_the_lookup_indexes_and_can_go_back(postgres_server):
    from alembic import command

    from tests.postgres import new_database

    lookup_indexes = {"submissions_sha256", "intake_item_sha256", "voucher_lines_claim_key"}
    engine = database.make_engine(database.warehouse_url(new_database(postgres_server)))
    with engine.connect() as conn:
        database.migrate(conn, "0001")
        assert not _store_indexes(conn) & lookup_indexes
        assert database.migrate(conn) == ("0001", database.HEAD_REVISION)
        assert lookup_indexes <= _store_indexes(conn)
        conn.commit()
        command.downgrade(database._alembic_config(conn), "0001")
        conn.commit()
        assert database.current_revision(conn) == "0001" and not _store_indexes(conn) & lookup_indexes
    engine.dispose()


def test_actions_taken_before_0005_can_be_undone_after_the_upgrade(warehouse_target, ctx):
    """0005 credits each resolved exception to the audited action whose words it carries."""
    import hashlib

    from alembic import command

    from pipeline.admin.actions import accept, reject, undo
    from pipeline.history.decide import decide_and_record
    from pipeline.records import Provenance
    from pipeline.runtime.parse import parse_file
    from tests.conftest import GOLDEN

    data = (GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx").read_bytes()
    with Warehouse(warehouse_target) as wh:
        held = decide_and_record(wh, Provenance("v.docx"), hashlib.sha256(data).hexdigest(), parse_file(data, ctx))
        accept(wh, held.submission_id, "£10 paid", "Admin A")
        reject(wh, held.submission_id, "cancelled", "Admin A")
        command.downgrade(database._alembic_config(wh.conn), "0004")
        wh.conn.commit()
        assert database.current_revision(wh.conn) == "0004"
        assert database.migrate(wh.conn) == ("0004", database.HEAD_REVISION)
        accepted, rejected = (r[0] for r in wh.rows("SELECT audit_id FROM audit ORDER BY audit_id"))
        assert {r[0] for r in wh.rows("SELECT resolved_by_audit_id FROM exceptions")} == {accepted}
        assert wh.rows("SELECT audit_id FROM audit WHERE can_undo") == [(rejected,)]
        undo(wh, rejected, "", "Admin A")
        undo(wh, accepted, "", "Admin A")
        assert wh.one("SELECT count(*) FROM exceptions WHERE state = 'resolved'")[0] == 0
