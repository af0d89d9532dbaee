from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from schemas.values import (
    ValueProblem,
    duration_unit_is_assumed,
    is_signed,
    parse_duration_minutes,
    parse_money,
    parse_uk_date,
    postcode_district,
    split_names,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("03/04/2025", dt.date(2025, 4, 3)),  # day first
        ("3/4/25", dt.date(2025, 4, 3)),
        ("3 April 2025", dt.date(2025, 4, 3)),
        ("3rd Apr 25", dt.date(2025, 4, 3)),
        ("2025-04-03", dt.date(2025, 4, 3)),  # ISO stays year-month-day
        ("12/07/202\n4", dt.date(2024, 7, 12)),  # a PDF cell wrapped inside the year
        (dt.datetime(2025, 4, 3, 0, 0), dt.date(2025, 4, 3)),  # an Excel date cell
    ],
)
def test_uk_dates(text, expected):
    assert parse_uk_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2025", "April 2025", "soon", "13/13/2025", "2025-02-30"])
def test_bad_dates_are_invalid_date(text):
    with pytest.raises(ValueProblem) as err:
        parse_uk_date(text)
    assert err.value.code == "invalid_date"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("£10", Decimal("10.00")),
        ("10.00", Decimal("10.00")),
        ("£10.50", Decimal("10.50")),
        ("£1,000", Decimal("1000.00")),
        (10.5, Decimal("10.50")),
        (20, Decimal("20.00")),
        ("GBP 15", Decimal("15.00")),
        (10.1 + 0.2, Decimal("10.30")),  # a spreadsheet sum's binary noise is the penny amount it shows
        (10.005, None),  # fractions of a penny are refused, not rounded
    ],
)
def test_money_is_exact_decimal(value, expected):
    if expected is None:
        with pytest.raises(ValueProblem):
            parse_money(value)
    else:
        got = parse_money(value)
        assert got == expected and isinstance(got, Decimal) and got.as_tuple().exponent == -2


@pytest.mark.parametrize("value", ["£0", "-5", "ten pounds", "£10.005", True, "£", "10 vouchers"])
def test_bad_money_is_invalid_amount(value):
    with pytest.raises(ValueProblem) as err:
        parse_money(value)
    assert err.value.code == "invalid_amount"


@pytest.mark.parametrize(
    "text, minutes, assumed",
    [
        ("2 hours", 120, False),
        ("2hrs", 120, False),
        ("1.5h", 90, False),
        ("90 mins", 90, False),
        ("1h30", 90, False),
        ("1:30", 90, False),
        ("1 hour 30 minutes", 90, False),
        ("2", 120, True),
        ("1.5", 90, True),
        (dt.time(1, 30), 90, False),
        (dt.timedelta(minutes=45), 45, False),
    ],
)
def test_durations(text, minutes, assumed):
    assert parse_duration_minutes(text) == minutes
    assert duration_unit_is_assumed(text) is assumed


@pytest.mark.parametrize("text", ["half an hour", "all day", "25 hours", "0", "1:75"])
def test_bad_durations(text):
    with pytest.raises(ValueProblem) as err:
        parse_duration_minutes(text)
    assert err.value.code == "unparseable_duration"


@pytest.mark.parametrize(
    "text, image, signed",
    [
        ("G Adeyemi", False, True),
        ("", False, False),
        ("No", False, False),
        ("n", False, False),
        ("-", False, False),
        ("", True, True),
        ("✓", False, True),
    ],
)
def test_signatures(text, image, signed):
    assert is_signed(text, None, image) is signed


def test_leads_split_on_every_separator():
    assert split_names("Amy Jones, Bob & Carol and Dan; Eve\nFrank") == [
        "Amy Jones",
        "Bob",
        "Carol",
        "Dan",
        "Eve",
        "Frank",
    ]
    assert split_names("Andrew Anderson") == ["Andrew Anderson"]  # 'and' inside a name is not a separator


@pytest.mark.parametrize(
    "text, district", [("NW1 2DB", "NW1"), ("nw12db", "NW1"), ("WC1H", "WC1H"), ("N7", "N7"), ("EC1V 9HX", "EC1V")]
)
def test_postcode_is_cut_to_outward_code(text, district):
    assert postcode_district(text) == district


def test_not_a_postcode():
    with pytest.raises(ValueProblem):
        postcode_district("Camden")
