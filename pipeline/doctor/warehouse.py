"""The warehouse: reachable (the DuckDB file, or the PostgreSQL server) and at this pipeline's
schema version (pipeline.store.database.HEAD_REVISION), as `coforms migrate` would leave it."""

from __future__ import annotations

from pipeline.doctor.runner import Finding, failed, ok, warning
from pipeline.settings import Settings

CHECK = "Warehouse"


def check_warehouse(settings: Settings) -> Finding:
    from pipeline.store import database

    try:
        url = database.warehouse_url(settings.warehouse)
    except database.UnsupportedWarehouse as exc:
        return failed(CHECK, str(exc), "Set warehouse_url to a postgresql:// URL, or unset it for the DuckDB file.")
    where = database.sa.engine.make_url(url).render_as_string(hide_password=True)
    path = database.embedded_path(url)
    if path is not None and not path.exists():
        return warning(
            CHECK,
            f"there is no warehouse yet at {path}.",
            "Run `coforms run` once (or wait for the first scheduled run): it creates the warehouse.",
        )
    engine = database.make_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            revision = database.current_revision(conn)
    except Exception as exc:
        if database.is_lock_error(exc):
            return warning(
                CHECK, f"a run is using {where} right now.", "Run `coforms doctor` again when the run has finished."
            )
        first_line = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fix = (
            "Check that the database server is running and that warehouse_url (host, user, password, "
            "database) is right."
            if path is None
            else f"Check that {path} is a coforms warehouse this account can read; restore it from a backup if not."
        )
        return failed(CHECK, f"{where} cannot be opened: {first_line}", fix)
    finally:
        engine.dispose()
    return _schema_finding(where, revision, embedded=path is not None)


def _schema_finding(where: str, revision: str | None, embedded: bool) -> Finding:
    from pipeline.store.database import HEAD_REVISION

    if revision == HEAD_REVISION:
        return ok(CHECK, f"{where} answers, at schema {revision}.")
    if revision is None:
        return failed(
            CHECK,
            f"{where} holds no coforms schema.",
            "Run `coforms migrate` to create the tables (for a new PostgreSQL database), "
            "or check that warehouse_url names the right database.",
        )
    if revision > HEAD_REVISION:  # revisions are zero-padded numbers: "0005" < "0006"
        return failed(
            CHECK,
            f"{where} is at schema {revision}, made by a newer coforms than this one (schema {HEAD_REVISION}).",
            "Install the newer coforms version that made it (or restore a backup made by this one).",
        )
    said = f"{where} is at schema {revision}; this coforms needs {HEAD_REVISION}."
    if embedded:  # an embedded warehouse is upgraded when a run opens it
        return warning(CHECK, said, "The next run upgrades it; to do it now, run `coforms migrate`.")
    return failed(CHECK, said, "Run `coforms migrate` (runs refuse this warehouse until it is upgraded).")
