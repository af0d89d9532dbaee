"""Writing the changes retention and erasure make: values replaced where they are, an audit row
for the whole action, and the check that finance's totals did not move.

Both actions change names into pseudonyms, never amounts, dates or lines: voucher_reconciliation.xlsx
must add up to the same pounds after them as before. `finance_figures` reads the figures finance
signs off (with the queries behind the workbook), each recipient's lines grouped as one person,
and the action is rolled back if any figure differs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable

from pipeline.privacy.places import Found, Place, as_json, replace_strings
from pipeline.privacy.pseudonyms import is_pseudonym, pseudonym
from pipeline.reports import queries
from pipeline.store.warehouse import Warehouse
from pipeline.validate.names import claim_key


class TotalsWouldChange(Exception):
    """A retention run or an erasure would have moved finance's totals: nothing was changed."""

    plain_prefix = "Not done: "


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _where(place: Place) -> str:
    return " AND ".join(f"{k} = :k{i}" for i, k in enumerate(place.keys))


def rewrite(warehouse: Warehouse, found: Iterable[Found], change: Callable[[Found], str | None]) -> Counter:
    """Each found value replaced by `change(found)` (a value left as it was is not written); a
    voucher line's claim key follows its name. The count of values changed, per table."""
    changed: Counter = Counter()
    readings: dict[int, list[Found]] = {}
    for item in found:
        if item.place.table == "raw_forms":  # a kept reading: its strings, all at once below
            readings.setdefault(item.submission_id, []).append(item)
            continue
        new = change(item)
        if new == item.value:
            continue
        place = item.place
        params = {f"k{i}": key for i, key in enumerate(item.keys)}
        warehouse.execute(
            f"UPDATE store.{place.table} SET {place.column} = :new WHERE {_where(place)} AND {place.column} = :old",
            new=new,
            old=item.value,
            **params,
        )
        if place.table == "voucher_lines" and place.column == "name":
            for date, activity in warehouse.rows(
                f"SELECT date, activity FROM store.voucher_lines WHERE {_where(place)}", **params
            ):
                warehouse.execute(
                    f"UPDATE store.voucher_lines SET claim_key = :key WHERE {_where(place)}",
                    key=claim_key(new, date, activity),
                    **params,
                )
        changed[place.table] += 1
    for sid, items in readings.items():
        # a reading keeps text where text was: a value cleared becomes empty text
        by_text = {item.value: change(item) or "" for item in items}
        (raw,) = warehouse.one("SELECT raw FROM store.raw_forms WHERE submission_id = :id", id=sid)
        new = as_json(replace_strings(json.loads(raw), lambda text, table=by_text: table.get(text, text)))
        if new != raw:
            warehouse.execute("UPDATE store.raw_forms SET raw = :raw WHERE submission_id = :id", raw=new, id=sid)
            changed["raw_forms"] += 1
    return changed


def audit(warehouse: Warehouse, actor: str, action: str, reason: str, now: dt.datetime) -> int:
    """One audit row for an action over many submissions (no submission of its own)."""
    audit_id = warehouse.one("SELECT nextval('store.audit_ids')")[0]
    warehouse.execute(
        "INSERT INTO store.audit (audit_id, acted_at, actor, action, submission_id, related_submission_id, "
        "old_status, new_status, reason, undoes_audit_id) "
        "VALUES (:id, :now, :actor, :action, NULL, NULL, NULL, NULL, :reason, NULL)",
        id=audit_id,
        now=now,
        actor=actor,
        action=action,
        reason=reason,
    )
    return audit_id


def _sorted(rows) -> list[tuple]:
    return sorted((tuple(row) for row in rows), key=repr)


def finance_figures(warehouse: Warehouse, key: bytes) -> tuple:
    """What voucher_reconciliation.xlsx adds up: the control totals, per month, per activity, and
    per recipient (each person's lines, forms, pounds and minutes, as a multiset: a person's name
    may become a pseudonym, but no line may move from one person to another). A name and its
    stable pseudonym are one person here (`key`: the pseudonyms' key)."""
    per_person: dict[str | None, list] = {}
    for name, sid, amount, minutes in queries.loaded_lines_in_form_order(warehouse):
        person = None if name is None else (name.strip() if is_pseudonym(name) else pseudonym(name, key))
        row = per_person.setdefault(person, [0, set(), 0, 0])
        row[0] += 1
        row[1].add(sid)
        row[2] += amount or 0
        row[3] += minutes or 0
    return (
        tuple(queries.voucher_control_totals(warehouse)),
        _sorted(queries.loaded_lines_by_month(warehouse)),
        _sorted(queries.loaded_lines_by_activity(warehouse)),
        sorted((lines, len(forms), pounds, minutes) for lines, forms, pounds, minutes in per_person.values()),
        len(queries.double_claim_lines(warehouse)),
    )


def check_totals(before: tuple, after: tuple) -> None:
    if before != after:
        raise TotalsWouldChange(
            "finance's totals would have changed, so nothing was changed. This is a fault in coforms: "
            "please report it (the details are in coforms.log)."
        )
