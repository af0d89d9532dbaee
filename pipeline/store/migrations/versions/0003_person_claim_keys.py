"""Voucher lines' claim keys recomputed with the person key (pipeline.validate.names).

A claim key (name | date | activity) used to compare names by their words in lower case only, so
one person written with a Cyrillic "а", full-width letters or an invisible zero-width space was
several people: her double claims went unflagged. Lines stored before this revision keep such
keys; double claims are found by comparing stored keys (the report, and each new form against
history), so the stored ones are recomputed here with the new key, once.

Only the keys that change are written: a temporary table of (name, date, activity, new key), then
one UPDATE joining it, which both DuckDB and PostgreSQL run in a single pass. Going back restores
the old keys the same way.

Unlike 0001, this revision calls the pipeline's own key function: the keys must be the ones the
pipeline computes for new lines. A later change of that function comes with its own revision.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_CHUNK = 500  # rows to one INSERT (a multi-row VALUES: fast on DuckDB, unlike one row at a time)


def _old_claim_key(name: str, date, activity: str) -> str:
    from pipeline.forms.labels import normalise

    return f"{normalise(name)}|{date.isoformat()}|{normalise(activity)}"


def _new_claim_key(name: str, date, activity: str) -> str | None:
    from pipeline.validate.names import claim_key

    return claim_key(name, date, activity)


def _rekey(key: Callable[[str, object, str], str | None]) -> None:
    conn = op.get_bind()
    changed = []
    for name, date, activity, stored in conn.execute(
        sa.text("SELECT DISTINCT name, date, activity, claim_key FROM store.voucher_lines WHERE claim_key IS NOT NULL")
    ):
        new = key(name, date, activity)
        if new != stored:
            changed.append({"name": name, "date": date, "activity": activity, "claim_key": new})
    if not changed:
        return
    conn.execute(
        sa.text("CREATE TEMPORARY TABLE rekeyed_claims (name VARCHAR, date DATE, activity VARCHAR, claim_key VARCHAR)")
    )
    rekeyed = sa.table(
        "rekeyed_claims", sa.column("name"), sa.column("date"), sa.column("activity"), sa.column("claim_key")
    )
    for start in range(0, len(changed), _CHUNK):
        conn.execute(rekeyed.insert().values(changed[start : start + _CHUNK]))
    conn.execute(
        sa.text(
            "UPDATE store.voucher_lines SET claim_key = r.claim_key FROM rekeyed_claims r "
            "WHERE store.voucher_lines.name = r.name AND store.voucher_lines.date = r.date "
            "AND store.voucher_lines.activity = r.activity AND store.voucher_lines.claim_key IS NOT NULL"
        )
    )
    conn.execute(sa.text("DROP TABLE rekeyed_claims"))


def upgrade() -> None:
    _rekey(_new_claim_key)


def downgrade() -> None:
    _rekey(_old_claim_key)
