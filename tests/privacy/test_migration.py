"""Migration 0007 on both backends: an action over many submissions (no submission of its own) is
recorded and can never be undone; the submissions view says when an original was deleted; the
revision goes down to 0006 and up again."""

from __future__ import annotations

import datetime as dt

from alembic import command

from pipeline.store import database
from pipeline.store.warehouse import Warehouse

NOW = dt.datetime(2026, 11, 29, 10, 0)


def test_0007_records_deleted_originals_and_unundoable_actions_and_goes_down_and_up(warehouse_target):
    with Warehouse(warehouse_target) as wh, wh.transaction():
        wh.execute(
            "INSERT INTO store.submissions (submission_id, source_file, sha256, status, loaded_at) "
            "VALUES (1, 'a.docx', 'aa', 'loaded', :now)",
            now=NOW,
        )
        wh.execute("INSERT INTO store.deleted_originals VALUES ('aa', :now, 'retention')", now=NOW)
        wh.execute(
            "INSERT INTO store.audit (audit_id, acted_at, actor, action, submission_id, reason) "
            "VALUES (1, :now, 'admin', 'erase', NULL, 'asked (erasure: 3 values)')",
            now=NOW,
        )
    with Warehouse(warehouse_target) as wh:
        assert wh.rows("SELECT original_deleted_at, names_pseudonymised_at FROM submissions") == [(NOW, None)]
        assert wh.rows("SELECT action, submission_id, can_undo FROM audit") == [("erase", None, False)]
        command.downgrade(database._alembic_config(wh.conn), "0006")
        wh.conn.commit()
        assert wh.rows("SELECT count(*) FROM store.audit") == [(0,)]  # it had no submission: gone with 0007
        columns = {
            r[0] for r in wh.rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'submissions'")
        }
        assert "original_deleted_at" not in columns and "names_pseudonymised_at" not in columns
        assert database.migrate(wh.conn) == ("0006", database.HEAD_REVISION)
        assert wh.rows("SELECT original_deleted_at FROM submissions") == [(None,)]
