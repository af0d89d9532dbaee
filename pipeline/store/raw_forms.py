"""A form's raw reading (pipeline.forms.raw.RawForm) as JSON text, kept in store.raw_forms.

A value the admin corrects or confirms is validated again from the reading the run made
(pipeline.runtime.correct), not from a second reading of the file: a scan read again by OCR
takes seconds and may not read the same. JSON, not pickle: the warehouse may be a shared server,
and reading a row back must never run code. Only the reading's own classes are rebuilt (named
in _CLASSES), and the typed values an Excel cell can hold (dates, times, numbers).

A reading keeps no more about a person than the form's values do (`kept_reading`): a full
postcode is cut to its outward code, as the monitoring view keeps it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

from pipeline.document import Location, Reading
from pipeline.forms.raw import DisputedTick, RawChoice, RawForm, RawRow, RawValue, Tick
from pipeline.forms.spec import all_specs
from schemas.values import ValueProblem, postcode_district

_CLASSES = {cls.__name__: cls for cls in (RawForm, RawValue, RawChoice, RawRow, Tick, DisputedTick, Location, Reading)}
_NO_DEFAULT = object()
# each class's fields and their defaults (a default list or dict made by a factory counts as empty)
_DEFAULTS = {
    cls: {
        f.name: f.default
        if f.default is not dataclasses.MISSING
        else (f.default_factory() if f.default_factory is not dataclasses.MISSING else _NO_DEFAULT)
        for f in dataclasses.fields(cls)
    }
    for cls in _CLASSES.values()
}
# typed cell values: tag -> (type, to text, from text); datetime before date (a datetime is a date)
_VALUES = {
    "datetime": (dt.datetime, dt.datetime.isoformat, dt.datetime.fromisoformat),
    "date": (dt.date, dt.date.isoformat, dt.date.fromisoformat),
    "time": (dt.time, dt.time.isoformat, dt.time.fromisoformat),
    "timedelta": (dt.timedelta, lambda d: repr(d.total_seconds()), lambda s: dt.timedelta(seconds=float(s))),
    "decimal": (Decimal, str, Decimal),
}


class NotStorable(TypeError):
    """A reading holding a value of a type this module does not know (it is then not kept)."""


def _plain(value: object) -> object:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    defaults = _DEFAULTS.get(type(value))
    if defaults is not None:  # a field at its default is left out (most are: a value has no box, no reading)
        kept = {}
        for name, default in defaults.items():
            field_value = getattr(value, name)
            if field_value is not default and field_value != default:
                kept[name] = _plain(field_value)
        return {"$class": type(value).__name__, **kept}
    for tag, (kind, to_text, _) in _VALUES.items():
        if isinstance(value, kind):
            return {"$" + tag: to_text(value)}
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return {"$tuple": items} if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$dict": {k: _plain(v) for k, v in value.items()}}
    raise NotStorable(f"a {type(value).__name__} in a form's reading")


def _rebuilt(value: object) -> object:
    if isinstance(value, list):
        return [_rebuilt(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$class" in value:
        cls = _CLASSES[value["$class"]]  # KeyError for anything else: never an arbitrary class
        return cls(**{k: _rebuilt(v) for k, v in value.items() if k != "$class"})
    if "$tuple" in value:
        return tuple(_rebuilt(v) for v in value["$tuple"])
    if "$dict" in value:
        return {k: _rebuilt(v) for k, v in value["$dict"].items()}
    (tag, text), *_ = value.items()
    return _VALUES[tag[1:]][2](text)


def raw_form_json(raw: RawForm) -> str:
    return json.dumps(_plain(raw), ensure_ascii=False, separators=(",", ":"))


def raw_form_from_json(text: str) -> RawForm:
    raw = _rebuilt(json.loads(text))
    if not isinstance(raw, RawForm):
        raise ValueError("not a form's reading")
    return raw


def outward_only(text: str | None) -> str | None:
    """A postcode cut to its outward code (text that is not a postcode stays as it is)."""
    if text is None:
        return None
    try:
        return postcode_district(text)
    except ValueProblem:
        return text  # not a postcode: kept, as the problem about it keeps it


def kept_reading(raw: RawForm) -> RawForm:
    """The reading as the warehouse keeps it: each postcode cut to its outward code (a full one is
    an address; the form's value and its readings keep only the outward code either way)."""
    spec = all_specs().get(raw.form_type)
    postcodes = [f.name for f in spec.header if f.type == "PostcodeDistrict"] if spec else []
    fields = dict(raw.fields)
    for name in (n for n in postcodes if n in fields):
        value = fields[name]
        reading = value.reading
        if reading is not None:
            reading = dataclasses.replace(
                reading, text=outward_only(reading.text), second_text=outward_only(reading.second_text)
            )
        fields[name] = dataclasses.replace(
            value, text=outward_only(value.text), second_text=outward_only(value.second_text), reading=reading
        )
    return dataclasses.replace(raw, fields=fields) if postcodes else raw
