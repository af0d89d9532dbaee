"""Correcting a value and confirming an OCR reading: the form is validated again by the pipeline's
own code from the reading the run kept, re-recorded in place, audited, and can be undone."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.admin.actions import AdminError, accept
from pipeline.document import Reading
from pipeline.forms.spec import all_specs
from pipeline.history.decide import decide_and_record
from pipeline.intake.archive import archive_path
from pipeline.records import ParsedFile, Provenance
from pipeline.runtime.correct import confirm, correct, correcting, run_correction, run_undo
from pipeline.runtime.parse import parse_file
from pipeline.runtime.run import run_pipeline
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse
from pipeline.validate.form import Context, validate_form
from tests.conftest import GOLDEN, TODAY

HELD_SHEET = GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx"  # '£ten' in row 1: invalid_amount
CLEAN_SHEET = GOLDEN / "voucher" / "table_total_row.docx"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """An outputs folder after one run on the held voucher sheet (copied for each test)."""
    root = tmp_path_factory.mktemp("recorded")
    (root / "inbox").mkdir()
    shutil.copy(HELD_SHEET, root / "inbox" / HELD_SHEET.name)
    run_pipeline(Settings(inbox=root / "inbox", outputs=root / "outputs", settle_seconds=0))
    return root / "outputs"


@pytest.fixture
def settings(recorded: Path, tmp_path: Path) -> Settings:
    shutil.copytree(recorded, tmp_path / "outputs")
    (tmp_path / "inbox").mkdir()
    return Settings(inbox=tmp_path / "inbox", outputs=tmp_path / "outputs", settle_seconds=0)


def _rows(settings: Settings, sql: str, **params) -> list:
    with Warehouse(settings.warehouse) as wh:
        return wh.rows(sql, **params)


def _do(settings: Settings, action, *args, dry_run: bool = False) -> str:
    """An action on the warehouse, without the run lock and the reports (run_correction adds those)."""
    with Warehouse(settings.warehouse) as wh:
        return action(wh, *args, how=correcting(settings, TODAY), dry_run=dry_run)


def _held_id(settings: Settings) -> int:
    return _rows(settings, "SELECT submission_id FROM submissions WHERE source_file = :f", f=HELD_SHEET.name)[0][0]


def _open_problems(settings: Settings, sid: int) -> set[tuple[str, str]]:
    rows = _rows(
        settings,
        "SELECT code, field FROM exceptions WHERE submission_id = :id AND state = 'open' AND code <> 'ocr_read'",
        id=sid,
    )
    return {(code, field) for code, field in rows}


def _status(settings: Settings, sid: int) -> str:
    return _rows(settings, "SELECT status FROM submissions WHERE submission_id = :id", id=sid)[0][0]


def _line_amount(settings: Settings, sid: int, line_no: int) -> Decimal | None:
    return _rows(
        settings, "SELECT amount FROM store.voucher_lines WHERE submission_id = :id AND line_no = :n", id=sid, n=line_no
    )[0][0]


def test_a_corrected_amount_is_validated_again_and_the_form_stays_held_only_for_what_is_left(settings):
    sid = _held_id(settings)
    assert ("invalid_amount", "lines.1.amount") in _open_problems(settings, sid)
    said = run_correction(settings, correct, sid, "lines.1.amount", "10.00", "Phoned Tom: £10", "Admin A")
    assert "'£ten' -> '10.00'" in said and "Problems that go: 1" in said and "invalid_amount" in said
    assert _line_amount(settings, sid, 1) == Decimal("10.00")
    left = _open_problems(settings, sid)
    assert ("invalid_amount", "lines.1.amount") not in left
    # what the sheet still has wrong stays; the amounts now add up to more than the written total
    assert {("over_cap", "lines.3.amount"), ("unsigned", "lines.3.signed"), ("total_mismatch", "total")} <= left
    assert _status(settings, sid) == "held"
    resolved = _rows(
        settings,
        "SELECT resolution, resolved_by_audit_id FROM exceptions WHERE submission_id = :id AND code = 'invalid_amount'",
        id=sid,
    )
    audit_id = _rows(settings, "SELECT max(audit_id) FROM audit WHERE action = 'correct'")[0][0]
    assert resolved == [("corrected: Phoned Tom: £10", audit_id)]


def test_the_correction_is_kept_with_before_after_who_and_why(settings):
    sid = _held_id(settings)
    _do(settings, correct, sid, "lines.1.amount", "10.00", "Phoned Tom: £10", "Admin A")
    assert _rows(
        settings, "SELECT submission_id, field, before, after, confirmed, actor, reason FROM value_corrections"
    ) == [(sid, "lines.1.amount", "£ten", "10.00", False, "Admin A", "Phoned Tom: £10")]
    audit = _rows(settings, "SELECT action, actor, old_status, new_status, reason, can_undo FROM audit")
    assert audit == [("correct", "Admin A", "held", "held", "Phoned Tom: £10", True)]
    source = _rows(settings, "SELECT source FROM store.value_locations WHERE submission_id = :id AND field = :f",
                   id=sid, f="lines.1.amount")  # fmt: skip
    assert source == [("corrected",)]


def test_the_archived_original_is_byte_identical_after_a_correction(settings):
    sid = _held_id(settings)
    sha = _rows(settings, "SELECT sha256 FROM submissions WHERE submission_id = :id", id=sid)[0][0]
    original = archive_path(settings.archive_dir, sha)
    before = original.read_bytes()
    _do(settings, correct, sid, "lines.1.amount", "10.00", "Phoned Tom", "Admin A")
    assert original.read_bytes() == before == HELD_SHEET.read_bytes()


def test_a_form_corrected_until_no_error_is_left_loads_with_its_id(settings):
    sid = _held_id(settings)
    for field, value in (
        ("lines.1.amount", "10.00"),
        ("lines.3.amount", "15.00"),
        ("lines.3.signed", "S Kelly"),
        ("total", "60.00"),
    ):
        said = _do(settings, correct, sid, field, value, "Checked the paper sheet", "Admin A")
    assert "held -> loaded" in said and "£60.00 in" in said
    assert _status(settings, sid) == "loaded"
    assert _rows(settings, "SELECT sum(amount) FROM voucher_lines WHERE submission_id = :id", id=sid) == [
        (Decimal("60.00"),)
    ]
    assert not [p for p in _open_problems(settings, sid) if p[0] != "unit_assumed"]  # a warning may stay


def test_a_dry_run_shows_the_effect_and_changes_nothing(settings):
    sid = _held_id(settings)
    before = _rows(settings, "SELECT * FROM exceptions ORDER BY submission_id, field, code")
    said = run_correction(settings, correct, sid, "lines.1.amount", "10.00", "Phoned Tom", "Admin A", dry_run=True)
    assert said.startswith("Dry run: nothing was changed.")
    assert "On held voucher forms: £185.00 -> £195.00 (£10.00 in)" in said
    assert _rows(settings, "SELECT * FROM exceptions ORDER BY submission_id, field, code") == before
    assert _rows(settings, "SELECT count(*) FROM value_corrections") == [(0,)]
    assert _line_amount(settings, sid, 1) is None


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("lines.9.amount", "has no value 'lines.9.amount'"),
        ("lines.1.colour", "has no value 'lines.1.colour'"),
        ("../../etc/passwd", "has no value"),
        ("nonsense", "has no value 'nonsense'"),
    ],
)
def test_a_field_the_form_does_not_have_is_refused_in_plain_words(settings, field, words):
    with pytest.raises(AdminError, match="voucher form " + words.replace("(", r"\(")):
        _do(settings, correct, _held_id(settings), field, "1", "Because", "Admin A")
    assert _rows(settings, "SELECT count(*) FROM audit") == [(0,)]


def test_a_blank_reason_or_value_and_a_form_out_of_the_warehouse_are_refused(settings):
    sid = _held_id(settings)
    with pytest.raises(AdminError, match="Say why"):
        _do(settings, correct, sid, "lines.1.amount", "10.00", " ", "Admin A")
    with pytest.raises(AdminError, match="blank"):
        _do(settings, correct, sid, "lines.1.amount", "  ", "why", "Admin A")
    with pytest.raises(AdminError, match="no submission 999"):
        _do(settings, correct, 999, "lines.1.amount", "10.00", "why", "Admin A")
    with Warehouse(settings.warehouse) as wh:
        wh.change_status(sid, "rejected", "Admin A", "reject", "test")
    with pytest.raises(AdminError, match="is rejected: only the values of a held or loaded form"):
        _do(settings, correct, sid, "lines.1.amount", "10.00", "why", "Admin A")


def test_confirming_a_typed_value_is_refused(settings):
    with pytest.raises(AdminError, match="not read from a scan"):
        _do(settings, confirm, _held_id(settings), "lines.2.amount", "I looked", "Admin A")


def test_undo_of_a_correction_puts_the_value_and_its_problems_back(settings):
    sid = _held_id(settings)
    _do(settings, correct, sid, "lines.1.amount", "10.00", "Phoned Tom", "Admin A")
    audit_id = _rows(settings, "SELECT max(audit_id) FROM audit")[0][0]
    said = run_undo(settings, audit_id, "Wrong sheet", "Admin B")
    assert "'10.00' -> '£ten' again" in said
    assert _line_amount(settings, sid, 1) is None
    problems = _open_problems(settings, sid)
    assert ("invalid_amount", "lines.1.amount") in problems and ("total_mismatch", "total") not in problems
    assert _rows(settings, "SELECT undone_by_audit_id FROM value_corrections") == [(audit_id + 1,)]
    assert _rows(settings, "SELECT action, undoes_audit_id FROM audit WHERE audit_id = :id", id=audit_id + 1) == [
        ("undo", audit_id)
    ]
    with pytest.raises(AdminError, match="undone already"):
        run_undo(settings, audit_id, "again", "Admin B")


def test_an_error_accepted_before_a_correction_stays_accepted(settings):
    sid = _held_id(settings)
    with Warehouse(settings.warehouse) as wh:
        accept(wh, sid, "Paid as written", "Admin A")
    said = _do(settings, correct, sid, "lines.2.activity", "Workshop one", "Typo", "Admin A")
    assert "loaded, unchanged" in said
    assert _status(settings, sid) == "loaded"


def test_a_form_recorded_before_readings_were_kept_is_read_again_from_its_archived_original(settings):
    sid = _held_id(settings)
    with Warehouse(settings.warehouse) as wh, wh.transaction():
        wh.execute("DELETE FROM store.raw_forms")
    _do(settings, correct, sid, "lines.1.amount", "10.00", "Phoned Tom", "Admin A")
    assert _line_amount(settings, sid, 1) == Decimal("10.00")


# ---------------------------------------------------------------- a scan held for a reading to confirm


def _as_scanned(raw, doubtful: str, second_reading: str):
    """A typed sheet's reading made into what the scan reader hands over: every value read by OCR
    twice, both engines agreeing, except `doubtful`'s amount, which the second engine read otherwise
    (a scan's OCR takes seconds and needs a printed sheet; this is the reading it would make)."""
    _, row_no, column = doubtful.split(".")

    def scanned(value, second=None):
        text = value.text
        reading = Reading("rapidocr", text, "tesseract", second or text, crop=f"{doubtful}.png")
        return dataclasses.replace(value, source="ocr", reading=reading, second_text=second or text, value=None)

    raw.fields = {name: scanned(v) for name, v in raw.fields.items()}
    for i, row in enumerate(raw.rows):
        cells = {
            name: scanned(v, second_reading if (str(row.row_no), name) == (row_no, column) else None)
            for name, v in row.cells.items()
        }
        raw.rows[i] = dataclasses.replace(row, cells=cells)
    raw.total = scanned(raw.total) if raw.total else None
    raw.read_by_ocr = True
    return raw


@pytest.fixture
def scan_id(settings) -> int:
    """A scanned voucher sheet held for ocr_unconfirmed: row 2's amount read '20' and '£28.00'."""
    data = CLEAN_SHEET.read_bytes() + b" (scanned)"
    ctx = Context(today=TODAY)
    raw = _as_scanned(parse_file(CLEAN_SHEET.read_bytes(), ctx).raw, "lines.2.amount", "£28.00")
    validated = validate_form(raw, all_specs()["voucher"], ctx, "ocr-crops/x")
    parsed = ParsedFile("voucher", validated.model, validated.problems, [], validated.locations, "scan",
                        readings=validated.readings, raw=raw)  # fmt: skip
    with Warehouse(settings.warehouse) as wh:
        recorded = decide_and_record(wh, Provenance("Vouchers (scanned).png"), hashlib.sha256(data).hexdigest(), parsed)
    assert recorded.status == "held"
    return recorded.submission_id


def test_confirming_an_ocr_reading_loads_a_scan_held_only_for_it(settings, scan_id):
    assert {p for p in _open_problems(settings, scan_id)} == {("ocr_unconfirmed", "lines.2.amount")}
    said = _do(settings, confirm, scan_id, "lines.2.amount", "The picture shows 20", "Admin A")
    assert "confirmed as what the scan shows" in said and "held -> loaded" in said
    assert _status(settings, scan_id) == "loaded"
    assert _rows(settings, "SELECT before, after, confirmed FROM value_corrections") == [("20", "20", True)]
    # the value is still known as read by OCR, with both readings
    assert _rows(
        settings, "SELECT source, reading FROM value_sources WHERE submission_id = :id AND field = 'lines.2.amount'",
        id=scan_id,
    ) == [("ocr", "rapidocr: '20'; tesseract: '£28.00'")]  # fmt: skip


def test_correcting_an_ocr_reading_takes_the_admins_value(settings, scan_id):
    _do(settings, correct, scan_id, "lines.2.amount", "£28.00", "The picture shows £28", "Admin A")
    assert _line_amount(settings, scan_id, 2) == Decimal("28.00")
    # the admin's value is not OCR's to check, but the sheet's written total now disagrees
    assert _open_problems(settings, scan_id) == {("total_mismatch", "total")}
    assert _status(settings, scan_id) == "held"


def test_a_correction_is_never_undone_by_a_change_of_status_alone(settings):
    from pipeline.admin.actions import undo
    from pipeline.store.warehouse import CorrectionNotUndoneThisWay

    sid = _held_id(settings)
    _do(settings, correct, sid, "lines.1.amount", "10.00", "Phoned Tom", "Admin A")
    audit_id = _rows(settings, "SELECT max(audit_id) FROM audit")[0][0]
    with Warehouse(settings.warehouse) as wh, pytest.raises(CorrectionNotUndoneThisWay, match="corrected a value"):
        undo(wh, audit_id, "", "Admin B")
    assert _line_amount(settings, sid, 1) == Decimal("10.00")
    assert _rows(settings, "SELECT count(*) FROM audit") == [(1,)]


def test_undo_any_takes_back_a_correction_and_any_other_action_alike(settings):
    """What `coforms undo` and the desk's Undo call: functools.partial(undo_any, how=...)."""
    from functools import partial

    from pipeline.admin.actions import run_admin_action
    from pipeline.runtime.correct import undo_any

    sid = _held_id(settings)
    _do(settings, correct, sid, "lines.1.amount", "10.00", "Phoned Tom", "Admin A")
    with Warehouse(settings.warehouse) as wh:
        accept(wh, sid, "Paid", "Admin A")
    undo = partial(undo_any, how=correcting(settings, TODAY))
    accepted, corrected = (r[0] for r in _rows(settings, "SELECT audit_id FROM audit ORDER BY audit_id DESC"))
    run_admin_action(settings, undo, accepted, "", "Admin B")
    assert _status(settings, sid) == "held"
    run_admin_action(settings, undo, corrected, "", "Admin B")
    assert _line_amount(settings, sid, 1) is None
    assert ("invalid_amount", "lines.1.amount") in _open_problems(settings, sid)


# ---------------------------------------------------------------- answers given by ticking boxes


@pytest.fixture
def recorded_form(settings):
    """Record one golden form (parsed as a run would) in the test's warehouse; its submission id."""

    def record(name: str) -> int:
        data = (GOLDEN / name).read_bytes()
        parsed = parse_file(data, Context(today=TODAY))
        with Warehouse(settings.warehouse) as wh:
            return decide_and_record(
                wh, Provenance(Path(name).name), hashlib.sha256(data).hexdigest(), parsed
            ).submission_id

    return record


def test_a_question_with_two_boxes_ticked_is_corrected_to_the_answer_the_paper_means(settings, recorded_form):
    sid = recorded_form("monitoring/bad_two_ages.docx")
    assert _status(settings, sid) == "held"
    said = _do(settings, correct, sid, "age_band", "25-34", "Phoned: 25-34", "Admin A")
    assert "held -> loaded" in said
    assert _rows(settings, "SELECT age_band FROM monitoring WHERE submission_id = :id", id=sid) == [("25-34",)]


def test_an_answer_the_question_does_not_offer_is_refused_naming_the_answers(settings, recorded_form):
    sid = recorded_form("monitoring/bad_two_ages.docx")
    with pytest.raises(AdminError, match=r"'Twenty' is not an answer to 'age_band'\. The answers are: Under 18; 18-24"):
        _do(settings, correct, sid, "age_band", "Twenty", "why", "Admin A")


def test_an_unanswered_statement_is_answered_and_its_warning_goes(settings, recorded_form):
    sid = recorded_form("evaluation/bad_not_answered.docx")
    said = _do(settings, correct, sid, "accessibility.1", "strongly agree", "Phoned the resident", "Admin A")
    assert "not_answered" in said.split("Problems that go")[1]
    assert _rows(
        settings,
        "SELECT score FROM evaluation_scores WHERE submission_id = :id AND principle = 'accessibility' "
        "AND statement_no = 1",
        id=sid,
    ) == [(5,)]
