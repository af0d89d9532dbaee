"""Corrections supersede earlier forms; separate responses never do (through `coforms run`)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.history.corrections import correction_key, file_stem
from tests.conftest import GOLDEN, query_warehouse, resaved
from tests.fixtures import emails
from tests.fixtures.voucher_sheets import voucher_sheet

runner = CliRunner()
TOM = "Tom Okafor <tom.okafor@camden.gov.uk>"
AMIRA = "Amira Hassan <amira.hassan@camden.gov.uk>"


@pytest.mark.parametrize(
    "name",
    [
        "Vouchers workshop 3 (corrected).docx",
        "Vouchers workshop 3 v2.docx",
        "Vouchers workshop 3 - amended.pdf",
        "Vouchers_workshop_3_FINAL.xlsx",
        "Vouchers workshop 3 (2).docx",
        "Copy of Vouchers workshop 3.docx",
        "vouchers workshop 3 - Version 3 UPDATED.docx",
    ],
)
def test_version_words_are_ignored_in_file_names(name):
    assert file_stem(name) == file_stem("Vouchers workshop 3.docx") == "vouchers workshop 3"


@pytest.mark.parametrize(
    "a,b",
    [
        ("Carers Week evaluation - resident 3.docx", "Carers Week evaluation - resident 4.docx"),
        ("Workshop 3 vouchers.docx", "Workshop 4 vouchers.docx"),
    ],
)
def test_numbers_that_name_another_form_are_kept(a, b):
    assert file_stem(a) != file_stem(b)


def test_the_sender_is_part_of_the_key():
    assert correction_key(TOM, "a.docx") == correction_key("tom.okafor@CAMDEN.gov.uk", "a v2.docx")
    assert correction_key(TOM, "a.docx") != correction_key(AMIRA, "a.docx")
    assert correction_key(None, "a.docx") == correction_key("", "a (corrected).docx")


def _run(workdir):
    result = runner.invoke(app, ["run", "--inbox", str(workdir / "inbox"), "--outputs", str(workdir / "outputs")])
    assert result.exit_code == 0, result.output
    return result


def _mail(workdir, name: str, attachments: list[tuple[bytes, str]], sender: str = TOM, subject: str = "Forms"):
    msg = emails.message(sender=sender, subject=subject)
    for data, filename in attachments:
        emails.attach(msg, data, filename)
    (workdir / "inbox").mkdir(exist_ok=True)
    (workdir / "inbox" / name).write_bytes(msg.as_bytes())


HELD = (GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx").read_bytes()
GOOD = (GOLDEN / "voucher" / "table_total_row.docx").read_bytes()


def test_a_held_form_corrected_in_a_later_run_is_superseded_and_its_exceptions_resolved(workdir):
    _mail(workdir, "1.eml", [(HELD, "Vouchers workshop 3.docx")])
    _run(workdir)
    [(old, status)] = query_warehouse(workdir, "SELECT submission_id, status FROM submissions")
    assert status == "held"
    _mail(workdir, "2.eml", [(GOOD, "Vouchers workshop 3 (corrected).docx")])
    said = " ".join(_run(workdir).output.split())
    rows = dict(query_warehouse(workdir, "SELECT submission_id, (status, superseded_by) FROM submissions"))
    new = max(rows)
    # the run says which correction it linked, and how to take the link back if it was wrong
    assert f"Correction: submission {old} (Vouchers workshop 3.docx) is replaced by {new}" in said
    assert "coforms undo 1" in said
    assert rows == {old: ("superseded", new), new: ("loaded", None)}
    states = query_warehouse(workdir, f"SELECT DISTINCT state, resolution FROM exceptions WHERE submission_id = {old}")
    assert states == [("resolved", f"replaced by submission {new}")]
    assert query_warehouse(
        workdir, "SELECT actor, action, submission_id, related_submission_id, old_status, new_status FROM audit"
    ) == [("pipeline", "supersede", old, new, "held", "superseded")]
    assert {r[0] for r in query_warehouse(workdir, "SELECT DISTINCT submission_id FROM voucher_lines")} == {new}


def test_a_loaded_form_amended_is_replaced_without_a_double_claim_warning(workdir):
    lines = [
        ("Grace Adeyemi", dt.date(2025, 5, 6), "Workshop 1", Decimal("20.00")),
        ("Peter Novak", dt.date(2025, 5, 6), "Workshop 1", Decimal("20.00")),
    ]
    _mail(workdir, "1.eml", [(voucher_sheet(lines), "May vouchers.xlsx")])
    _run(workdir)
    amended = lines[:1] + [("Peter Novak", dt.date(2025, 5, 6), "Workshop 1", Decimal("25.00"))]
    _mail(workdir, "2.eml", [(voucher_sheet(amended), "May vouchers - amended.xlsx")])
    _run(workdir)
    assert [r[0] for r in query_warehouse(workdir, "SELECT status FROM submissions ORDER BY submission_id")] == [
        "superseded",
        "loaded",
    ]
    assert query_warehouse(workdir, "SELECT code FROM exceptions WHERE code = 'possible_duplicate_claim'") == []
    assert query_warehouse(workdir, "SELECT sum(amount) FROM voucher_lines") == [(Decimal("45.00"),)]


def test_the_same_file_twice_is_a_duplicate_never_a_correction(workdir):
    _mail(workdir, "1.eml", [(GOOD, "Vouchers.docx")])
    _run(workdir)
    _mail(workdir, "2.eml", [(GOOD, "Vouchers (2).docx")], subject="resending")
    _run(workdir)
    assert query_warehouse(workdir, "SELECT status, superseded_by FROM submissions ORDER BY submission_id") == [
        ("loaded", None),
        ("duplicate", None),
    ]
    assert query_warehouse(workdir, "SELECT count(*) FROM audit") == [(0,)]


def test_twenty_residents_evaluations_from_one_sender_on_one_day_all_load(workdir):
    evaluation = (GOLDEN / "evaluation" / "ticks_sdt.docx").read_bytes()
    forms = [
        (resaved(evaluation, f"resident {n}"), f"Carers Week evaluation - resident {n}.docx") for n in range(1, 21)
    ]
    _mail(workdir, "1.eml", forms[:10])
    _mail(workdir, "2.eml", forms[10:])  # the same afternoon, a second email
    _run(workdir)
    assert query_warehouse(workdir, "SELECT status, count(*) FROM submissions GROUP BY ALL") == [("loaded", 20)]
    assert query_warehouse(workdir, "SELECT count(*) FROM evaluation") == [(20,)]


def test_a_correction_in_the_same_run_as_the_original_supersedes_it(workdir):
    _mail(workdir, "1.eml", [(HELD, "Vouchers workshop 3.docx")])
    _mail(workdir, "2.eml", [(GOOD, "Vouchers workshop 3 v2.docx")])
    _run(workdir)
    assert [r[0] for r in query_warehouse(workdir, "SELECT status FROM submissions ORDER BY submission_id")] == [
        "superseded",
        "loaded",
    ]
    assert query_warehouse(workdir, "SELECT count(*) FROM exceptions WHERE state = 'open'") == [(0,)]
    # the sender already fixed it: nobody is asked to fix it again
    assert list((workdir / "outputs" / "replies").glob("*.eml")) == []


def test_another_senders_file_of_the_same_name_is_not_a_correction(workdir):
    _mail(workdir, "1.eml", [(HELD, "Vouchers.docx")])
    _mail(workdir, "2.eml", [(GOOD, "Vouchers.docx")], sender=AMIRA)
    _run(workdir)
    assert [r[0] for r in query_warehouse(workdir, "SELECT status FROM submissions ORDER BY submission_id")] == [
        "held",
        "loaded",
    ]


def test_a_newer_plan_for_the_same_project_wins_whoever_sent_it(workdir):
    plan = (GOLDEN / "planning" / "toolkit_layout.docx").read_bytes()
    (workdir / "inbox").mkdir(exist_ok=True)
    shutil.copy(GOLDEN / "planning" / "table_layout.docx", workdir / "inbox" / "Carers week plan.docx")
    os.utime(workdir / "inbox" / "Carers week plan.docx", (1_700_000_000, 1_700_000_000))  # saved in 2023
    _run(workdir)
    _mail(workdir, "1.eml", [(plan, "Plan for the co-design group.docx")], sender=AMIRA)
    _run(workdir)
    rows = query_warehouse(workdir, "SELECT status, project_name FROM submissions ORDER BY submission_id")
    assert rows == [("superseded", "Carers Week Co-design Group"), ("loaded", "Carers Week Co-design Group")]
    assert query_warehouse(workdir, "SELECT count(*) FROM planning") == [(1,)]


def test_an_original_taken_in_after_its_correction_does_not_replace_it(workdir):
    from email.utils import format_datetime

    for name, data, filename, sent in (
        ("1 correction.eml", GOOD, "Vouchers workshop 3 v2.docx", dt.datetime(2025, 6, 2, 10, tzinfo=dt.UTC)),
        ("2 original.eml", HELD, "Vouchers workshop 3.docx", dt.datetime(2025, 6, 1, 10, tzinfo=dt.UTC)),
    ):
        msg = emails.attach(emails.message(sender=TOM), data, filename)
        msg.replace_header("Date", format_datetime(sent))
        (workdir / "inbox").mkdir(exist_ok=True)
        (workdir / "inbox" / name).write_bytes(msg.as_bytes())  # the correction's file is taken in first
    _run(workdir)
    rows = query_warehouse(workdir, "SELECT source_file, status, superseded_by FROM submissions ORDER BY submission_id")
    assert rows == [("Vouchers workshop 3 v2.docx", "loaded", None), ("Vouchers workshop 3.docx", "superseded", 1)]
    assert query_warehouse(workdir, "SELECT DISTINCT state FROM exceptions") == [("resolved",)]
    assert query_warehouse(workdir, "SELECT action, submission_id, related_submission_id, new_status FROM audit") == [
        ("supersede", 2, 1, "superseded")
    ]


@pytest.mark.parametrize("runs", ["one run", "a run each"])
def test_a_correction_after_an_email_dated_in_the_future_replaces_it(workdir, runs):
    """The original's Date header says 2099 (a wrong clock, or a header written to win): it must
    not outrank the correction sent after it, whether both are taken in one run or the original
    was recorded in an earlier run."""
    from email.utils import format_datetime

    def mail(name: str, data: bytes, filename: str, sent: dt.datetime, arrived: int) -> None:
        msg = emails.attach(emails.message(sender=TOM), data, filename)
        msg.replace_header("Date", format_datetime(sent))
        (workdir / "inbox").mkdir(exist_ok=True)
        (workdir / "inbox" / name).write_bytes(msg.as_bytes())
        os.utime(workdir / "inbox" / name, (arrived, arrived))  # the original arrived first

    mail(
        "1 original.eml",
        HELD,
        "Vouchers workshop 3.docx",
        dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
        1_748_772_000,
    )
    if runs == "a run each":
        _run(workdir)
    mail(
        "2 correction.eml",
        GOOD,
        "Vouchers workshop 3 v2.docx",
        dt.datetime(2025, 6, 2, 10, tzinfo=dt.UTC),
        1_748_858_400,
    )
    _run(workdir)
    rows = query_warehouse(workdir, "SELECT source_file, status, superseded_by FROM submissions ORDER BY submission_id")
    assert rows == [("Vouchers workshop 3.docx", "superseded", 2), ("Vouchers workshop 3 v2.docx", "loaded", None)]
    assert query_warehouse(workdir, "SELECT action, submission_id, related_submission_id, new_status FROM audit") == [
        ("supersede", 1, 2, "superseded")
    ]
