"""One person, one key, through `coforms run`: seven voucher sheets claim the same person, date and
activity, each writing her name its own way (a Cyrillic "а", full-width letters, a no-break space,
a zero-width joiner, a zero-width space, upper case). Every claim is a possible double claim, she is
one row "By recipient", and her £560 in the year puts her on the declaration list (over £500)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import query_warehouse
from tests.fixtures.voucher_sheets import voucher_sheet
from tests.validate.test_names import GRACE

DAY = dt.date(2025, 5, 6)
PROJECTS = ["Carers Week", "Lunch Club", "Reading Group", "Youth Forum", "Walking Group", "Art Studio", "Food Bank"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("one_person")
    inbox = workdir / "inbox"
    inbox.mkdir()
    for project, name in zip(PROJECTS, GRACE, strict=True):
        sheet = voucher_sheet([(name, DAY, "Workshop 1", Decimal("80.00"))], project=project)
        (inbox / f"Vouchers {project}.xlsx").write_bytes(sheet)
    result = CliRunner().invoke(
        app,
        ["run", "--inbox", str(inbox), "--outputs", str(workdir / "outputs")],
        env={"COFORMS_DECLARE_THRESHOLD": "500.00"},
    )
    assert result.exit_code == 0, result.output
    return workdir


def _sheet(workdir, name: str) -> list[tuple]:
    """The rows under the sheet's heading row (below its note, where it has one)."""
    ws = openpyxl.load_workbook(workdir / "outputs" / "voucher_reconciliation.xlsx")[name]
    rows = list(ws.iter_rows(values_only=True))
    heading = next(i for i, row in enumerate(rows) if row[0] == "Recipient")
    return [row for row in rows[heading + 1 :] if any(v is not None for v in row)]


def test_every_claim_of_the_seven_is_a_possible_double_claim(run):
    assert query_warehouse(run, "SELECT count(*) FROM voucher_lines") == [(7,)]
    doubles = _sheet(run, "Possible double claims")
    assert len(doubles) == 7
    assert {(r[1].date(), r[2]) for r in doubles} == {(DAY, "Workshop 1")}
    assert len({r[0] for r in doubles}) == 6  # each as its sheet wrote it (only NBSP became a space)
    # each later form is told its line was claimed before (the first one is what they repeat)
    flagged = query_warehouse(
        run, "SELECT count(DISTINCT submission_id) FROM store.problems WHERE code = 'possible_duplicate_claim'"
    )
    assert flagged == [(6,)]


def test_she_is_one_row_by_recipient_under_her_name_as_first_written(run):
    rows = _sheet(run, "By recipient")
    assert len(rows) == 1
    name, lines, forms, pounds, _hours = rows[0]
    assert (lines, forms, Decimal(str(pounds))) == (7, 7, Decimal("560"))
    assert name == GRACE[0]


def test_she_is_on_the_declaration_list_once_her_total_passes_the_threshold(run):
    over = _sheet(run, "Over 12-month limit")
    assert len(over) == 1
    assert Decimal(str(over[0][1])) == Decimal("560.00") and over[0][4] == 7
    # shown as the first form wrote her name, as "By recipient" shows her
    assert over[0][0] == _sheet(run, "By recipient")[0][0] == GRACE[0]


def test_double_claims_are_listed_by_name_not_by_their_look_alike_key():
    """The claim key is a skeleton ("Mei" is "rnei" in it): the sheet still lists people by name."""
    from pipeline.reports.vouchers import _double_claims
    from pipeline.validate.names import claim_key

    rows = [
        (claim_key(name, DAY, "Workshop 1"), name, DAY, "Workshop 1", Decimal("20"), sid, 1, f"{sid}.xlsx", None, "A6")
        for sid, name in enumerate(["Peter Novak", "Mei Chen", "Peter Novak", "Mei Chen"], start=1)
    ]

    assert [(r[0], r[4]) for r in _double_claims(rows)] == [
        ("Mei Chen", 2),
        ("Mei Chen", 4),
        ("Peter Novak", 1),
        ("Peter Novak", 3),
    ]
