"""One person, one key (pipeline.validate.names): look-alike spellings of a name are one person."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from pipeline.document import Location
from pipeline.forms.raw import RawForm, RawRow, RawValue
from pipeline.forms.spec import all_specs
from pipeline.problems import ProblemCode
from pipeline.store import database
from pipeline.store.warehouse import Warehouse
from pipeline.validate.form import Context, validate_form
from pipeline.validate.names import claim_key, person_key

# One person, Grace Adeyemi, as seven sheets wrote her: plain, a Cyrillic "а", full-width letters,
# a no-break space, a zero-width joiner, a zero-width space, and upper case with two spaces.
GRACE = [
    "Grace Adeyemi",
    "Gr\u0430ce Adeyemi",
    "\uff27\uff52\uff41\uff43\uff45 \uff21\uff44\uff45\uff59\uff45\uff4d\uff49",
    "Grace\u00a0Adeyemi",
    "Gra\u200dce Adeyemi",
    "Grace Ade\u200byemi",
    "GRACE  ADEYEMI",
]
DAY = dt.date(2025, 5, 6)


def test_look_alike_spellings_of_one_name_are_one_person():
    assert len({person_key(name) for name in GRACE}) == 1
    assert len({claim_key(name, DAY, "Workshop 1") for name in GRACE}) == 1


@pytest.mark.parametrize("other", ["Grace Adeyemi-Cole", "Grace Adeyemo", "Gracie Adeyemi", "Adeyemi Grace"])
def test_different_names_stay_different_people(other):
    assert person_key(other) != person_key(GRACE[0])


def test_a_claim_needs_a_name_a_date_and_an_activity():
    assert claim_key("", DAY, "Workshop 1") is None
    assert claim_key("Grace Adeyemi", None, "Workshop 1") is None
    assert claim_key("Grace Adeyemi", DAY, None) is None
    assert claim_key(GRACE[1], DAY, "Workshop 1") != claim_key(GRACE[1], DAY + dt.timedelta(days=1), "Workshop 1")


def _voucher(names: list[str]) -> RawForm:
    def cell(text: str) -> RawValue:
        return RawValue(text, Location(sheet="Vouchers", cell="A1"))

    rows = [
        RawRow(
            i,
            {
                "name": cell(name),
                "date": cell("06/05/2025"),
                "activity": cell("Workshop 1"),
                "time_spent": cell("2 hours"),
                "amount": cell("£20"),
                "signed": cell("GA"),
            },
            Location(sheet="Vouchers", cell=f"A{i + 5}"),
        )
        for i, name in enumerate(names, start=1)
    ]
    return RawForm("voucher", {"project_name": cell("Carers Week"), "completed_by": cell("Tom Okafor")}, rows=rows)


def test_every_repeat_of_a_claim_on_one_sheet_is_flagged_whatever_the_spelling():
    validated = validate_form(_voucher(GRACE), all_specs()["voucher"], Context(today=dt.date(2025, 6, 1)))
    repeats = [p for p in validated.problems if p.code is ProblemCode.POSSIBLE_DUPLICATE_CLAIM]
    assert [p.field for p in repeats] == [f"lines.{i}" for i in range(2, len(GRACE) + 1)]
    # the form keeps each name as it was written (its spaces tidied, as every text value's are)
    assert [line.name for line in validated.model.lines] == [" ".join(name.split()) for name in GRACE]


def _old_key(name: str, date: dt.date, activity: str) -> str:
    from pipeline.forms.labels import normalise

    return f"{normalise(name)}|{date.isoformat()}|{normalise(activity)}"


def _at_revision_0002(conn) -> None:
    """The schema as it was before person keys (a server database comes already at the newest)."""
    from alembic import command

    database.migrate(conn, "0002")
    if database.current_revision(conn) != "0002":
        conn.commit()
        command.downgrade(database._alembic_config(conn), "0002")
        conn.commit()
    assert database.current_revision(conn) == "0002"


def test_a_warehouse_made_before_person_keys_has_its_claim_keys_recomputed(warehouse_target):
    """Lines stored with the old key (lower-case words) are found by the new one once migrated
    (on each backend: a DuckDB file, then a PostgreSQL database)."""
    target = warehouse_target
    engine = database.make_engine(database.warehouse_url(target))
    with engine.connect() as conn:
        _at_revision_0002(conn)
        conn.execute(
            sa.text(
                "INSERT INTO store.submissions (submission_id, form_type, source_file, sha256, status, "
                "loaded_at) VALUES (1, 'voucher', 'old.xlsx', 'ab12', 'loaded', '2025-05-07 10:00')"
            )
        )
        for line_no, name in enumerate(GRACE[:3], start=1):
            conn.execute(
                sa.text(
                    "INSERT INTO store.voucher_lines (submission_id, line_no, name, date, activity, "
                    "amount, signed, claim_key) VALUES (1, :n, :name, :date, 'Workshop 1', 20, true, :key)"
                ),
                {"n": line_no, "name": name, "date": DAY, "key": _old_key(name, DAY, "Workshop 1")},
            )
        conn.commit()
        database.migrate(conn)
        keys = {r[0] for r in conn.execute(sa.text("SELECT claim_key FROM store.voucher_lines"))}
        assert keys == {claim_key(GRACE[0], DAY, "Workshop 1")}
        conn.commit()
    engine.dispose()
    with Warehouse(target) as wh:
        key = claim_key(GRACE[5], DAY, "Workshop 1")
        assert wh.loaded_claims([key]) == {key: (1, "old.xlsx")}
