"""Annotated pydantic types for form values. Every field is optional at the type level:
required-ness is in the form specs, so a held form still yields every value that was valid.
Errors are raised as PydanticCustomError whose type is a problem code."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from schemas import values


def _problem(exc: values.ValueProblem) -> PydanticCustomError:
    return PydanticCustomError(exc.code, exc.message)


# control characters other than tab and newline: a form never needs them, and PostgreSQL refuses NUL
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _blank_to_none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = _CONTROL.sub("", value)
        value = "\n".join(line.strip() for line in value.strip().splitlines()).strip()
        return value or None
    return value


def _parse_with(parser):
    def validate(value: Any) -> Any:
        value = _blank_to_none(value)
        if value is None:
            return None
        try:
            return parser(value)
        except values.ValueProblem as exc:
            raise _problem(exc) from exc

    return validate


def _not_in_future(value: dt.date | None, info: ValidationInfo) -> dt.date | None:
    today = (info.context or {}).get("today") or dt.date.today()
    if value is not None and value > today:
        raise PydanticCustomError("future_date", "{date} is in the future.", {"date": value.strftime("%d/%m/%Y")})
    return value


def _one_line(value: Any) -> Any:
    """Names, activities, project names: a PDF cell or a narrow column wraps them over lines."""
    value = _blank_to_none(value)
    if isinstance(value, str):
        value = " ".join(value.split())
    return value


Text = Annotated[str | None, BeforeValidator(_blank_to_none)]
SingleLine = Annotated[str | None, BeforeValidator(_one_line)]
PastDate = Annotated[dt.date | None, BeforeValidator(_parse_with(values.parse_uk_date)), AfterValidator(_not_in_future)]
Money = Annotated[Decimal | None, BeforeValidator(_parse_with(values.parse_money))]


def _minutes(value: Any) -> Any:
    # An int is already minutes (a normalised value, e.g. from the warehouse); text and
    # Excel time cells are parsed, where a bare number means hours.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _parse_with(values.parse_duration_minutes)(value)


Minutes = Annotated[int | None, BeforeValidator(_minutes)]
PostcodeDistrict = Annotated[str | None, BeforeValidator(_parse_with(values.postcode_district))]
# Whether the recipient signed. The cell decides (its text, a ticked box, or a picture of a
# signature: values.is_signed) before the model sees it, as the model gets only the answer.
Signed = bool


def _names(value: Any) -> Any:
    if isinstance(value, str):
        return values.split_names(value)
    return value or []


NameList = Annotated[list[str], BeforeValidator(_names)]


def _single_choice(value: Any) -> Any:
    """Ticked options -> the one answer; none ticked -> None; several -> ambiguous_answer."""
    if not isinstance(value, list):
        return _blank_to_none(value)
    distinct = list(dict.fromkeys(value))
    if len(distinct) > 1:
        raise PydanticCustomError(
            "ambiguous_answer", "{n} boxes are ticked: {options}.", {"n": len(distinct), "options": ", ".join(distinct)}
        )
    return distinct[0] if distinct else None


def single_choice(literal_type: Any) -> Any:
    return Annotated[literal_type | None, BeforeValidator(_single_choice)]
