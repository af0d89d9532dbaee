"""The embedded warehouse's copy in a backup: one self-contained file, with what was still only in
DuckDB's write-ahead log (a process stopped before it checkpointed) folded in."""

from __future__ import annotations

import duckdb

from pipeline.backup.warehouse_copy import checkpointed_copy


def test_the_copy_of_a_warehouse_left_with_a_write_ahead_log_holds_its_rows_in_one_file(tmp_path):
    live = tmp_path / "live" / "warehouse.duckdb"
    live.parent.mkdir()
    con = duckdb.connect(str(live))
    con.execute("CREATE TABLE lines (amount DECIMAL(9, 2))")
    con.execute("CHECKPOINT")
    con.execute("PRAGMA disable_checkpoint_on_shutdown")  # as a process stopped mid-way leaves it
    con.execute("INSERT INTO lines VALUES (12.50), (7.25)")
    con.close()
    assert live.with_name("warehouse.duckdb.wal").exists()
    staging = tmp_path / "staging"
    staging.mkdir()

    copy, revision = checkpointed_copy(live, staging)

    assert revision is None  # not a coforms warehouse: no schema revision
    assert sorted(p.name for p in staging.iterdir()) == ["warehouse.duckdb"]
    con = duckdb.connect(str(copy), read_only=True)
    try:
        assert con.execute("SELECT sum(amount)::VARCHAR FROM lines").fetchone() == ("19.75",)
    finally:
        con.close()
    assert live.with_name("warehouse.duckdb.wal").exists()  # the live warehouse is left as it was
