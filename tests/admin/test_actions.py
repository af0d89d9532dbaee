"""The admin's decisions: accept, reject, supersede, each audited; `coforms exceptions`."""

from __future__ import annotations

import itertools

import openpyxl
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import GOLDEN, query_warehouse
from tests.fixtures import emails

runner = CliRunner()
HELD = (GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx").read_bytes()
GOOD = (GOLDEN / "voucher" / "table_total_row.docx").read_bytes()


@pytest.fixture
def held_run(workdir, monkeypatch):
    """A run in which one voucher sheet was held (an amount of '£ten')."""
    monkeypatch.setenv("COFORMS_INBOX", str(workdir / "inbox"))
    monkeypatch.setenv("COFORMS_OUTPUTS", str(workdir / "outputs"))
    (workdir / "inbox").mkdir(exist_ok=True)
    for name, data, sender in (
        ("1.eml", HELD, "Tom Okafor <tom.okafor@camden.gov.uk>"),
        ("2.eml", GOOD, "Amira Hassan <amira.hassan@camden.gov.uk>"),
    ):
        msg = emails.attach(emails.message(sender=sender), data, f"Vouchers from {name}.docx")
        (workdir / "inbox" / name).write_bytes(msg.as_bytes())
    assert runner.invoke(app, ["run"]).exit_code == 0
    return workdir


def _held_id(workdir) -> int:
    return query_warehouse(workdir, "SELECT submission_id FROM submissions WHERE status = 'held'")[0][0]


def test_accepting_a_held_form_loads_it_with_failed_values_left_empty_and_audits_it(held_run):
    sid = _held_id(held_run)
    result = runner.invoke(app, ["accept", str(sid), "--reason", "Checked with Tom: £10 paid", "--by", "Admin A"])
    assert result.exit_code == 0, result.output
    assert query_warehouse(held_run, f"SELECT status FROM submissions WHERE submission_id = {sid}") == [("loaded",)]
    assert query_warehouse(
        held_run, f"SELECT DISTINCT state, resolution FROM exceptions WHERE submission_id = {sid}"
    ) == [("resolved", "accepted: Checked with Tom: £10 paid")]
    amounts = [
        r[0]
        for r in query_warehouse(
            held_run, f"SELECT amount FROM voucher_lines WHERE submission_id = {sid} ORDER BY line_no"
        )
    ]
    assert None in amounts and len(amounts) > 1  # '£ten' stays null; the valid lines are now loaded
    assert query_warehouse(
        held_run, "SELECT actor, action, submission_id, old_status, new_status, reason FROM audit"
    ) == [("Admin A", "accept", sid, "held", "loaded", "Checked with Tom: £10 paid")]
    wb = openpyxl.load_workbook(held_run / "outputs" / "exceptions.xlsx")  # rewritten at once
    resolved = [row for row in wb["Resolved"].iter_rows(min_row=4, values_only=True)]
    assert {row[4] for row in resolved} == {sid}


def test_rejecting_closes_the_exceptions_and_keeps_the_form_out(held_run):
    sid = _held_id(held_run)
    result = runner.invoke(app, ["reject", str(sid), "--reason", "Workshop cancelled", "--by", "Admin A"])
    assert result.exit_code == 0, result.output
    assert query_warehouse(held_run, f"SELECT status FROM submissions WHERE submission_id = {sid}") == [("rejected",)]
    assert query_warehouse(held_run, "SELECT count(*) FROM exceptions WHERE state = 'open'") == [(0,)]
    assert query_warehouse(held_run, "SELECT action, reason FROM audit") == [("reject", "Workshop cancelled")]


def test_the_admin_links_a_correction_the_pipeline_could_not_see(held_run):
    sid = _held_id(held_run)
    other = query_warehouse(held_run, f"SELECT submission_id FROM submissions WHERE submission_id <> {sid}")[0][0]
    result = runner.invoke(app, ["supersede", str(sid), str(other), "--by", "Admin A"])
    assert result.exit_code == 0, result.output
    assert query_warehouse(held_run, f"SELECT status, superseded_by FROM submissions WHERE submission_id = {sid}") == [
        ("superseded", other)
    ]
    assert query_warehouse(held_run, "SELECT action, submission_id, related_submission_id, actor FROM audit") == [
        ("supersede", sid, other, "Admin A")
    ]


@pytest.mark.parametrize(
    "args,message",
    [
        (["accept", "999", "--reason", "x"], "There is no submission 999"),
        (["supersede", "{held}", "{held}"], "cannot replace itself"),
    ],
)
def test_impossible_actions_say_why_and_change_nothing(held_run, args, message):
    sid = _held_id(held_run)
    result = runner.invoke(app, [a.format(held=sid) for a in args])
    assert result.exit_code == 1 and message in result.output
    assert query_warehouse(held_run, "SELECT count(*) FROM audit") == [(0,)]


def test_a_rejected_form_cannot_then_be_accepted_until_the_reject_is_undone(held_run):
    sid = _held_id(held_run)
    runner.invoke(app, ["reject", str(sid), "--reason", "no"])
    result = runner.invoke(app, ["accept", str(sid), "--reason", "yes"])
    assert result.exit_code == 1 and "is rejected" in result.output
    assert "To take back that reject: coforms undo 1" in result.output.replace("\n", "")
    assert runner.invoke(app, ["undo", "1"]).exit_code == 0
    assert runner.invoke(app, ["accept", str(sid), "--reason", "yes"]).exit_code == 0


def test_exceptions_command_lists_open_ones_grouped_by_sender(held_run):
    result = runner.invoke(app, ["exceptions"])
    assert result.exit_code == 0
    assert "tom.okafor@camden.gov.uk" in result.output and "invalid_amount" in result.output
    runner.invoke(app, ["reject", str(_held_id(held_run)), "--reason", "no"])
    after = runner.invoke(app, ["exceptions"])
    assert "invalid_amount" not in after.output
    every = runner.invoke(app, ["exceptions", "--all"]).output
    assert "invalid_amount" in every
    # a closed exception names the action that closed it, which `coforms undo` takes back
    assert "resolved by action 1: rejected: no" in " ".join(every.split())


def test_exceptions_workbook_puts_each_senders_problems_together(held_run):
    wb = openpyxl.load_workbook(held_run / "outputs" / "exceptions.xlsx")
    assert wb.sheetnames[:2] == ["Open exceptions", "Senders to email"] and "Resolved" in wb.sheetnames
    senders = [row[0] for row in wb["Open exceptions"].iter_rows(min_row=4, values_only=True)]
    runs = [sender for sender, _ in itertools.groupby(senders)]
    assert senders and len(runs) == len(set(runs))  # each sender's rows are together
    by_sender = {row[0]: row for row in wb["Senders to email"].iter_rows(min_row=4, values_only=True)}
    assert by_sender["tom.okafor@camden.gov.uk"][2] >= 1  # errors to fix


def test_exceptions_command_while_a_run_holds_the_warehouse_says_so(held_run):
    import subprocess
    import sys

    holder = subprocess.Popen(  # another process with the warehouse open for writing, as a run has
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); sys.stdin.read()",
            str(held_run / "outputs" / "warehouse.duckdb"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        result = runner.invoke(app, ["exceptions"])
    finally:
        holder.communicate("", timeout=30)
    assert result.exit_code == 2 and "try again" in result.output


def _good_id(workdir) -> int:
    return query_warehouse(workdir, "SELECT submission_id FROM submissions WHERE status = 'loaded'")[0][0]


def _loaded_pounds(workdir):
    return query_warehouse(workdir, "SELECT coalesce(sum(amount), 0) FROM voucher_lines")[0][0]


def test_coforms_undo_takes_back_a_supersede_and_its_70_50(held_run):
    """The issue's `coforms supersede 11 12`: a loaded voucher form replaced by a held one."""
    loaded, held = _good_id(held_run), _held_id(held_run)
    done = runner.invoke(app, ["supersede", str(loaded), str(held), "--by", "Admin A"])
    assert done.exit_code == 0, done.output
    assert "Claimed on loaded voucher forms: £70.50 -> £0.00 (£70.50 out)" in done.output
    assert "Done (action 1). To undo: coforms undo 1" in done.output
    assert _loaded_pounds(held_run) == 0

    undone = runner.invoke(app, ["undo", "1", "--reason", "not a correction", "--by", "Admin A"])
    assert undone.exit_code == 0, undone.output
    assert "£0.00 -> £70.50 (£70.50 in)" in undone.output and "Done (action 2)" in undone.output
    said = " ".join(undone.output.split())
    assert "coforms undo 2" not in said  # an undo is not undone: it says how to do the action again
    assert f"to do action 1 again, run coforms supersede {loaded} {held}" in said
    assert str(_loaded_pounds(held_run)) == "70.50"
    assert query_warehouse(held_run, "SELECT action, undoes_audit_id, reason FROM audit WHERE audit_id = 2") == [
        ("undo", 1, "not a correction")
    ]
    again = runner.invoke(app, ["undo", "1"])
    assert again.exit_code == 1 and "Not done: Action 1 was undone already, by action 2." in again.output


@pytest.mark.parametrize(
    "args",
    [
        ["accept", "{held}", "--reason", "£10 paid"],
        ["reject", "{good}", "--reason", "cancelled"],
        ["supersede", "{good}", "{held}"],
    ],
)
def test_every_action_takes_dry_run_and_then_changes_nothing(held_run, args):
    ids = {"held": _held_id(held_run), "good": _good_id(held_run)}
    before = query_warehouse(held_run, "SELECT * FROM store.submissions ORDER BY submission_id")
    result = runner.invoke(app, [a.format(**ids) for a in args] + ["--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Dry run: nothing was changed.") and "Submission " in result.output
    assert query_warehouse(held_run, "SELECT * FROM store.submissions ORDER BY submission_id") == before
    assert query_warehouse(held_run, "SELECT count(*) FROM audit") == [(0,)]
