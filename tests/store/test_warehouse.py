from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from pipeline.history.decide import decide_and_record
from pipeline.problems import ProblemCode, make_problem
from pipeline.records import ParsedFile, Provenance
from pipeline.runtime.parse import parse_file
from pipeline.store.warehouse import PUBLIC_VIEWS, Warehouse
from tests.conftest import GOLDEN

# The documented public schema (README, "Warehouse views"): a change here is a change of interface.
DOCUMENTED_COLUMNS = {
    "submissions": [
        "submission_id",
        "form_type",
        "source_file",
        "container_file",
        "sender",
        "subject",
        "received_at",
        "sha256",
        "status",
        "project_name",
        "loaded_at",
        "superseded_by",
        "original_deleted_at",
        "names_pseudonymised_at",
        "free_text_cleared_at",
    ],
    "exceptions": [
        "submission_id",
        "source_file",
        "container_file",
        "sender",
        "severity",
        "code",
        "field",
        "location",
        "message",
        "value",
        "state",
        "resolved_at",
        "resolution",
        "resolved_by_audit_id",
    ],
    "audit": [
        "audit_id",
        "acted_at",
        "actor",
        "action",
        "submission_id",
        "related_submission_id",
        "old_status",
        "new_status",
        "reason",
        "undoes_audit_id",
        "undone_by_audit_id",
        "can_undo",
    ],
    "planning": [
        "submission_id",
        "project_name",
        "date",
        "residents_involved",
        "purpose_and_objectives",
        "stakeholders",
        "coproduction_approach",
        "communication",
        "resources_and_support",
        "timelines_and_milestones",
        "monitoring_and_evaluation",
        "further_involvement",
    ],
    "planning_leads": ["submission_id", "position", "lead_name"],
    "evaluation": [
        "submission_id",
        "project_name",
        "date",
        "completed_by",
        "what_worked_well",
        "what_could_be_improved",
        "wider_learning",
        "additional_feedback",
    ],
    "evaluation_scores": ["submission_id", "principle", "statement_no", "statement", "score"],
    "evaluation_feedback": ["submission_id", "principle", "feedback"],
    "evaluation_themes": ["submission_id", "theme"],
    "monitoring": [
        "submission_id",
        "project_name",
        "date",
        "age_band",
        "gender",
        "gender_self_description",
        "trans",
        "sexual_orientation",
        "ethnicity",
        "ethnic_group",
        "religion",
        "disability",
        "carer",
        "postcode_district",
        "ethnic_minority",
        "lgbtq",
        "carer_flag",
        "over_75",
        "disabled",
        "homeless",
        "refugee_or_asylum_seeker",
        "gypsy_roma_traveller",
        "language_barrier",
        "dementia",
    ],
    "monitoring_circumstances": ["submission_id", "circumstance"],
    "voucher_lines": [
        "submission_id",
        "line_no",
        "name",
        "date",
        "activity",
        "time_spent_minutes",
        "amount",
        "signed",
        "source",
    ],
    "value_sources": ["submission_id", "field", "location", "source", "reading"],
    "value_corrections": [
        "submission_id",
        "field",
        "before",
        "after",
        "confirmed",
        "actor",
        "reason",
        "corrected_at",
        "audit_id",
        "undone_by_audit_id",
    ],
}


def _record(wh: Warehouse, name: str, ctx, folder: str = "voucher"):
    data = (GOLDEN / folder / name).read_bytes()
    return decide_and_record(wh, Provenance(name), hashlib.sha256(data).hexdigest(), parse_file(data, ctx))


@pytest.fixture
def wh(warehouse_target):
    """Every test here runs on each backend: a DuckDB file, then a PostgreSQL database."""
    with Warehouse(warehouse_target) as warehouse:
        yield warehouse


def test_views_have_exactly_the_documented_columns(wh):
    assert set(PUBLIC_VIEWS) == set(DOCUMENTED_COLUMNS)
    for view, columns in DOCUMENTED_COLUMNS.items():
        got = [
            r[0]
            for r in wh.rows(
                "SELECT column_name FROM information_schema.columns WHERE table_name = :view "
                "AND table_schema <> 'store' ORDER BY ordinal_position",
                view=view,
            )
        ]
        assert got == columns, view


def test_amounts_are_decimal_to_the_penny(wh, ctx):
    _record(wh, "table_total_row.docx", ctx)
    assert tuple(
        wh.one(
            "SELECT data_type, numeric_precision, numeric_scale FROM information_schema.columns "
            "WHERE table_schema = 'store' AND table_name = 'voucher_lines' AND column_name = 'amount'"
        )
    ) in {("DECIMAL(10,2)", 10, 2), ("numeric", 10, 2)}  # DuckDB names it so, PostgreSQL so
    total = wh.one("SELECT sum(amount) FROM voucher_lines")[0]
    assert str(total) == "70.50"


def test_same_bytes_twice_is_a_duplicate_and_loads_nothing(wh, ctx):
    first = _record(wh, "table_total_row.docx", ctx)
    second = _record(wh, "table_total_row.docx", ctx)
    assert (first.status, second.status, second.duplicate_of) == ("loaded", "duplicate", first.submission_id)
    assert wh.one("SELECT count(*) FROM voucher_lines")[0] == 4
    assert wh.one("SELECT count(*) FROM exceptions WHERE submission_id = :id", id=second.submission_id)[0] == 0


def test_held_forms_stay_out_of_the_views_but_keep_their_valid_values(wh, ctx):
    held = _record(wh, "bad_total_mismatch.docx", ctx)
    assert held.status == "held"
    assert wh.one("SELECT count(*) FROM voucher_lines")[0] == 0
    assert wh.one("SELECT count(*) FROM store.voucher_lines WHERE submission_id = :id", id=held.submission_id)[0] == 4
    codes = [r[0] for r in wh.rows("SELECT code FROM exceptions")]
    assert codes == ["total_mismatch"]


def test_unreadable_file_is_recorded_as_rejected_with_its_problem(wh):
    problem = make_problem(ProblemCode.CORRUPT_FILE, "The file is empty (0 bytes).")
    rec = decide_and_record(
        wh, Provenance("empty.docx"), hashlib.sha256(b"").hexdigest(), ParsedFile(None, None, [problem])
    )
    row = wh.one("SELECT status, form_type FROM submissions WHERE submission_id = :id", id=rec.submission_id)
    assert row == ("rejected", None)
    assert wh.one("SELECT code, source_file FROM exceptions") == ("corrupt_file", "empty.docx")


def test_a_failed_write_leaves_nothing_behind(wh, ctx, monkeypatch):
    data = (GOLDEN / "voucher" / "table_total_row.docx").read_bytes()
    parsed = parse_file(data, ctx)
    import pipeline.store.warehouse as warehouse_module

    def broken(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setitem(warehouse_module._LOADERS, "voucher", broken)
    with pytest.raises(RuntimeError):
        decide_and_record(wh, Provenance("v.docx"), hashlib.sha256(data).hexdigest(), parsed)
    assert wh.one("SELECT count(*) FROM store.submissions")[0] == 0
    assert wh.one("SELECT count(*) FROM store.problems")[0] == 0


def test_seldom_heard_flags_are_derived_in_the_view(wh, ctx):
    _record(wh, "vertical_glyph.docx", ctx, "monitoring")  # 75-84, Caribbean, carer, disabled, dementia, language
    row = wh.one(
        "SELECT ethnic_minority, lgbtq, carer_flag, over_75, disabled, homeless, "
        "refugee_or_asylum_seeker, gypsy_roma_traveller, language_barrier, dementia, ethnic_group "
        "FROM monitoring"
    )
    assert row == (
        True,
        False,
        True,
        True,
        True,
        False,
        False,
        False,
        True,
        True,
        "Black, Black British, Caribbean or African",
    )


def test_monitoring_stores_no_name_anywhere(wh, ctx):
    _record(wh, "vertical_glyph.docx", ctx, "monitoring")
    for (table,) in wh.rows(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('information_schema', 'pg_catalog')"
    ):
        dump = str(wh.rows(f"SELECT * FROM {table}"))
        assert "Margaret" not in dump, table


def test_evaluation_has_twelve_score_rows_with_null_for_not_answered(wh, ctx):
    rec = _record(wh, "bad_not_answered.docx", ctx, "evaluation")
    rows = wh.rows(
        "SELECT principle, statement_no, score FROM evaluation_scores WHERE submission_id = :id "
        "ORDER BY principle, statement_no",
        id=rec.submission_id,
    )
    assert len(rows) == 12
    assert ("accessibility", 1, None) in rows
    assert all(score in (1, 2, 3, 4, 5) for p, n, score in rows if (p, n) != ("accessibility", 1))


def test_a_claim_already_loaded_is_known(wh, ctx):
    _record(wh, "table_total_row.docx", ctx)
    from pipeline.validate.names import claim_key

    key = claim_key("Grace  ADEYEMI", dt.date(2025, 5, 6), "workshop 1")
    assert wh.loaded_claims([key, "nobody|2025-01-01|x"]) == {key: (1, "table_total_row.docx")}


def test_a_claim_looked_up_before_its_form_leaves_loaded_is_not_reported_after(wh, ctx):
    """Claims are looked up once per batch and kept; a status change in the batch must drop them."""
    from pipeline.validate.names import claim_key

    first = _record(wh, "table_total_row.docx", ctx).submission_id
    key = claim_key("Grace  ADEYEMI", dt.date(2025, 5, 6), "workshop 1")
    with wh.transaction():
        wh.prefetch_claims([key])
        assert wh.loaded_claims([key]) == {key: (first, "table_total_row.docx")}
        assert wh.loaded_claims([key], excluding=[first]) == {}
        wh.change_status(first, "rejected", "admin", "reject", "sent by mistake")
        assert wh.loaded_claims([key]) == {}


def _grace_key():
    from pipeline.validate.names import claim_key

    return claim_key("Grace  ADEYEMI", dt.date(2025, 5, 6), "workshop 1")


def _record_copy(wh: Warehouse, ctx, name: str):
    """The same voucher sheet under another name and hash: not a duplicate, the same claims."""
    data = (GOLDEN / "voucher" / "table_total_row.docx").read_bytes()
    return decide_and_record(wh, Provenance(name), hashlib.sha256(name.encode()).hexdigest(), parse_file(data, ctx))


def test_when_one_of_two_forms_claiming_a_line_leaves_loaded_the_other_is_reported(wh, ctx):
    first = _record(wh, "table_total_row.docx", ctx).submission_id
    second = _record_copy(wh, ctx, "copy.docx").submission_id
    key = _grace_key()
    with wh.transaction():
        wh.prefetch_claims([key])
        assert wh.loaded_claims([key]) == {key: (first, "table_total_row.docx")}
        wh.supersede(first, second, "admin", "a newer copy")
        assert wh.loaded_claims([key]) == {key: (second, "copy.docx")}


def test_a_form_loaded_again_in_the_batch_has_its_claims_reported(wh, ctx):
    first = _record(wh, "table_total_row.docx", ctx).submission_id
    key = _grace_key()
    with wh.transaction():
        wh.prefetch_claims([key])
        wh.change_status(first, "rejected", "admin", "reject", "sent by mistake")
        assert wh.loaded_claims([key]) == {}
        wh.change_status(first, "loaded", "admin", "accept", "it was right after all")
        assert wh.loaded_claims([key]) == {key: (first, "table_total_row.docx")}


def test_a_claim_of_a_form_recorded_in_the_batch_is_found_after_an_earlier_one_is_superseded(wh, ctx):
    """Both forms recorded in one batch: the status change writes them out, and the claim of the
    one still loaded must then be found among the rows written."""
    key = _grace_key()
    with wh.transaction():
        wh.prefetch_claims([key])
        first = _record_copy(wh, ctx, "first.docx").submission_id
        second = _record_copy(wh, ctx, "second.docx").submission_id
        assert wh.loaded_claims([key]) == {key: (first, "first.docx")}
        wh.supersede(first, second, "admin", "a newer copy")
        assert wh.loaded_claims([key]) == {key: (second, "second.docx")}


def test_values_read_from_a_scan_are_marked_ocr_with_both_readings_and_typed_ones_text(wh, ctx):
    from pipeline.forms.extract import extract
    from pipeline.forms.spec import all_specs
    from pipeline.validate.form import validate_form
    from tests.validate.test_ocr import _voucher_scan

    spec = all_specs()["voucher"]
    validated = validate_form(extract(_voucher_scan(), spec), spec, ctx)
    scanned = ParsedFile(
        "voucher", validated.model, validated.problems, [], validated.locations, "scan", readings=validated.readings
    )
    scan_id = decide_and_record(wh, Provenance("scan.jpg"), "a" * 64, scanned).submission_id
    typed_id = _record(wh, "table_total_row.docx", ctx).submission_id
    sources = dict(wh.rows("SELECT submission_id, min(source) FROM voucher_lines GROUP BY submission_id"))
    assert sources == {scan_id: "ocr", typed_id: "text"}
    reading = wh.rows(
        "SELECT location, source, reading FROM value_sources WHERE submission_id = :id AND field = 'lines.2.amount'",
        id=scan_id,
    )
    assert [tuple(r) for r in reading] == [
        ("page 1, table 1, row 3, column 5", "ocr", "rapidocr: '£15.00'; tesseract: '£15.00'")
    ]
    typed = wh.rows("SELECT DISTINCT source, reading FROM value_sources WHERE submission_id = :id", id=typed_id)
    assert [tuple(r) for r in typed] == [("text", None)]
