"""The warehouse: internal tables in schema `store`, the public views beside them.

The same code writes an embedded DuckDB file or a PostgreSQL server (pipeline.store.database); the
schema itself is made by the versioned migrations in pipeline/store/migrations. The views are the
documented interface (README, "Warehouse views"); the tables behind them may change. Every
submission is written in one transaction. Held and rejected submissions are kept in the store
tables too (with failed values null), but the form views show loaded submissions only.

The warehouse stores; it does not decide. What becomes of a form (duplicate, loaded, held,
superseded, the versions it replaces, the claims made before) is decided by
pipeline.history.decide, which reads earlier forms through the look-ups here (`first_with_sha256`,
`known_projects`, `loaded_claims`, `replaceable_with_key`, `replaceable_of_project`); `record`
then writes what its Decision says.

Writes inside a batch are kept in memory and sent at the commit as one multi-row INSERT per
table (DuckDB pays about a millisecond per statement, and a server a round trip, so per-form
INSERTs cost more than the parsing). Look-ups made before the commit (seen this SHA-256?
claimed already? known project?) consult those pending rows too, so recording in a batch gives
what one-by-one would. The look-ups' answers are kept for the batch in caches (a statement per
batch, not per form), which a status change updates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from pipeline.crash import crash_point
from pipeline.files import private_dir
from pipeline.forms.labels import normalise
from pipeline.forms.spec import all_specs
from pipeline.records import Decision, EarlierForm, ParsedFile, Provenance
from pipeline.store import database
from pipeline.store.raw_forms import NotStorable, kept_reading, raw_form_json
from schemas import EvaluationForm, MonitoringForm, PlanningForm, VoucherForm
from schemas.evaluation import THEME_NAMES

log = logging.getLogger(__name__)

SCHEMA_VERSION = database.HEAD_REVISION
REPLACEABLE = ("loaded", "held", "rejected")  # statuses a correction (or the admin) may still change
PLANNING_SECTIONS = tuple(s.name for s in all_specs()["planning"].sections)

PUBLIC_VIEWS = (
    "submissions",
    "exceptions",
    "audit",
    "planning",
    "planning_leads",
    "evaluation",
    "evaluation_scores",
    "evaluation_feedback",
    "evaluation_themes",
    "monitoring",
    "monitoring_circumstances",
    "voucher_lines",
    "value_sources",
    "value_corrections",
)


class CorrectionNotUndoneThisWay(Exception):
    """An undo of a correction asked of change_status (which would leave the corrected values)."""


@dataclass(frozen=True)
class Recorded:
    submission_id: int
    status: str
    duplicate_of: int | None = None


def _insert_rows(conn: sa.Connection, table: str, rows: list[list]) -> None:
    """Many rows at once, in each engine's bulk way. SQLAlchemy's executemany runs a statement per
    row, and its compiler costs more than the insert for a few thousand values."""
    if not rows:
        return
    if conn.dialect.name == "duckdb":
        # one list per column, unnested in step: DuckDB binds a list as one value, about 14 times
        # faster than a parameter per value (and the values' types are kept: Decimal stays exact)
        columns = tuple(list(column) for column in zip(*rows, strict=False))
        conn.exec_driver_sql(
            f"INSERT INTO {table} SELECT * FROM (SELECT {', '.join(['unnest(?)'] * len(columns))})", columns
        )
    else:  # PostgreSQL (pipeline.store.database allows no other): COPY, on this connection so in this transaction
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _statement(sql: str, params: dict) -> sa.TextClause:
    """A text statement with :named parameters; a list parameter is expanded (`x IN :ids`)."""
    statement = sa.text(sql)
    lists = [name for name, value in params.items() if isinstance(value, (list, tuple, set, frozenset))]
    if lists:
        statement = statement.bindparams(*(sa.bindparam(name, expanding=True) for name in lists))
    return statement


class _PendingRows:
    """Rows waiting for the commit, per table (in the order tables were first written)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[list]] = {}

    def add(self, table: str, rows: list[list]) -> None:
        if rows:
            self.rows.setdefault(table, []).extend(rows)

    def holds_submission(self, submission_id: int) -> bool:
        return any(row[0] == submission_id for row in self.rows.get(_SUBMISSION_COLUMNS, ()))

    def flush(self, conn: sa.Connection) -> None:
        for table, rows in self.rows.items():
            _insert_rows(conn, table, rows)
        self.rows.clear()


_SUBMISSION_COLUMNS = (
    "store.submissions (submission_id, form_type, source_file, container_file, sender, subject, "
    "received_at, message_id, sha256, status, project_name, loaded_at, duplicate_of, notes, "
    "intake_id, part_no, correction_key, superseded_by)"
)


def replaced_by_text(submission_id: int) -> str:
    """How an exception of a superseded form was resolved (the same words however it happened)."""
    return f"replaced by submission {submission_id}"


def _utc_naive(moment: dt.datetime | None) -> dt.datetime | None:
    """As stored: UTC without a zone."""
    if moment is not None and moment.tzinfo is not None:
        return moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def warehouse_exists(target: Path | str) -> bool:
    """Has a run created the warehouse yet (the file, or our tables in the database)?"""
    return database.exists(database.warehouse_url(target))


class Warehouse:
    """One connection to the warehouse: a DuckDB file path, or a database URL."""

    def __init__(self, target: Path | str, read_only: bool = False):
        self.url = database.warehouse_url(target)
        self.path = database.embedded_path(self.url)  # None for a server
        if self.path is not None and not read_only:
            private_dir(self.path.parent)
        self._engine = database.make_engine(self.url, read_only)
        try:
            self.conn = self._engine.connect()
        except sa.exc.DBAPIError as exc:
            self._engine.dispose()
            if database.is_lock_error(exc):
                raise database.WarehouseBusy(str(self.path)) from exc
            raise
        self._forget_pending()
        if not read_only:
            self._check_schema()

    def _forget_pending(self) -> None:
        """Drop everything not yet committed (and the caches that may have seen it)."""
        self._pending = _PendingRows()
        self._first_by_sha: dict[str, int | None] = {}  # sha256 -> first non-duplicate submission
        self._pending_claims: dict[str, tuple[int, str]] = {}  # loaded voucher lines not yet committed
        # claim key -> (submission, file) of committed loaded lines, by submission; read by
        # prefetch_claims, dropped at each commit, and updated (or dropped) when a status changes
        self._committed_claims: dict[str, list[tuple[int, str]]] = {}
        self._pending_projects: set[str] = set()
        self._open_intakes: dict[int, list] = {}  # intake id -> its pending row
        self._intake_of: dict[tuple[str, str, int], int | None] = {}  # (sha256, name, mtime) -> first intake
        self._reserved: dict[str, list[int]] = {"submission_ids": [], "intake_ids": []}
        self._replaceable: _ReplaceableIndex | None = None  # loaded on first use

    def close(self) -> None:
        if self.conn.in_transaction():  # reads end cleanly; unfinished writes are undone
            self.conn.rollback() if self._writing else self.conn.commit()
        self.conn.close()
        self._engine.dispose()

    # ------------------------------------------------------------ SQL

    def rows(self, sql: str, **params) -> list[sa.Row]:
        """The rows of a query (:named parameters; a list parameter for `IN :name`)."""
        rows = self.conn.execute(_statement(sql, params), params).fetchall()
        self._end_read()
        return rows

    def one(self, sql: str, **params) -> sa.Row | None:
        row = self.conn.execute(_statement(sql, params), params).fetchone()
        self._end_read()
        return row

    def execute(self, sql: str, **params) -> None:
        self.conn.execute(_statement(sql, params), params)

    def _end_read(self) -> None:
        """A read outside our transactions is its own (SQLAlchemy began one): end it, so that no
        transaction is left open on a server while files are being parsed."""
        if not self._writing:
            self.conn.commit()

    _in_batch = False  # in transaction(): record() leaves the commit to it
    _writing = False  # in a transaction this class began

    @contextmanager
    def transaction(self):
        """One transaction around many records (a batch): all of it is committed, or none."""
        self._begin()
        self._in_batch = True
        try:
            yield
            self._commit()
        except BaseException:
            self._rollback()
            raise
        finally:
            self._in_batch = False

    def _begin(self) -> None:
        if self.conn.in_transaction():
            self.conn.commit()
        self.conn.begin()
        self._writing = True

    def _flush(self) -> None:
        """Send the pending rows now (still inside the transaction)."""
        self._pending.flush(self.conn)
        self._open_intakes.clear()  # written: finishing one is an UPDATE from now on

    def _commit(self) -> None:
        self._flush()
        self.conn.commit()
        self._writing = False
        self._pending_claims.clear()
        self._committed_claims.clear()
        self._pending_projects.clear()
        self._open_intakes.clear()
        self._intake_of.clear()
        self._reserved = {"submission_ids": [], "intake_ids": []}

    def _rollback(self) -> None:
        self.conn.rollback()
        self._writing = False
        self._forget_pending()

    def reserve_ids(self, submissions: int, intakes: int) -> None:
        """Take ids for a batch from the sequences in two statements instead of one per row."""
        for sequence, n in (("submission_ids", submissions), ("intake_ids", intakes)):
            if n > 0:
                self._reserved[sequence] = [
                    r[0]
                    for r in self.conn.execute(
                        sa.text(f"SELECT nextval('store.{sequence}') AS id FROM generate_series(1, :n) ORDER BY id"),
                        {"n": n},
                    ).fetchall()
                ][::-1]

    def _next_id(self, sequence: str) -> int:
        reserved = self._reserved[sequence]
        if reserved:
            return reserved.pop()
        return self.conn.execute(sa.text(f"SELECT nextval('store.{sequence}')")).scalar()

    def view_contents(self, leave_out: Iterable[str] = ()) -> dict[str, list[tuple]]:
        """Every public view's rows, sorted, without the columns `leave_out` (ids, times): what
        two warehouses fed the same files must agree on."""
        out = {}
        for view in PUBLIC_VIEWS:
            result = self.conn.execute(sa.text(f"SELECT * FROM {view}"))
            keep = [i for i, column in enumerate(result.keys()) if column not in leave_out]
            out[view] = sorted((tuple(row[i] for i in keep) for row in result), key=repr)
        self._end_read()
        return out

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_schema(self) -> None:
        """An embedded warehouse is migrated on opening; a server one must be at this version."""
        revision = database.current_revision(self.conn)
        if revision != database.HEAD_REVISION:
            if self.path is None:
                self.conn.rollback()
                raise database.WarehouseNotMigrated(
                    f"The warehouse database is at schema {revision or '(none)'}, this pipeline needs "
                    f"{database.HEAD_REVISION}: run `coforms migrate` first."
                )
            database.migrate(self.conn)
        elif self.conn.in_transaction():
            self.conn.commit()
        if self.path is not None and self.path.exists():
            self.path.chmod(0o600)

    # ------------------------------------------------------------ look-ups used before a commit

    def first_with_sha256(self, sha256: str) -> int | None:
        if sha256 not in self._first_by_sha:
            self.prefetch_sha256([sha256])
        return self._first_by_sha[sha256]

    def prefetch_sha256(self, sha256s: Iterable[str]) -> None:
        """Look many SHA-256s up in one statement (first_with_sha256 then answers from memory)."""
        wanted = [s for s in dict.fromkeys(sha256s) if s not in self._first_by_sha]
        if not wanted:
            return
        found = dict(
            self.rows(
                "SELECT sha256, min(submission_id) FROM store.submissions WHERE status <> 'duplicate' "
                "AND sha256 IN :wanted GROUP BY sha256",
                wanted=wanted,
            )
        )
        for sha in wanted:
            self._first_by_sha[sha] = found.get(sha)

    def known_projects(self) -> frozenset[str]:
        rows = self.rows(
            "SELECT DISTINCT project_name FROM store.submissions WHERE status = 'loaded' AND project_name IS NOT NULL"
        )
        return frozenset(r[0] for r in rows) | self._pending_projects

    def prefetch_claims(self, keys: Iterable[str]) -> None:
        """Look many claim keys up in one statement (loaded_claims then answers from memory)."""
        wanted = [k for k in dict.fromkeys(keys) if k and k not in self._committed_claims]
        if not wanted:
            return
        for key in wanted:
            self._committed_claims[key] = []
        for key, sid, source in self.rows(
            "SELECT l.claim_key, l.submission_id, s.source_file "
            "FROM store.voucher_lines l JOIN store.submissions s USING (submission_id) WHERE s.status = 'loaded' "
            "AND l.claim_key IN :keys ORDER BY l.submission_id",
            keys=wanted,
        ):
            self._committed_claims[key].append((sid, source))

    def loaded_claims(self, keys: Iterable[str], excluding: Iterable[int] = ()) -> dict[str, tuple[int, str]]:
        """Claim key -> (submission, file) of the first loaded voucher line with that key (leaving
        out the submissions `excluding`: the ones a correction replaces)."""
        keys, excluding = [k for k in keys if k], set(excluding)
        self.prefetch_claims(keys)
        claims: dict[str, tuple[int, str]] = {}
        for key in keys:  # committed lines came first; pending ones only where none was committed
            committed = next((c for c in self._committed_claims[key] if c[0] not in excluding), None)
            pending = self._pending_claims.get(key)
            if committed:
                claims[key] = committed
            elif pending and pending[0] not in excluding:
                claims[key] = pending
        return claims

    # ------------------------------------------------------------ earlier versions

    def _replaceables(self) -> _ReplaceableIndex:
        if self._replaceable is None:
            self._replaceable = _ReplaceableIndex()
            for sid, key, form_type, project, received, recorded in self.rows(
                "SELECT submission_id, correction_key, form_type, project_name, received_at, loaded_at "
                "FROM store.submissions WHERE status IN :statuses ORDER BY submission_id",
                statuses=list(REPLACEABLE),
            ):
                self._replaceable.add(key, EarlierForm(sid, form_type, project, received, recorded))
        return self._replaceable

    def replaceable_with_key(self, key: str) -> list[EarlierForm]:
        """Submissions still replaceable (REPLACEABLE) recorded under this correction key."""
        return self._replaceables().with_key(key)

    def replaceable_of_project(self, form_type: str, project: str) -> list[EarlierForm]:
        """Submissions of this form type still replaceable that name this project (as
        pipeline.forms.labels.normalise compares names)."""
        return self._replaceables().of_project(form_type, project)

    def supersede(self, old: int, new: int, actor: str, reason: str) -> None:
        """`old` is replaced by `new`: old becomes superseded, its open exceptions resolved."""
        self.change_status(old, "superseded", actor, "supersede", reason, related=new, resolution=replaced_by_text(new))

    def _next_audit_id(self) -> int:
        return self.conn.execute(sa.text("SELECT nextval('store.audit_ids')")).scalar()

    def _audit(
        self,
        audit_id: int,
        submission_id: int,
        related: int | None,
        old_status: str | None,
        new_status: str,
        actor: str,
        action: str,
        reason: str,
        undoes: int | None = None,
    ) -> None:
        self._pending.add(
            "store.audit",
            [[audit_id, _utc_now(), actor, action, submission_id, related, old_status, new_status, reason, undoes]],
        )
        self.last_audit_id = audit_id

    last_audit_id: int | None = None  # the audit row of the latest status change (what `coforms undo` takes)

    def change_status(
        self,
        submission_id: int,
        new_status: str,
        actor: str,
        action: str,
        reason: str,
        related: int | None = None,
        resolution: str | None = None,
        undoes: int | None = None,
    ) -> str:
        """Change a recorded submission's status, resolve its open exceptions (`resolution`) and
        audit it; returns the old status. An undo (`undoes`: the audit id of the action undone)
        reopens the exceptions that action resolved instead."""
        if undoes is not None:
            undone = self.one("SELECT action FROM store.audit WHERE audit_id = :id", id=undoes)
            if undone is not None and undone[0] == "correct":  # its values would stay corrected
                raise CorrectionNotUndoneThisWay(
                    f"Action {undoes} corrected a value: it is taken back by validating the form again without "
                    "the correction (coforms undo does that since corrections exist), not by a change of status."
                )
        flushed = self._pending.holds_submission(submission_id)
        if flushed:
            self._flush()  # recorded earlier in this batch: written now, so that the UPDATE finds it
        row = self.one("SELECT status FROM store.submissions WHERE submission_id = :id", id=submission_id)
        if row is None:
            raise KeyError(submission_id)
        now = _utc_now()
        audit_id = self._next_audit_id()  # first: the problems it resolves name it
        self.execute(
            "UPDATE store.submissions SET status = :status, superseded_by = :by WHERE submission_id = :id",
            status=new_status,
            by=related if new_status == "superseded" else None,
            id=submission_id,
        )
        if resolution:
            self.execute(
                "UPDATE store.problems SET state = 'resolved', resolved_at = :now, resolution = :why, "
                "resolved_by_audit = :audit WHERE submission_id = :id AND state = 'open'",
                now=now,
                why=resolution,
                audit=audit_id,
                id=submission_id,
            )
        if undoes is not None:
            self.execute(
                "UPDATE store.problems SET state = 'open', resolved_at = NULL, resolution = NULL, "
                "resolved_by_audit = NULL WHERE submission_id = :id AND resolved_by_audit = :undone",
                undone=undoes,
                id=submission_id,
            )
        self._audit(audit_id, submission_id, related, row[0], new_status, actor, action, reason, undoes)
        self._pending_claims = {k: v for k, v in self._pending_claims.items() if v[0] != submission_id}
        if flushed or new_status == "loaded":
            self._committed_claims.clear()  # rows just written or lines newly loaded: read again when asked
        else:  # the database differs from what was read only by this submission's lines, if it was loaded
            for claims in self._committed_claims.values():
                claims[:] = [claim for claim in claims if claim[0] != submission_id]
        if self._replaceable is not None:
            self._replaceable.remove(submission_id)
            if new_status in REPLACEABLE:
                self._replaceable = None  # rebuilt on next use
        return row[0]

    # ------------------------------------------------------------ a form validated again

    def rerecord(
        self,
        submission_id: int,
        parsed: ParsedFile,
        problems: list,
        actor: str,
        action: str,
        reason: str,
        corrections: Iterable[tuple[str, str | None, str, bool]] = (),
        corrected_paths: Iterable[str] = (),
        undoes: int | None = None,
    ) -> tuple[str, str]:
        """Replace a recorded submission's values and problems in place with those of `parsed`
        (the same form validated again after a correction, pipeline.runtime.correct), audited as
        `action` (`correct`, or the `undo` of one); returns (status before, status after).

        The submission keeps its id. Its problems are matched to the new ones by code, field and
        value: one still found stays as it was (an error the admin accepted stays accepted; one a
        correction resolved and now found again opens again); one no longer found is resolved by
        this action; a new one is added, open. The status is then loaded when no open error is
        left, else held. `corrections`: (field, before, after, confirmed) rows to keep with who
        and why; `corrected_paths`: every value now the admin's (stored with source 'corrected')."""
        if self._pending.holds_submission(submission_id):
            self._flush()
        row = self.one("SELECT status, form_type FROM store.submissions WHERE submission_id = :id", id=submission_id)
        if row is None:
            raise KeyError(submission_id)
        old_status, form_type = row
        now = _utc_now()
        audit_id = self._next_audit_id()
        why = f"{_RESOLVED_BY[action]}: {reason}"
        open_errors = self._match_problems(submission_id, problems, audit_id, now, why)
        new_status = "held" if open_errors else "loaded"
        for table in _VALUE_TABLES.get(form_type, ()) + ("store.value_locations",):
            self.execute(f"DELETE FROM {table} WHERE submission_id = :id", id=submission_id)
        self._add_values(submission_id, parsed, corrected_paths)
        self.execute(
            "UPDATE store.submissions SET status = :status, project_name = :project WHERE submission_id = :id",
            status=new_status,
            project=getattr(parsed.form, "project_name", None),
            id=submission_id,
        )
        self._pending.add(
            "store.value_corrections",
            [
                [submission_id, field, before, after, confirmed, actor, reason, now, audit_id]
                for field, before, after, confirmed in corrections
            ],
        )
        self._audit(audit_id, submission_id, None, old_status, new_status, actor, action, reason, undoes)
        self._committed_claims.clear()  # its lines changed: read again when asked
        self._replaceable = None
        self._flush()  # written now: what the action changed is read back inside its transaction
        return old_status, new_status

    def _match_problems(self, submission_id: int, problems: list, audit_id: int, now: dt.datetime, why: str) -> int:
        """The submission's stored problems brought in line with `problems` (see rerecord); the
        number of errors left open."""
        old = self.rows(
            "SELECT problem_no, code, field, value, state, resolution FROM store.problems "
            "WHERE submission_id = :id ORDER BY problem_no",
            id=submission_id,
        )
        unmatched = {r.problem_no: r for r in old}
        next_no = max((r.problem_no for r in old), default=0) + 1
        added, open_errors = [], 0
        for p in problems:
            key = (p.code.value, p.field, p.value)
            kept = next((r for r in unmatched.values() if (r.code, r.field, r.value) == key), None)
            if kept is None:
                added.append(
                    [submission_id, next_no, p.severity.value, p.code.value, p.field, p.location, p.message, p.value]
                    + ["open", None, None, None]
                )
                next_no += 1
                open_errors += p.severity.value == "error"
                continue
            del unmatched[kept.problem_no]
            reopen = kept.state == "resolved" and (kept.resolution or "").startswith(_CORRECTION_RESOLUTIONS)
            self.execute(
                "UPDATE store.problems SET severity = :severity, location = :location, message = :message"
                + (
                    ", state = 'open', resolved_at = NULL, resolution = NULL, resolved_by_audit = NULL"
                    if reopen
                    else ""
                )
                + " WHERE submission_id = :id AND problem_no = :no",
                severity=p.severity.value,
                location=p.location,
                message=p.message,
                id=submission_id,
                no=kept.problem_no,
            )
            open_errors += p.severity.value == "error" and (reopen or kept.state == "open")
        gone = [no for no, r in unmatched.items() if r.state == "open"]
        if gone:
            self.execute(
                "UPDATE store.problems SET state = 'resolved', resolved_at = :now, resolution = :why, "
                "resolved_by_audit = :audit WHERE submission_id = :id AND problem_no IN :gone",
                now=now,
                why=why,
                audit=audit_id,
                id=submission_id,
                gone=gone,
            )
        self._pending.add("store.problems", added)
        return open_errors

    # ------------------------------------------------------------ intake

    def begin_intake(
        self, item_sha256: str, file_name: str, mtime_ns: int, size: int, parts: int
    ) -> tuple[int, set[int]]:
        """The intake of this inbox file (resumed if a killed run had started it) and the parts
        of it already recorded."""
        # the same file (bytes, name and modification time) seen before: a run was killed after
        # starting it, or after finishing it but before removing it from the inbox
        key = (item_sha256, file_name, mtime_ns)
        if key not in self._intake_of:
            self.prefetch_intakes([key])
        started = self._intake_of[key]
        if started is not None:
            done = {r[0] for r in self.rows("SELECT part_no FROM store.submissions WHERE intake_id = :id", id=started)}
            return started, done
        intake_id = self._next_id("intake_ids")
        row = [intake_id, item_sha256, file_name, mtime_ns, size, parts, _utc_now(), None]
        self._pending.add("store.intake", [row])
        self._open_intakes[intake_id] = row
        return intake_id, set()

    def prefetch_intakes(self, keys: Iterable[tuple[str, str, int]]) -> None:
        """Look many inbox files (sha256, name, mtime_ns) up in one statement; begin_intake then
        answers from memory."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self._intake_of]
        if not wanted:
            return
        found = {
            (sha, name, mtime): intake_id
            for sha, name, mtime, intake_id in self.rows(
                "SELECT item_sha256, file_name, file_mtime_ns, min(intake_id) FROM store.intake "
                "WHERE item_sha256 IN :shas GROUP BY item_sha256, file_name, file_mtime_ns",
                shas=sorted({sha for sha, _, _ in wanted}),
            )
        }
        for key in wanted:
            self._intake_of[key] = found.get(key)

    def finish_intake(self, intake_id: int) -> None:
        pending = self._open_intakes.pop(intake_id, None)
        if pending is not None:
            pending[7] = _utc_now()  # not written yet: written finished
        else:  # an intake a killed run had started
            self.execute(
                "UPDATE store.intake SET finished_at = :now WHERE intake_id = :id", now=_utc_now(), id=intake_id
            )

    # ------------------------------------------------------------ the one write

    def record(
        self,
        provenance: Provenance,
        sha256: str,
        decision: Decision,
        now: dt.datetime | None = None,
        intake: tuple[int, int] | None = None,
    ) -> Recorded:
        """Write one submission as `decision` says (pipeline.history.decide) and everything read
        from it, in one transaction (or in the open batch's): the versions it supersedes become
        superseded; one superseded on arrival has its problems resolved."""
        now = now or dt.datetime.now(dt.UTC)
        if not self._in_batch:
            self._begin()
        try:
            submission_id = self._store(
                provenance, sha256, decision, now.astimezone(dt.UTC).replace(tzinfo=None), intake
            )
            if not self._in_batch:
                self._commit()
        except BaseException:
            if not self._in_batch:
                self._rollback()
            raise
        return Recorded(submission_id, decision.status.value, decision.duplicate_of)

    def _store(
        self, provenance: Provenance, sha256: str, decision: Decision, now: dt.datetime, intake: tuple[int, int] | None
    ) -> int:
        """The rows of one submission, pending until the commit (`now`: UTC, naive)."""
        parsed, status, replaced_by = decision.parsed, decision.status.value, decision.superseded_by
        form = parsed.form if parsed is not None else None
        form_type = parsed.form_type if parsed is not None else None
        project = getattr(form, "project_name", None)
        submission_id = self._next_id("submission_ids")
        received = _utc_naive(provenance.received_at)
        self._pending.add(
            _SUBMISSION_COLUMNS,
            [
                [
                    submission_id,
                    form_type,
                    provenance.source_file,
                    provenance.container_file,
                    provenance.sender,
                    provenance.subject,
                    received,
                    provenance.message_id,
                    sha256,
                    status,
                    project,
                    now,
                    decision.duplicate_of,
                    "; ".join(parsed.notes) if parsed and parsed.notes else None,
                    intake[0] if intake else None,
                    intake[1] if intake else None,
                    decision.correction_key,
                    replaced_by[0] if replaced_by else None,
                ]
            ],
        )
        crash_point("before_commit")
        # superseded on arrival: its problems are resolved by the audited supersede, which they name
        arrival = self._next_audit_id() if replaced_by else None
        resolved = [now, replaced_by_text(replaced_by[0]), arrival] if replaced_by else [None, None, None]
        self._pending.add(
            "store.problems",
            [
                [
                    submission_id,
                    i,
                    p.severity.value,
                    p.code.value,
                    p.field,
                    p.location,
                    p.message,
                    p.value,
                    "resolved" if replaced_by else "open",
                    *resolved,
                ]
                for i, p in enumerate(decision.problems, start=1)
            ],
        )
        if form is not None:
            self._add_values(submission_id, parsed)
            self._keep_reading(submission_id, parsed)
        self._remember(submission_id, sha256, decision, provenance.source_file)
        if replaced_by:
            self._audit(
                arrival,
                submission_id,
                replaced_by[0],
                None,
                "superseded",
                "pipeline",
                "supersede",
                f"{replaced_by[1]}, sent later but taken in first",
            )
        for old, why in decision.supersedes.items():
            self.supersede(old, submission_id, "pipeline", why)
        if self._replaceable is not None and status in REPLACEABLE:
            self._replaceable.add(
                decision.correction_key, EarlierForm(submission_id, form_type, project, received, now)
            )
        return submission_id

    def _add_values(self, submission_id: int, parsed: ParsedFile, corrected: Iterable[str] = ()) -> None:
        """The typed rows of a form's values and where each was found (`corrected`: the paths of
        values the admin keyed in, whose source is 'corrected')."""
        corrected = set(corrected)
        _LOADERS[parsed.form_type](self._pending, submission_id, parsed.form, parsed)
        self._pending.add(
            "store.value_locations",
            [
                [
                    submission_id,
                    f,
                    loc,
                    "corrected" if f in corrected else value_source(parsed, f),
                    None if f in corrected else parsed.readings.get(f),
                ]
                for f, loc in parsed.locations.items()
            ],
        )

    def _keep_reading(self, submission_id: int, parsed: ParsedFile) -> None:
        """The raw reading, for corrections later (pipeline.store.raw_forms); a reading holding a
        value it cannot store is not kept (the form is recorded all the same: typed files can be
        read again from the archive)."""
        if parsed.raw_json is not None:
            self._pending.add("store.raw_forms", [[submission_id, parsed.format, parsed.raw_json]])
            return
        if parsed.raw is None:
            return
        try:
            text = raw_form_json(kept_reading(parsed.raw))
        except NotStorable as exc:
            log.warning("submission %s: its reading is not kept for corrections (%s)", submission_id, exc)
            return
        self._pending.add("store.raw_forms", [[submission_id, parsed.format, text]])

    def _remember(self, submission_id: int, sha256: str, decision: Decision, source_file: str) -> None:
        """What the look-ups must see of a submission that is not committed yet."""
        if decision.duplicate_of is None:
            self._first_by_sha[sha256] = submission_id
        if decision.status.value != "loaded":
            return
        form = decision.parsed.form
        if getattr(form, "project_name", None):
            self._pending_projects.add(form.project_name)
        if decision.parsed.form_type == "voucher":
            for line in form.lines:
                if line.claim_key:
                    self._pending_claims.setdefault(line.claim_key, (submission_id, source_file))


class _ReplaceableIndex:
    """A cache of the submissions a later one may still replace, by correction key and by
    (form type, project named), for the look-ups decide makes (a statement per batch, not per
    form). Which of them a form does replace is decided in pipeline.history.corrections."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[int, EarlierForm]] = {}
        self.by_project: dict[tuple[str, str], dict[int, EarlierForm]] = {}
        self.keys: dict[int, tuple[str | None, tuple[str, str] | None]] = {}

    @staticmethod
    def _project_key(form_type: str | None, project: str | None) -> tuple[str, str] | None:
        named = normalise(project) if form_type and project else ""
        return (form_type, named) if named else None

    def add(self, key: str | None, earlier: EarlierForm) -> None:
        sid = earlier.submission_id
        if key:
            self.by_key.setdefault(key, {})[sid] = earlier
        project_key = self._project_key(earlier.form_type, earlier.project_name)
        if project_key:
            self.by_project.setdefault(project_key, {})[sid] = earlier
        self.keys[sid] = (key, project_key)

    def remove(self, sid: int) -> None:
        key, project_key = self.keys.pop(sid, (None, None))
        if key:
            self.by_key.get(key, {}).pop(sid, None)
        if project_key:
            self.by_project.get(project_key, {}).pop(sid, None)

    def with_key(self, key: str) -> list[EarlierForm]:
        return list(self.by_key.get(key, {}).values())

    def of_project(self, form_type: str, project: str) -> list[EarlierForm]:
        project_key = self._project_key(form_type, project)
        return list(self.by_project.get(project_key, {}).values()) if project_key else []


# ---------------------------------------------------------------- per-form loaders


def _load_planning(out: _PendingRows, sid: int, form: PlanningForm, parsed: ParsedFile) -> None:
    out.add(
        "store.planning",
        [
            [
                sid,
                form.project_name,
                form.date,
                form.residents_involved,
                *(getattr(form, name) for name in PLANNING_SECTIONS),
            ]
        ],
    )
    out.add("store.planning_leads", [[sid, i, name] for i, name in enumerate(form.project_leads or [], start=1)])


def _load_evaluation(out: _PendingRows, sid: int, form: EvaluationForm, parsed: ParsedFile) -> None:
    out.add(
        "store.evaluation",
        [
            [
                sid,
                form.project_name,
                form.date,
                form.completed_by,
                form.what_worked_well,
                form.what_could_be_improved,
                form.wider_learning,
                form.additional_feedback,
            ]
        ],
    )
    rows = []
    for principle in all_specs()["evaluation"].principles:
        for no, statement in enumerate(principle.statements, start=1):
            answer = form.statements.get(f"{principle.name}.{no}")
            rows.append([sid, principle.name, no, statement, answer.score if answer else None])
    out.add("store.evaluation_scores", rows)
    out.add("store.evaluation_feedback", [[sid, p, text] for p, text in (form.feedback or {}).items() if text])
    out.add("store.evaluation_themes", [[sid, THEME_NAMES[t]] for t in form.themes or []])


def _load_monitoring(out: _PendingRows, sid: int, form: MonitoringForm, parsed: ParsedFile) -> None:
    out.add(
        "store.monitoring",
        [
            [
                sid,
                form.project_name,
                form.date,
                form.age_band,
                form.gender,
                form.gender_self_description,
                form.trans,
                form.sexual_orientation,
                form.ethnicity,
                form.ethnic_group,
                form.religion,
                form.disability,
                form.carer,
                form.postcode_district,
            ]
        ],
    )
    out.add("store.monitoring_circumstances", [[sid, c] for c in form.circumstances or []])


def _load_voucher(out: _PendingRows, sid: int, form: VoucherForm, parsed: ParsedFile) -> None:
    out.add("store.voucher_forms", [[sid, form.project_name, form.completed_by, form.total]])
    out.add(
        "store.voucher_lines",
        [
            [
                sid,
                line.line_no,
                line.name,
                line.date,
                line.activity,
                line.time_spent_minutes,
                line.amount,
                line.signed,
                line.location,
                line.claim_key,
                _line_source(parsed, line.line_no),
            ]
            for line in form.lines
        ],
    )


# the tables of each form type's values (rewritten when a form is validated again)
_VALUE_TABLES = {
    "planning": ("store.planning", "store.planning_leads"),
    "evaluation": (
        "store.evaluation",
        "store.evaluation_scores",
        "store.evaluation_feedback",
        "store.evaluation_themes",
    ),
    "monitoring": ("store.monitoring", "store.monitoring_circumstances"),
    "voucher": ("store.voucher_forms", "store.voucher_lines"),
}
# how rerecord words the problems a correction (or its undo) resolved: found again, they open again
_RESOLVED_BY = {"correct": "corrected", "undo": "correction undone"}
_CORRECTION_RESOLUTIONS = tuple(f"{words}: " for words in _RESOLVED_BY.values())


def value_source(parsed: ParsedFile, path: str) -> str:
    """'ocr' for a value read from a picture, else 'text' (a scanned form's ticks are OCR'd too)."""
    return "ocr" if path in parsed.readings or parsed.format == "scan" else "text"


def _line_source(parsed: ParsedFile, line_no: int) -> str:
    prefix = f"lines.{line_no}."
    return "ocr" if parsed.format == "scan" or any(p.startswith(prefix) for p in parsed.readings) else "text"


_LOADERS = {
    "planning": _load_planning,
    "evaluation": _load_evaluation,
    "monitoring": _load_monitoring,
    "voucher": _load_voucher,
}
