"""The same sample inbox through `coforms run` (and an admin's accept) into the embedded DuckDB
warehouse and into a real PostgreSQL server: the same view contents and the same reports."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pipeline.store import database
from pipeline.store.warehouse import Warehouse
from tests.conftest import copy_samples

COFORMS = str(Path(sys.executable).with_name("coforms"))
# Columns that say when or in what order this copy ran, not what the forms said.
RUN_COLUMNS = (
    "submission_id",
    "loaded_at",
    "resolved_at",
    "acted_at",
    "audit_id",
    "superseded_by",
    "related_submission_id",
    "resolution",
)


def _coforms(workdir: Path, *args: str, warehouse_url: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COFORMS_")}
    env.update(COFORMS_INBOX=str(workdir / "inbox"), COFORMS_OUTPUTS=str(workdir / "outputs"), COFORMS_WORKERS="1")
    if warehouse_url:
        env["COFORMS_WAREHOUSE_URL"] = warehouse_url
    proc = subprocess.run([COFORMS, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _workbook_cells(path: Path) -> dict[str, list[list]]:
    """Every sheet's values; times of day left out (when this copy resolved something)."""
    book = openpyxl.load_workbook(path, read_only=True)
    out = {}
    for sheet in book.worksheets:
        out[sheet.title] = [
            [None if isinstance(v, dt.datetime) and sheet.title == "Resolved" else v for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    book.close()
    return out


def _sample_run(samples: Path, workdir: Path, warehouse_url: str | None) -> dict:
    shutil.copytree(samples, workdir / "inbox")  # times kept: a file's time is when it was received
    if warehouse_url:
        assert f"schema (new) -> {database.HEAD_REVISION}" in _coforms(workdir, "migrate", warehouse_url=warehouse_url)
    _coforms(workdir, "run", warehouse_url=warehouse_url)
    target = warehouse_url or workdir / "outputs" / "warehouse.duckdb"
    with Warehouse(target, read_only=True) as wh:
        held = wh.one("SELECT min(submission_id) FROM submissions WHERE status = 'held'")[0]
    _coforms(workdir, "accept", str(held), "--reason", "checked by phone", "--by", "admin", warehouse_url=warehouse_url)
    with Warehouse(target, read_only=True) as wh:
        views = wh.view_contents(leave_out=RUN_COLUMNS)
    return {
        "views": views,
        "exceptions.xlsx": _workbook_cells(workdir / "outputs" / "exceptions.xlsx"),
        "voucher_reconciliation.xlsx": _workbook_cells(workdir / "outputs" / "voucher_reconciliation.xlsx"),
    }


@pytest.fixture(scope="module")
def both_backends(tmp_path_factory, postgres_server) -> dict[str, dict]:
    from tests.postgres import new_database

    samples = tmp_path_factory.mktemp("samples")
    copy_samples(samples)
    return {
        "duckdb": _sample_run(samples, tmp_path_factory.mktemp("duckdb"), None),
        "postgresql": _sample_run(samples, tmp_path_factory.mktemp("postgresql"), new_database(postgres_server)),
    }


@pytest.mark.parametrize("output", ["views", "exceptions.xlsx", "voucher_reconciliation.xlsx"])
def test_postgresql_gives_what_duckdb_gives(both_backends, output):
    duckdb, postgresql = both_backends["duckdb"][output], both_backends["postgresql"][output]
    assert duckdb.keys() == postgresql.keys()
    for name in duckdb:
        assert postgresql[name] == duckdb[name], name


def test_the_compared_run_has_every_kind_of_row(both_backends):
    views = both_backends["postgresql"]["views"]
    assert {"planning", "evaluation", "monitoring", "voucher"} <= {row[0] for row in views["submissions"]}
    assert {"loaded", "held", "rejected"} <= {row[7] for row in views["submissions"]}
    assert [row[1] for row in views["audit"]] == ["accept"]  # the admin's action made it in
    assert views["voucher_lines"] and views["exceptions"]
