"""The warehouse reads behind the reports and the admin's tools, each by a name that says what it returns.

They read the documented views (docs/warehouse.md: `submissions`, `exceptions`, `voucher_lines`,
...), the schema the council's data team uses too, so a report and a query of theirs agree. A few
need what no view gives; those read a `store` table, and each says which and why. The tables may
change where the views do not: this module is then the one place to look.

(The summary page's one-line counts over the views stay in pipeline.reports.summary_page, beside
the figures they make.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlalchemy as sa

    from pipeline.store.warehouse import Warehouse

# ------------------------------------------------------------ voucher_reconciliation.xlsx

# Loaded figures come from the voucher_lines view (the summary page's "Vouchers claimed" too).
# Held forms' lines are in no view (voucher_lines shows loaded forms only): store.voucher_lines.
_VOUCHER_CONTROL_TOTALS = """
WITH held_lines AS (
    SELECT l.amount FROM store.voucher_lines l JOIN submissions s USING (submission_id) WHERE s.status = 'held'
), forms AS (
    SELECT status, count(*) AS n FROM submissions WHERE form_type = 'voucher' GROUP BY status
)
SELECT
    (SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM forms WHERE status = 'loaded') AS forms_loaded,
    (SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM forms WHERE status = 'held') AS forms_held,
    (SELECT count(*) FROM voucher_lines) AS lines_loaded,
    (SELECT coalesce(sum(amount), 0) FROM voucher_lines) AS pounds_loaded,
    (SELECT count(*) FROM held_lines) AS lines_held,
    (SELECT coalesce(sum(amount), 0) FROM held_lines) AS pounds_held,
    (SELECT count(*) FROM voucher_lines WHERE NOT signed) AS unsigned_lines,
    (SELECT coalesce(sum(amount), 0) FROM voucher_lines WHERE NOT signed) AS pounds_unsigned
"""


def voucher_control_totals(warehouse: Warehouse) -> sa.Row:
    """forms_loaded, forms_held, lines_loaded, pounds_loaded, lines_held, pounds_held,
    unsigned_lines, pounds_unsigned: over every year."""
    return warehouse.one(_VOUCHER_CONTROL_TOTALS)


def _loaded_lines_grouped(warehouse: Warehouse, key_sql: str) -> list[sa.Row]:
    return warehouse.rows(f"""
        SELECT {key_sql} AS k, count(*) AS lines, count(DISTINCT submission_id) AS forms, sum(amount) AS pounds,
               sum(time_spent_minutes) AS minutes
        FROM voucher_lines GROUP BY 1""")


def loaded_lines_by_month(warehouse: Warehouse) -> list[sa.Row]:
    """(month's first day, lines, forms, pounds, minutes) per month of the line's date, unordered."""
    return _loaded_lines_grouped(warehouse, "date_trunc('month', date)")


def loaded_lines_by_activity(warehouse: Warehouse) -> list[sa.Row]:
    """(activity, lines, forms, pounds, minutes) per activity, unordered."""
    return _loaded_lines_grouped(warehouse, "activity")


def loaded_lines_in_form_order(warehouse: Warehouse) -> list[sa.Row]:
    """(name, submission_id, amount, time_spent_minutes) of every loaded line, by form and line."""
    return warehouse.rows(
        "SELECT name, submission_id, amount, time_spent_minutes FROM voucher_lines ORDER BY submission_id, line_no"
    )


def claimed_lines(warehouse: Warehouse) -> list[sa.Row]:
    """(submission_id, line_no, name, date, amount, activity, source_file) of every loaded line with
    a name, a date and an amount, by date, form and line."""
    return warehouse.rows("""
        SELECT l.submission_id, l.line_no, l.name, l.date, l.amount, l.activity, s.source_file
        FROM voucher_lines l JOIN submissions s USING (submission_id)
        WHERE l.name IS NOT NULL AND l.date IS NOT NULL AND l.amount IS NOT NULL
        ORDER BY l.date, l.submission_id, l.line_no""")


# store.voucher_lines: a line's claim key and its place in the file are in no view.
_DOUBLE_CLAIM_LINES = """
WITH keyed AS (
    SELECT l.*, s.source_file, s.sender FROM store.voucher_lines l JOIN submissions s USING (submission_id)
    WHERE s.status = 'loaded' AND l.claim_key IS NOT NULL
)
SELECT claim_key, name, date, activity, amount, submission_id, line_no, source_file, sender, location
FROM keyed WHERE claim_key IN (
    SELECT claim_key FROM keyed GROUP BY claim_key HAVING count(DISTINCT submission_id) > 1)
"""


def double_claim_lines(warehouse: Warehouse) -> list[sa.Row]:
    """(claim_key, name, date, activity, amount, submission_id, line_no, source_file, sender,
    location) of the loaded lines whose claim key is on more than one loaded form, unordered."""
    return warehouse.rows(_DOUBLE_CLAIM_LINES)


# store.voucher_lines: held forms' lines, each line's place in the file and its claim key are in no view.
_LOADED_AND_HELD_LINES = """
SELECT s.status, l.submission_id, l.line_no, l.name, l.date, l.activity, l.time_spent_minutes, l.amount,
       l.signed, s.source_file, s.container_file, l.location, s.sender{extra}
FROM store.voucher_lines l JOIN submissions s USING (submission_id)
WHERE s.status IN ('loaded', 'held')
ORDER BY s.status DESC, l.date NULLS LAST, l.submission_id, l.line_no"""


def loaded_and_held_lines(warehouse: Warehouse) -> list[sa.Row]:
    """(status, submission_id, line_no, name, date, activity, time_spent_minutes, amount, signed,
    source_file, container_file, location, sender) of every line of a loaded or held form: the
    loaded first, each by date (undated last), form and line."""
    return warehouse.rows(_LOADED_AND_HELD_LINES.format(extra=""))


def loaded_and_held_lines_with_claim_keys(warehouse: Warehouse) -> list[sa.Row]:
    """As loaded_and_held_lines, each row ending with the line's claim_key: the one read of the voucher
    lines that every figure of voucher_reconciliation.xlsx is made from (pipeline.reports.vouchers),
    so the lines are fetched once, not once per sheet."""
    return warehouse.rows(_LOADED_AND_HELD_LINES.format(extra=", l.claim_key"))


def voucher_forms_by_status(warehouse: Warehouse) -> dict[str, int]:
    """The number of voucher forms of each status (a form without a line counts too)."""
    return dict(warehouse.rows("SELECT status, count(*) FROM submissions WHERE form_type = 'voucher' GROUP BY status"))


# ------------------------------------------------------------ exceptions.xlsx, `coforms exceptions`

# store.problems, not the exceptions view: the rows of one form are in the order its problems were
# found (problem_no), which the view does not give.
_PROBLEMS = """
SELECT s.received_at, s.submission_id, s.status, p.severity, p.code, p.message, p.location, p.value,
       s.sender, s.subject, s.source_file, s.container_file, s.form_type, p.field, p.state, p.resolved_at,
       p.resolution, p.resolved_by_audit
FROM store.problems p JOIN submissions s USING (submission_id)
WHERE p.state IN :states
ORDER BY s.received_at DESC NULLS LAST, s.submission_id DESC, p.severity, p.problem_no
"""


def problems_newest_first(warehouse: Warehouse, states: list[str]) -> list[sa.Row]:
    """(received_at, submission_id, status, severity, code, message, location, value, sender,
    subject, source_file, container_file, form_type, field, state, resolved_at, resolution,
    resolved_by_audit: the action that resolved it) of every problem in one of `states`: the newest
    form first, each form's errors first."""
    return warehouse.rows(_PROBLEMS, states=states)


# ------------------------------------------------------------ reply drafts (pipeline.admin.replies)

# store.submissions and store.problems: a reply threads by its email's Message-ID, and lists a
# form's problems in the order they were found (problem_no); neither is in a view.
_OPEN_PROBLEMS_OF_EMAILS = """
SELECT s.container_file, s.sender, s.subject, s.message_id, s.received_at, s.submission_id, s.source_file,
       s.form_type, s.status, p.severity, p.code, p.message, p.location, p.value, p.field
FROM store.submissions s JOIN store.problems p USING (submission_id)
WHERE s.submission_id IN :ids AND s.container_file IS NOT NULL AND s.sender IS NOT NULL
  AND p.code <> 'sender_not_allowed' AND p.state = 'open'  -- not what a correction already fixed
ORDER BY s.container_file, s.submission_id, p.severity, p.problem_no
"""


def open_problems_of_emails(warehouse: Warehouse, submission_ids: list[int]) -> list[sa.Row]:
    """(container_file, sender, subject, message_id, received_at, submission_id, source_file,
    form_type, status, severity, code, message, location, value, field) of the open problems of those
    of `submission_ids` that came by email (not sender_not_allowed: no reply goes to such a
    sender), by email file, form and problem."""
    return warehouse.rows(_OPEN_PROBLEMS_OF_EMAILS, ids=submission_ids)


# ------------------------------------------------------------ `coforms run`'s summary


def corrections_linked(warehouse: Warehouse, submission_ids: list[int]) -> list[sa.Row]:
    """(audit_id, old submission_id, its file, new submission_id, its file) of each correction the
    pipeline linked to one of `submission_ids`: the admin may `coforms undo` a link that was wrong."""
    if not submission_ids:
        return []
    return warehouse.rows(
        "SELECT a.audit_id, a.submission_id, o.source_file, a.related_submission_id, n.source_file "
        "FROM audit a JOIN submissions o ON o.submission_id = a.submission_id "
        "JOIN submissions n ON n.submission_id = a.related_submission_id "
        "WHERE a.actor = 'pipeline' AND a.action = 'supersede' "
        "AND (a.related_submission_id IN :ids OR a.submission_id IN :ids) ORDER BY a.audit_id",
        ids=submission_ids,
    )


# ------------------------------------------------------------ `coforms check` (pipeline.admin.check)


def warehouse_counts(warehouse: Warehouse) -> tuple[int, int | None, int | None, int, int]:
    """(submissions, the last submission_id, the last audit_id, open exceptions, resolved exceptions):
    whether the reports still show the warehouse as it is (pipeline.reports.freshness)."""
    submissions, last_submission = warehouse.one("SELECT count(*), max(submission_id) FROM submissions")
    (last_action,) = warehouse.one("SELECT max(audit_id) FROM audit")
    open_problems, resolved_problems = warehouse.one(
        "SELECT count(*) FILTER (WHERE state = 'open'), count(*) FILTER (WHERE state <> 'open') FROM exceptions"
    )
    return submissions, last_submission, last_action, open_problems, resolved_problems


def intake_records(warehouse: Warehouse) -> list[sa.Row]:
    """(intake_id, item_sha256, file_name, parts, finished_at) of every file taken from the inbox.

    store.intake: the pipeline's own record of what it took, which no view publishes."""
    return warehouse.rows("SELECT intake_id, item_sha256, file_name, parts, finished_at FROM store.intake")


def submissions_per_intake_part(warehouse: Warehouse) -> list[sa.Row]:
    """(intake_id, part_no, submissions recorded for it).

    store.submissions: which intake and part a submission came from is not in the view."""
    return warehouse.rows(
        "SELECT intake_id, part_no, count(*) FROM store.submissions WHERE intake_id IS NOT NULL GROUP BY 1, 2"
    )


def deleted_original_files(warehouse: Warehouse) -> set[str]:
    """SHA-256 of the originals deleted on purpose (`coforms retention`, `coforms erase`).

    store.deleted_originals: the view `submissions` shows it per submission (original_deleted_at),
    but an email file (an intake) is no submission."""
    return {r[0] for r in warehouse.rows("SELECT sha256 FROM store.deleted_originals")}


def submission_files(warehouse: Warehouse) -> list[sa.Row]:
    """(submission_id, sha256, status) of every submission."""
    return warehouse.rows("SELECT submission_id, sha256, status FROM submissions")
