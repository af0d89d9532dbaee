"""What the privacy tests read back: the warehouse's rows, finance's figures, the archive."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from pipeline.reports import queries
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse
from pipeline.validate.names import person_key


def rows(settings: Settings, sql: str, **params) -> list[tuple]:
    with Warehouse(settings.warehouse) as warehouse:
        return [tuple(r) for r in warehouse.rows(sql, **params)]


def finance(settings: Settings) -> tuple:
    """The control totals, and each recipient's (lines, pounds) as finance's By recipient sheet groups
    them (by person key; a name and its stable pseudonym are one person), as a multiset: names may
    change, who got what may not."""
    from pipeline.privacy.pseudonyms import existing_key, pseudonym

    key = existing_key(settings.outputs)
    with Warehouse(settings.warehouse) as warehouse:
        control = tuple(queries.voucher_control_totals(warehouse))
        per_person = defaultdict(lambda: [0, 0])
        for name, _sid, amount, _minutes in queries.loaded_lines_in_form_order(warehouse):
            group = per_person[pseudonym(name, key) if key else person_key(name)]
            group[0] += 1
            group[1] += amount or 0
    return control, sorted(tuple(g) for g in per_person.values())


def everything(settings: Settings) -> dict:
    """Every view and the store's tables a privacy action may change, and the files under outputs
    (by path and size): what a dry run must leave as it was."""
    with Warehouse(settings.warehouse) as warehouse:
        state = warehouse.view_contents()
        for table in ("raw_forms", "problems", "voucher_lines", "intake", "audit", "deleted_originals"):
            state[table] = sorted(tuple(r) for r in warehouse.rows(f"SELECT * FROM store.{table}"))
    skip = {"coforms.log", ".coforms.lock"}
    state["files"] = sorted(
        (str(p.relative_to(settings.outputs)), p.stat().st_size)
        for p in settings.outputs.rglob("*")
        if p.is_file() and p.name not in skip and "tmp" not in p.relative_to(settings.outputs).parts
    )
    return state


def loaded_long_ago(settings: Settings, source_files: list[str], years: float) -> None:
    """Pretend these files' forms (and the intake they came in) were loaded `years` ago."""
    when = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=round(365.25 * years))
    with Warehouse(settings.warehouse) as warehouse, warehouse.transaction():
        warehouse.execute(
            "UPDATE store.submissions SET loaded_at = :when WHERE source_file IN :files", when=when, files=source_files
        )


def archived(settings: Settings, sha256: str) -> bool:
    return (settings.archive_dir / sha256[:2] / sha256).is_file()


def text_of_outputs(outputs: Path, suffixes=(".xlsx", ".html")) -> str:
    """The reports' text (xlsx unzipped), to look for a name in."""
    import zipfile

    texts = []
    for path in outputs.rglob("*"):
        if path.suffix == ".xlsx" and "subject-access" not in path.parts:
            with zipfile.ZipFile(path) as book:
                texts.extend(book.read(n).decode("utf-8", "replace") for n in book.namelist() if n.endswith(".xml"))
        elif path.suffix == ".html":
            texts.append(path.read_text("utf-8", errors="replace"))
    return "\n".join(texts)
