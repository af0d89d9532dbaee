"""Every admin action is previewed (`dry_run`) and can be undone (issue 19, item 2), on each backend."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest

from pipeline.admin.actions import AdminError, accept, reject, supersede, undo
from pipeline.history.decide import decide_and_record
from pipeline.records import Provenance
from pipeline.runtime.parse import parse_file
from pipeline.store.warehouse import Warehouse
from tests.conftest import GOLDEN

TOM = "Tom Okafor <tom.okafor@camden.gov.uk>"
GOOD = GOLDEN / "voucher" / "table_total_row.docx"  # loaded, four lines, £70.50
HELD = GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx"  # held: an amount of '£ten'


@pytest.fixture
def wh(warehouse_target):
    with Warehouse(warehouse_target) as warehouse:
        yield warehouse


def _record(wh, path, ctx, name: str | None = None, sender: str | None = None, received=None) -> int:
    data = path.read_bytes()
    provenance = Provenance(name or path.name, sender=sender, received_at=received)
    return decide_and_record(wh, provenance, hashlib.sha256(data).hexdigest(), parse_file(data, ctx)).submission_id


def _audit_id(message: str) -> int:
    return int(message.split("Done (action ")[1].split(")")[0])


def _loaded_pounds(wh) -> Decimal:
    return wh.one("SELECT coalesce(sum(amount), 0) FROM voucher_lines")[0]


def _state(wh) -> dict:
    """Everything an action may touch, tables behind the views included."""
    return {
        **wh.view_contents(),
        "store.submissions": sorted(wh.rows("SELECT * FROM store.submissions ORDER BY submission_id"), key=repr),
        "store.problems": sorted(wh.rows("SELECT * FROM store.problems"), key=repr),
    }


@pytest.fixture
def loaded_and_held(wh, ctx):
    """Submission `loaded` (£70.50 claimed) and `held`, as in the issue's `coforms supersede 11 12`."""
    return _record(wh, GOOD, ctx), _record(wh, HELD, ctx)


def test_supersede_then_undo_restores_the_loaded_form_and_its_70_50(wh, loaded_and_held):
    loaded, held = loaded_and_held
    done = supersede(wh, loaded, held, "looked like a correction", "Admin A")
    assert "Claimed on loaded voucher forms: £70.50 -> £0.00 (£70.50 out)" in done
    assert _loaded_pounds(wh) == 0
    action = _audit_id(done)
    assert done.endswith(f"To undo: coforms undo {action}")

    undone = undo(wh, action, "it was not a correction", "Admin A")
    assert "Claimed on loaded voucher forms: £0.00 -> £70.50 (£70.50 in)" in undone
    assert wh.one("SELECT status, superseded_by FROM submissions WHERE submission_id = :id", id=loaded) == (
        "loaded",
        None,
    )
    assert _loaded_pounds(wh) == Decimal("70.50")
    assert wh.one("SELECT status FROM submissions WHERE submission_id = :id", id=held)[0] == "held"


@pytest.mark.parametrize("action", ["supersede", "accept", "reject", "undo"])
def test_a_dry_run_changes_nothing_and_says_what_would_change(wh, loaded_and_held, action):
    loaded, held = loaded_and_held
    if action == "undo":
        target = _audit_id(supersede(wh, loaded, held, "a correction", "Admin A"))
    before = _state(wh)
    preview = {
        "supersede": lambda: supersede(wh, loaded, held, "a correction", "Admin A", dry_run=True),
        "accept": lambda: accept(wh, held, "£10 paid", "Admin A", dry_run=True),
        "reject": lambda: reject(wh, loaded, "cancelled", "Admin A", dry_run=True),
        "undo": lambda: undo(wh, target, "", "Admin A", dry_run=True),
    }[action]()
    assert _state(wh) == before
    assert preview.startswith("Dry run: nothing was changed.")
    expected = {
        "supersede": f"Submission {loaded}: loaded -> superseded (replaced by {held})",
        "accept": f"Submission {held}: held -> loaded",
        "reject": "Claimed on loaded voucher forms: £70.50 -> £0.00 (£70.50 out)",
        "undo": "Claimed on loaded voucher forms: £0.00 -> £70.50 (£70.50 in)",
    }[action]
    assert expected in preview


def test_the_preview_counts_what_the_reconciliation_would_count(wh, loaded_and_held):
    loaded, held = loaded_and_held
    preview = reject(wh, loaded, "cancelled", "Admin A", dry_run=True)
    assert "Lines the reconciliation counts: 4 (£70.50) -> 0 (£0.00)" in preview
    accepted = accept(wh, held, "£10 paid", "Admin A", dry_run=True)
    assert "On held voucher forms:" in accepted and "Exceptions resolved:" in accepted
    # each exception placed in the form's own words, as exceptions.xlsx does, not by its field path
    assert "voucher table, row 1, Voucher Amount Received" in accepted and "lines.1.amount" not in accepted


def test_undo_is_refused_while_a_later_action_changed_the_same_submission(wh, loaded_and_held):
    _, held = loaded_and_held
    first = _audit_id(accept(wh, held, "£10 paid", "Admin A"))
    second = _audit_id(reject(wh, held, "workshop cancelled", "Admin A"))
    with pytest.raises(
        AdminError, match=f"changed again after action {first}: undo action {second} \\(reject\\) first"
    ):
        undo(wh, first, "", "Admin A")
    undo(wh, second, "", "Admin A")
    undo(wh, first, "", "Admin A")
    assert wh.one("SELECT status FROM submissions WHERE submission_id = :id", id=held)[0] == "held"


def test_undo_is_audited_and_the_audit_view_says_what_can_be_undone(wh, loaded_and_held):
    loaded, held = loaded_and_held
    action = _audit_id(supersede(wh, loaded, held, "a correction", "Admin A"))
    assert wh.rows("SELECT audit_id FROM audit WHERE can_undo") == [(action,)]
    undid = _audit_id(undo(wh, action, "not a correction after all", "Admin B"))
    assert wh.one(
        "SELECT actor, action, submission_id, old_status, new_status, reason, undoes_audit_id FROM audit "
        "WHERE audit_id = :id",
        id=undid,
    ) == ("Admin B", "undo", loaded, "superseded", "loaded", "not a correction after all", action)
    assert wh.one("SELECT undone_by_audit_id, can_undo FROM audit WHERE audit_id = :id", id=action) == (undid, False)
    assert wh.rows("SELECT audit_id FROM audit WHERE can_undo") == []
    with pytest.raises(AdminError, match=f"undone already, by action {undid}"):
        undo(wh, action, "", "Admin B")
    with pytest.raises(
        AdminError, match=f"an undo is not undone: .* run it again \\(coforms supersede {loaded} {held}\\)"
    ):
        undo(wh, undid, "", "Admin B")
    with pytest.raises(AdminError, match="There is no action 999 in the audit table. No action can be undone now."):
        undo(wh, 999, "", "Admin B")


def test_undo_reopens_exactly_the_exceptions_its_action_resolved(wh, loaded_and_held, ctx):
    _, held = loaded_and_held
    other = _record(wh, GOLDEN / "voucher" / "bad_total_mismatch.docx", ctx)  # held, its own problem
    reject(wh, other, "a test sheet", "Admin A")
    problems = wh.rows("SELECT problem_no, code FROM store.problems WHERE submission_id = :id", id=held)
    accepted = _audit_id(accept(wh, held, "£10 paid", "Admin A"))
    rejected = reject(wh, held, "workshop cancelled", "Admin A")
    assert "Exceptions resolved" not in rejected  # accept had resolved them all already

    undone = undo(wh, _audit_id(rejected), "", "Admin A")
    assert "Exceptions reopened" not in undone
    assert wh.one("SELECT count(*) FROM exceptions WHERE state = 'open'")[0] == 0
    assert {r[0] for r in wh.rows("SELECT DISTINCT resolution FROM exceptions WHERE submission_id = :id", id=held)} == {
        "accepted: £10 paid"
    }

    undone = undo(wh, accepted, "", "Admin A")
    assert f"Exceptions reopened: {len(problems)}" in undone
    reopened = wh.rows(
        "SELECT submission_id, code, resolved_at, resolution, resolved_by_audit_id FROM exceptions WHERE state = 'open'"
    )
    assert sorted(reopened) == sorted((held, code, None, None, None) for _, code in problems)
    assert wh.one("SELECT state FROM exceptions WHERE submission_id = :id", id=other)[0] == "resolved"


def test_a_correction_the_pipeline_linked_can_be_undone(wh, ctx):
    old = _record(wh, HELD, ctx, "Vouchers workshop 3.docx", TOM)
    new = _record(wh, GOOD, ctx, "Vouchers workshop 3 (corrected).docx", TOM)
    [(action,)] = wh.rows("SELECT audit_id FROM audit WHERE actor = 'pipeline' AND can_undo")
    undo(wh, action, "two different workshops", "Admin A")
    statuses = dict(wh.rows("SELECT submission_id, status FROM submissions"))
    assert statuses == {old: "held", new: "loaded"}
    assert wh.one("SELECT count(*) FROM exceptions WHERE submission_id = :id AND state = 'open'", id=old)[0] > 0


def test_a_form_superseded_as_it_arrived_can_be_undone_and_is_held_for_its_errors(wh, ctx):
    """The correction was taken in first; the older version, arriving later, was superseded at once."""
    sent = dt.datetime(2025, 6, 1, 9, 0)
    new = _record(wh, GOOD, ctx, "Vouchers workshop 3 (corrected).docx", TOM, sent + dt.timedelta(hours=2))
    old = _record(wh, HELD, ctx, "Vouchers workshop 3.docx", TOM, sent)
    assert wh.one("SELECT status FROM submissions WHERE submission_id = :id", id=old)[0] == "superseded"
    [(action,)] = wh.rows("SELECT audit_id FROM audit WHERE submission_id = :id", id=old)
    undo(wh, action, "two different workshops", "Admin A")
    assert dict(wh.rows("SELECT submission_id, status FROM submissions")) == {old: "held", new: "loaded"}
    assert wh.one("SELECT count(*) FROM exceptions WHERE submission_id = :id AND state = 'resolved'", id=old)[0] == 0


def test_a_dry_run_under_the_run_lock_rewrites_no_report(workdir, ctx):
    from pipeline.admin.actions import run_admin_action
    from pipeline.settings import Settings

    settings = Settings(inbox=workdir / "inbox", outputs=workdir / "outputs")
    with Warehouse(settings.warehouse) as wh:
        loaded, held = _record(wh, GOOD, ctx), _record(wh, HELD, ctx)
    done = run_admin_action(settings, accept, held, "£10 paid", "Admin A")  # writes the reports
    report = settings.outputs / "exceptions.xlsx"
    written = report.stat().st_mtime_ns
    preview = run_admin_action(settings, supersede, loaded, held, "a correction", "Admin A", dry_run=True)
    assert "£70.50 out" in preview and report.stat().st_mtime_ns == written
    with Warehouse(settings.warehouse) as wh:
        assert wh.rows("SELECT audit_id FROM audit") == [(_audit_id(done),)]
        assert wh.one("SELECT status FROM submissions WHERE submission_id = :id", id=loaded)[0] == "loaded"
