"""Every status change can be undone (issue 19): which action resolved each exception, which undid which.

`coforms undo ACTION_ID` puts a submission back as it was before an audited action and reopens
exactly the exceptions that action resolved. For that the warehouse records:
- store.problems gains `resolved_by_audit`: the audit row of the action that resolved the problem;
- store.audit gains `undoes_audit_id`: on an `undo` row, the action it undid;
- the view `exceptions` shows `resolved_by_audit_id` (a new last column);
- the view `audit` shows `undoes_audit_id`, `undone_by_audit_id` (the undo that reversed this
  action) and `can_undo`: true for the actions `coforms undo` accepts now. An action can be undone
  when it is not an undo, has not been undone, and every later action on the same submission has
  been undone (undo the latest first, as with any undo).

Problems resolved before this revision are credited to the first audited action whose words
they carry (`replaced by submission 12`, `accepted: ...`, `rejected: ...`), so that actions taken
before the upgrade can be undone too.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_RESOLUTION_OF_AUDIT = (
    "CASE a.action WHEN 'supersede' THEN 'replaced by submission ' || CAST(a.related_submission_id AS VARCHAR) "
    "WHEN 'accept' THEN 'accepted: ' || a.reason WHEN 'reject' THEN 'rejected: ' || a.reason END"
)

_EXCEPTIONS_0001 = """
CREATE VIEW exceptions AS
SELECT p.submission_id, s.source_file, s.container_file, s.sender, p.severity, p.code, p.field, p.location,
       p.message, p.value, p.state, p.resolved_at, p.resolution
FROM store.problems p JOIN store.submissions s USING (submission_id)
"""

_AUDIT_0001 = """
CREATE VIEW audit AS
SELECT audit_id, acted_at, actor, action, submission_id, related_submission_id, old_status, new_status, reason
FROM store.audit
"""

# An undone action: an undo row names it. Shared by undone_by_audit_id and can_undo.
_UNDONE = "EXISTS (SELECT 1 FROM store.audit u WHERE u.undoes_audit_id = {row}.audit_id)"

COLUMNS = """
ALTER TABLE store.problems ADD COLUMN IF NOT EXISTS resolved_by_audit BIGINT;
ALTER TABLE store.audit ADD COLUMN IF NOT EXISTS undoes_audit_id BIGINT
"""

UPGRADE = f"""
UPDATE store.problems SET resolved_by_audit = (
    SELECT min(a.audit_id) FROM store.audit a
    WHERE a.submission_id = store.problems.submission_id AND store.problems.resolution = {_RESOLUTION_OF_AUDIT}
) WHERE state = 'resolved' AND resolved_by_audit IS NULL;
DROP VIEW IF EXISTS exceptions;
CREATE VIEW exceptions AS
SELECT p.submission_id, s.source_file, s.container_file, s.sender, p.severity, p.code, p.field, p.location,
       p.message, p.value, p.state, p.resolved_at, p.resolution, p.resolved_by_audit AS resolved_by_audit_id
FROM store.problems p JOIN store.submissions s USING (submission_id);
DROP VIEW IF EXISTS audit;
CREATE VIEW audit AS
SELECT a.audit_id, a.acted_at, a.actor, a.action, a.submission_id, a.related_submission_id, a.old_status,
       a.new_status, a.reason, a.undoes_audit_id,
       (SELECT max(u.audit_id) FROM store.audit u WHERE u.undoes_audit_id = a.audit_id) AS undone_by_audit_id,
       (a.action <> 'undo' AND NOT {_UNDONE.format(row="a")} AND NOT EXISTS (
           SELECT 1 FROM store.audit l WHERE l.submission_id = a.submission_id AND l.audit_id > a.audit_id
           AND l.action <> 'undo' AND NOT {_UNDONE.format(row="l")})) AS can_undo
FROM store.audit a
"""

DOWNGRADE = f"""
DROP VIEW IF EXISTS audit;
{_AUDIT_0001};
DROP VIEW IF EXISTS exceptions;
{_EXCEPTIONS_0001};
ALTER TABLE store.audit DROP COLUMN IF EXISTS undoes_audit_id;
ALTER TABLE store.problems DROP COLUMN IF EXISTS resolved_by_audit
"""


# PostgreSQL only, as in 0002: the audit view looks each action's undo and later actions up, and
# without these listing what can be undone over 16,000 actions took 7.6 s (DuckDB: 7 ms unindexed)
SERVER_INDEXES = {
    "audit_undoes_audit_id": "store.audit (undoes_audit_id)",
    "audit_submission_id": "store.audit (submission_id, audit_id)",
}


def _on_server() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _run(sql: str) -> None:
    for statement in (s.strip() for s in sql.split(";")):
        if statement:
            op.execute(statement)


def upgrade() -> None:
    _run(COLUMNS)
    if _on_server():  # before the UPDATE below, which looks each resolved problem's actions up
        for name, target in SERVER_INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
    _run(UPGRADE)


def downgrade() -> None:
    if _on_server():
        for name in SERVER_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS store.{name}")
    _run(DOWNGRADE)
