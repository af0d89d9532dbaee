"""The admin corrects a value or confirms an OCR reading, and the form is validated again (issue 20).

A correction is data, kept beside what the file said (the archived original is never changed):
- store.raw_forms: each form's raw reading as the run made it (pipeline.store.raw_forms), so
  that a correction is validated again from the same reading (a scan is not read twice: OCR is
  slow and its second reading may differ). Forms recorded before this revision have none: a
  typed file is read again from the archive; a scan cannot be corrected.
- store.value_corrections: one row per corrected or confirmed value, with the value before and
  after, who, why, when and the `correct` action in store.audit that made it;
- the view `value_corrections` shows them, with `undone_by_audit_id` (the undo that took the
  correction back: its value is then no longer applied).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE IF NOT EXISTS store.raw_forms (submission_id BIGINT PRIMARY KEY, format VARCHAR, raw VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS store.value_corrections (
    submission_id BIGINT NOT NULL, field VARCHAR NOT NULL, before VARCHAR, after VARCHAR NOT NULL,
    confirmed BOOLEAN NOT NULL, actor VARCHAR NOT NULL, reason VARCHAR NOT NULL, corrected_at TIMESTAMP NOT NULL,
    audit_id BIGINT NOT NULL
);
CREATE OR REPLACE VIEW value_corrections AS
SELECT c.submission_id, c.field, c.before, c.after, c.confirmed, c.actor, c.reason, c.corrected_at, c.audit_id,
       (SELECT max(u.audit_id) FROM store.audit u WHERE u.undoes_audit_id = c.audit_id) AS undone_by_audit_id
FROM store.value_corrections c
"""

DOWNGRADE = """
DROP VIEW IF EXISTS value_corrections;
DROP TABLE IF EXISTS store.value_corrections;
DROP TABLE IF EXISTS store.raw_forms
"""


def _run(sql: str) -> None:
    for statement in (s.strip() for s in sql.split(";")):
        if statement:
            op.execute(statement)


def upgrade() -> None:
    _run(UPGRADE)


def downgrade() -> None:
    _run(DOWNGRADE)
