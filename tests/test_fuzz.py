"""Fuzzing, bounded for CI: the value parsers with hypothesis, and real fixtures mutated
(structure-aware: inside their zip parts, and at byte level for PDFs) through every reader.
Only Problems may come out, never an unhandled exception."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.read.ticks import mark_state, normalise_glyphs
from pipeline.runtime.parse import parse_file
from pipeline.validate.form import Context
from schemas.values import (
    ValueProblem,
    is_signed,
    parse_duration_minutes,
    parse_money,
    parse_uk_date,
)
from tests.conftest import GOLDEN, TODAY

CTX = Context(today=TODAY)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW_FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
date_like = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\d{1,4}[/ .-]\d{1,2}[/ .-]\d{1,4}", fullmatch=True),
    st.dates().map(lambda d: d.strftime("%d %B %Y")),
)


@FUZZ
@given(date_like)
def test_dates_parse_or_say_why(text):
    try:
        result = parse_uk_date(text)
    except ValueProblem as exc:
        assert exc.code in ("invalid_date", "missing_required")
    else:
        assert isinstance(result, dt.date)


@FUZZ
@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_a_date_written_day_first_comes_back(date):
    assert parse_uk_date(date.strftime("%d/%m/%Y")) == date
    assert parse_uk_date(date.isoformat()) == date


@FUZZ
@given(st.one_of(st.text(max_size=30), st.floats(allow_nan=True), st.integers(), st.decimals(allow_nan=False)))
def test_money_is_exact_or_refused(value):
    try:
        amount = parse_money(value)
    except ValueProblem as exc:
        assert exc.code in ("invalid_amount", "missing_required")
    else:
        assert isinstance(amount, Decimal) and amount > 0 and amount == amount.quantize(Decimal("0.01"))


@FUZZ
@given(st.integers(min_value=1, max_value=99999), st.integers(min_value=0, max_value=99))
def test_pounds_and_pence_round_trip(pounds, pence):
    assert parse_money(f"£{pounds:,}.{pence:02d}") == Decimal(f"{pounds}.{pence:02d}")


@FUZZ
@given(st.one_of(st.text(max_size=25), st.floats(allow_nan=True), st.integers(), st.times(), st.timedeltas()))
def test_durations_are_minutes_within_a_day_or_refused(value):
    try:
        minutes = parse_duration_minutes(value)
    except ValueProblem as exc:
        assert exc.code in ("unparseable_duration", "missing_required")
    else:
        assert 0 < minutes <= 24 * 60


@FUZZ
@given(st.text(max_size=40), st.one_of(st.none(), st.booleans(), st.integers()), st.booleans())
def test_ticks_and_signatures_never_fail(text, value, image):
    assert mark_state(text, value) in (True, False, None)
    assert isinstance(is_signed(text, value, image), bool)
    assert len(normalise_glyphs(text)) == len(text)


ZIPPED = [GOLDEN / "evaluation" / "ticks_sdt.docx", GOLDEN / "voucher" / "libreoffice_sheet_cached_total.xlsx"]


def _mutate_zip(source: bytes, part_index: int, position: float, payload: bytes, cut: bool) -> bytes:
    """Change one XML part of an Office file: insert junk at a point, or cut it short there."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        xml_parts = [i for i in src.infolist() if i.filename.endswith(".xml")]
        target = xml_parts[part_index % len(xml_parts)].filename
        for item in src.infolist():
            body = src.read(item)
            if item.filename == target:
                at = int(len(body) * position)
                body = body[:at] if cut else body[:at] + payload + body[at:]
            dst.writestr(item.filename, body)
    return out.getvalue()


@SLOW_FUZZ
@given(
    st.sampled_from(ZIPPED),
    st.integers(0, 50),
    st.floats(0, 1),
    st.binary(max_size=40)
    | st.sampled_from([b"<", b"</w:t>", b"&lol;", b'<w:sym w:char="ZZ"/>', b"\xff\xfe", b'<c r="A1">']),
    st.booleans(),
)
def test_mutated_office_files_give_problems_not_exceptions(source, part, position, payload, cut):
    parsed = parse_file(_mutate_zip(source.read_bytes(), part, position, payload, cut), CTX)
    assert parsed.form is not None or parsed.problems


@SLOW_FUZZ
@given(st.floats(0, 1), st.binary(min_size=1, max_size=64), st.sampled_from(["flip", "cut", "insert"]))
def test_mutated_pdfs_give_problems_not_exceptions(position, payload, how):
    data = (GOLDEN / "voucher" / "pdf_table_total_row.pdf").read_bytes()
    at = int(len(data) * position)
    mutated = {
        "flip": data[:at] + payload + data[at + len(payload) :],
        "cut": data[:at],
        "insert": data[:at] + payload + data[at:],
    }[how]
    parsed = parse_file(mutated, CTX)
    assert parsed.form is not None or parsed.problems
