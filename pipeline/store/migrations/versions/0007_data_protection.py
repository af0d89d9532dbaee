"""Data protection (issue 21): retention, subject access and erasure (pipeline.privacy).

- store.deleted_originals: one row per original file (by SHA-256, the archive's name for it)
  deleted from the archive, when and why (`retention`: kept longer than the setting
  retention_originals_months; `erasure`: it named a person who asked to be erased). The warehouse
  keeps what was read from the file; the file itself is gone, and the review desk says so.
- store.submissions gains `names_pseudonymised_at` (the names on its voucher lines were replaced
  by stable pseudonyms, setting retention_names_years) and `free_text_cleared_at` (its free-text
  answers were cleared, setting retention_free_text_months).
- the view `submissions` shows `original_deleted_at`, `names_pseudonymised_at` and
  `free_text_cleared_at` (new last columns).
- store.audit.submission_id may be null: a retention run or an erasure is one audited action
  over many submissions (its reason holds the counts, never a name).
- the view `audit`: `retention` and `erase` can never be undone (what they removed is gone).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_SUBMISSIONS_0001 = """
CREATE VIEW submissions AS
SELECT submission_id, form_type, source_file, container_file, sender, subject, received_at, sha256, status,
       project_name, loaded_at, superseded_by
FROM store.submissions
"""

_SUBMISSIONS_0007 = """
CREATE VIEW submissions AS
SELECT s.submission_id, s.form_type, s.source_file, s.container_file, s.sender, s.subject, s.received_at, s.sha256,
       s.status, s.project_name, s.loaded_at, s.superseded_by,
       (SELECT d.deleted_at FROM store.deleted_originals d WHERE d.sha256 = s.sha256) AS original_deleted_at,
       s.names_pseudonymised_at, s.free_text_cleared_at
FROM store.submissions s
"""

_UNDONE = "EXISTS (SELECT 1 FROM store.audit u WHERE u.undoes_audit_id = {row}.audit_id)"


def _audit_view(never_undone: str) -> str:
    """The audit view of 0005, with the actions that can never be undone left out of can_undo."""
    return f"""
CREATE VIEW audit AS
SELECT a.audit_id, a.acted_at, a.actor, a.action, a.submission_id, a.related_submission_id, a.old_status,
       a.new_status, a.reason, a.undoes_audit_id,
       (SELECT max(u.audit_id) FROM store.audit u WHERE u.undoes_audit_id = a.audit_id) AS undone_by_audit_id,
       (a.action <> 'undo' {never_undone} AND NOT {_UNDONE.format(row="a")} AND NOT EXISTS (
           SELECT 1 FROM store.audit l WHERE l.submission_id = a.submission_id AND l.audit_id > a.audit_id
           AND l.action <> 'undo' AND NOT {_UNDONE.format(row="l")})) AS can_undo
FROM store.audit a
"""


UPGRADE = f"""
CREATE TABLE IF NOT EXISTS store.deleted_originals (
    sha256 VARCHAR PRIMARY KEY, deleted_at TIMESTAMP NOT NULL, why VARCHAR NOT NULL
);
ALTER TABLE store.submissions ADD COLUMN IF NOT EXISTS names_pseudonymised_at TIMESTAMP;
ALTER TABLE store.submissions ADD COLUMN IF NOT EXISTS free_text_cleared_at TIMESTAMP;
ALTER TABLE store.audit ALTER COLUMN submission_id DROP NOT NULL;
DROP VIEW IF EXISTS submissions;
{_SUBMISSIONS_0007};
DROP VIEW IF EXISTS audit;
{_audit_view("AND a.action NOT IN ('retention', 'erase')")}
"""

DOWNGRADE = f"""
DROP VIEW IF EXISTS audit;
{_audit_view("")};
DELETE FROM store.audit WHERE submission_id IS NULL;
ALTER TABLE store.audit ALTER COLUMN submission_id SET NOT NULL;
DROP VIEW IF EXISTS submissions;
{_SUBMISSIONS_0001};
ALTER TABLE store.submissions DROP COLUMN IF EXISTS free_text_cleared_at;
ALTER TABLE store.submissions DROP COLUMN IF EXISTS names_pseudonymised_at;
DROP TABLE IF EXISTS store.deleted_originals
"""


def _run(sql: str) -> None:
    for statement in (s.strip() for s in sql.split(";")):
        if statement:
            op.execute(statement)


def upgrade() -> None:
    _run(UPGRADE)


def downgrade() -> None:
    _run(DOWNGRADE)
