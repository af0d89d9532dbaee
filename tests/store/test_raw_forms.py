"""Migration 0006 and what it keeps: each form's raw reading (for corrections), the corrections
themselves, and a submission re-recorded in place, on each backend."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest

from pipeline.history.decide import decide_and_record
from pipeline.records import Provenance
from pipeline.runtime.correct import Correcting, correct
from pipeline.runtime.parse import parse_file
from pipeline.store import database
from pipeline.store.raw_forms import NotStorable, kept_reading, raw_form_from_json, raw_form_json
from pipeline.store.warehouse import Warehouse
from tests.conftest import GOLDEN


@pytest.mark.parametrize(
    "name",
    [
        "voucher/bad_amount_cap_unsigned_unit.docx",
        "voucher/sheet_numeric_amounts.xlsx",
        "monitoring/bad_two_ages.docx",
        "evaluation/bad_completed_by.xlsx",
        "planning/bad_blank_sections.docx",
    ],
)
def test_a_reading_comes_back_from_json_exactly_as_it_was(name, ctx):
    raw = parse_file((GOLDEN / name).read_bytes(), ctx).raw
    assert raw is not None
    assert raw_form_from_json(raw_form_json(raw)) == raw


def test_typed_cell_values_keep_their_types(ctx):
    raw = parse_file((GOLDEN / "voucher" / "sheet_numeric_amounts.xlsx").read_bytes(), ctx).raw
    back = raw_form_from_json(raw_form_json(raw))
    typed = [(c.value, b.value) for r, s in zip(raw.rows, back.rows, strict=True) for c, b in
             zip(r.cells.values(), s.cells.values(), strict=True) if c.value is not None]  # fmt: skip
    assert typed and all(type(a) is type(b) and a == b for a, b in typed)


def test_only_the_readings_own_classes_are_rebuilt():
    with pytest.raises(KeyError):
        raw_form_from_json(json.dumps({"$class": "Popen", "args": ["rm", "-rf", "/"]}))
    with pytest.raises(ValueError, match="not a form's reading"):
        raw_form_from_json(json.dumps({"$class": "Tick", "option": "x", "location": None}))


def test_a_value_of_an_unknown_type_is_not_stored(ctx):
    raw = parse_file((GOLDEN / "voucher" / "table_total_row.docx").read_bytes(), ctx).raw
    raw.fields["project_name"] = raw.fields["project_name"].__class__("x", value=object())
    with pytest.raises(NotStorable):
        raw_form_json(raw)


def _record(wh: Warehouse, ctx, name: str = "bad_amount_cap_unsigned_unit.docx"):
    data = (GOLDEN / "voucher" / name).read_bytes()
    return decide_and_record(wh, Provenance(name), hashlib.sha256(data).hexdigest(), parse_file(data, ctx))


def test_a_form_is_recorded_with_its_reading_and_corrected_in_place(warehouse_target, ctx, tmp_path):
    with Warehouse(warehouse_target) as wh:
        held = _record(wh, ctx)
        assert wh.one("SELECT format FROM store.raw_forms WHERE submission_id = :id", id=held.submission_id) == (
            "docx",
        )
        correct(wh, held.submission_id, "lines.1.amount", "10.00", "phoned", "Admin A", Correcting(ctx, tmp_path))
        assert wh.rows("SELECT submission_id, status FROM store.submissions") == [(held.submission_id, "held")]
        assert wh.one(
            "SELECT amount FROM store.voucher_lines WHERE submission_id = :id AND line_no = 1", id=held.submission_id
        ) == (Decimal("10.00"),)
        assert wh.rows("SELECT field, before, after, confirmed, actor, undone_by_audit_id FROM value_corrections") == [
            ("lines.1.amount", "£ten", "10.00", False, "Admin A", None)
        ]
        corrected_at = wh.one("SELECT corrected_at FROM value_corrections")[0]
        assert abs(corrected_at - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(minutes=5)


def test_0006_goes_down_and_up_again(warehouse_target, ctx):
    from alembic import command

    with Warehouse(warehouse_target) as wh:
        _record(wh, ctx)
        command.downgrade(database._alembic_config(wh.conn), "0005")
        wh.conn.commit()
        tables = (
            "SELECT table_name FROM information_schema.tables WHERE table_name IN ('raw_forms', 'value_corrections')"
        )
        assert wh.rows(tables) == []
        assert database.migrate(wh.conn) == ("0005", database.HEAD_REVISION)
        assert sorted(r[0] for r in wh.rows(tables)) == ["raw_forms", "value_corrections", "value_corrections"]


def test_the_kept_reading_holds_no_full_postcode(ctx, tmp_path):
    """A monitoring form's full postcode is an address: the warehouse keeps only its outward code,
    in the reading kept for corrections too."""
    data = (GOLDEN / "monitoring" / "vertical_glyph.docx").read_bytes()
    parsed = parse_file(data, ctx)
    assert parsed.raw.fields["postcode_district"].text == "NW5 2TX"  # as written on the form
    with Warehouse(tmp_path / "warehouse.duckdb") as wh:
        decide_and_record(wh, Provenance("m.docx"), hashlib.sha256(data).hexdigest(), parsed)
        kept = wh.one("SELECT raw FROM store.raw_forms")[0]
        assert "2TX" not in kept and '"text":"NW5"' in kept


def test_a_postcode_keyed_in_by_the_admin_is_kept_as_its_outward_code(ctx, tmp_path):
    data = (GOLDEN / "monitoring" / "vertical_glyph.docx").read_bytes()
    with Warehouse(tmp_path / "warehouse.duckdb") as wh:
        recorded = decide_and_record(wh, Provenance("m.docx"), hashlib.sha256(data).hexdigest(), parse_file(data, ctx))
        correct(
            wh, recorded.submission_id, "postcode_district", "NW1 2AB", "moved", "Admin A", Correcting(ctx, tmp_path)
        )
        assert wh.rows("SELECT before, after FROM value_corrections") == [("NW5", "NW1")]
        assert wh.rows("SELECT postcode_district FROM monitoring") == [("NW1",)]
        tables = wh.rows("SELECT table_schema || '.' || table_name FROM information_schema.tables")
        assert not [t for (t,) in tables if "2AB" in str(wh.rows(f"SELECT * FROM {t}"))]


def test_the_parsing_worker_writes_the_kept_reading_and_the_warehouse_keeps_it_as_written(ctx, tmp_path):
    # parse_safely (the worker's side) sends the reading back written out, postcode cut, in place
    # of the reading's objects: the run's process stores that text as it is
    from pipeline.runtime.parse import parse_safely

    data = (GOLDEN / "monitoring" / "vertical_glyph.docx").read_bytes()
    parsed = parse_safely(data, ctx)
    assert parsed.raw is None and parsed.raw_json == raw_form_json(kept_reading(parse_file(data, ctx).raw))
    with Warehouse(tmp_path / "warehouse.duckdb") as wh:
        decide_and_record(wh, Provenance("m.docx"), hashlib.sha256(data).hexdigest(), parsed)
        assert wh.one("SELECT raw FROM store.raw_forms")[0] == parsed.raw_json
