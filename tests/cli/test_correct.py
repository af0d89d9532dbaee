"""`coforms correct` and `coforms confirm`: what they print, what they keep, and their refusals."""

from __future__ import annotations

import shutil

import openpyxl
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import GOLDEN, query_warehouse

runner = CliRunner()
HELD = GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx"  # '£ten' in row 1


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """An outputs folder after `coforms run` on the held voucher sheet (copied for each test)."""
    root = tmp_path_factory.mktemp("run")
    (root / "inbox").mkdir()
    shutil.copy(HELD, root / "inbox" / HELD.name)
    env = {"COFORMS_INBOX": str(root / "inbox"), "COFORMS_OUTPUTS": str(root / "outputs")}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        result = runner.invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    return root / "outputs"


@pytest.fixture
def held_run(recorded, workdir, monkeypatch):
    shutil.copytree(recorded, workdir / "outputs")
    monkeypatch.setenv("COFORMS_INBOX", str(workdir / "inbox"))
    monkeypatch.setenv("COFORMS_OUTPUTS", str(workdir / "outputs"))
    return workdir


def _held_id(workdir) -> int:
    return query_warehouse(workdir, "SELECT submission_id FROM submissions WHERE status = 'held'")[0][0]


def test_correct_prints_the_change_keeps_it_and_rewrites_the_exceptions_report(held_run):
    sid = _held_id(held_run)
    args = ["correct", str(sid), "lines.1.amount", "10.00", "--reason", "Phoned Tom", "--by", "Admin A"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "voucher table, row 1, Voucher Amount Received: '£ten' -> '10.00'" in result.output
    assert "Problems that go: 1" in result.output and "coforms undo" in result.output
    assert query_warehouse(held_run, "SELECT field, before, after, actor, reason FROM value_corrections") == [
        ("lines.1.amount", "£ten", "10.00", "Admin A", "Phoned Tom")
    ]
    wb = openpyxl.load_workbook(held_run / "outputs" / "exceptions.xlsx")  # rewritten at once
    resolved = [(row[3], row[9]) for row in wb["Resolved"].iter_rows(min_row=4, values_only=True)]
    assert resolved == [("corrected: Phoned Tom", "invalid_amount")]


def test_correct_with_dry_run_changes_nothing(held_run):
    sid = _held_id(held_run)
    result = runner.invoke(app, ["correct", str(sid), "lines.1.amount", "10.00", "--reason", "x", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Dry run: nothing was changed.")
    assert "without --dry-run" in result.output
    assert query_warehouse(held_run, "SELECT count(*) FROM value_corrections") == [(0,)]


def test_a_field_that_does_not_exist_is_refused_in_one_plain_sentence(held_run):
    result = runner.invoke(app, ["correct", str(_held_id(held_run)), "lines.12.amount", "1", "--reason", "x"])
    assert result.exit_code == 1
    assert "Not done: The voucher form has no value 'lines.12.amount'" in result.output
    assert "Traceback" not in result.output


def test_confirm_of_a_typed_value_is_refused(held_run):
    result = runner.invoke(app, ["confirm", str(_held_id(held_run)), "lines.2.amount", "--reason", "I looked"])
    assert result.exit_code == 1
    assert "not read from a scan" in result.output


def test_coforms_undo_takes_a_correction_back_and_the_value_is_as_the_sender_wrote_it(held_run):
    sid = _held_id(held_run)
    done = runner.invoke(app, ["correct", str(sid), "lines.1.amount", "10.00", "--reason", "Phoned Tom"])
    assert done.exit_code == 0, done.output
    (action,) = query_warehouse(held_run, "SELECT max(audit_id) FROM audit")[0]
    undone = runner.invoke(app, ["undo", str(action), "--reason", "wrong line"])
    assert undone.exit_code == 0, undone.output
    assert query_warehouse(held_run, f"SELECT status FROM submissions WHERE submission_id = {sid}") == [("held",)]
    codes = query_warehouse(held_run, f"SELECT code FROM exceptions WHERE submission_id = {sid} AND state = 'open'")
    assert ("invalid_amount",) in codes  # '£ten' again, as the sender wrote it
