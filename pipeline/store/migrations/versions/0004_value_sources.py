"""Where each value came from: typed text, or text recognition on a scan (issue 18).

A value read from a picture is marked as such, with what the OCR engines read, so that a data
team can tell (and a finance officer can check) which voucher lines came from paper:
- store.value_locations gains `source` ('text', 'form_field' or 'ocr') and `reading` (both
  engines' readings of an OCR'd value);
- store.voucher_lines gains `source`;
- the view `voucher_lines` shows `source` (a new last column), and a new view `value_sources`
  lists every value of a loaded form with where it was found, its source and its reading.
Rows stored before this revision were all read from text.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LOADED = "submission_id IN (SELECT submission_id FROM store.submissions WHERE status = 'loaded')"

UPGRADE = f"""
ALTER TABLE store.value_locations ADD COLUMN IF NOT EXISTS source VARCHAR DEFAULT 'text';
ALTER TABLE store.value_locations ADD COLUMN IF NOT EXISTS reading VARCHAR;
ALTER TABLE store.voucher_lines ADD COLUMN IF NOT EXISTS source VARCHAR DEFAULT 'text';
CREATE OR REPLACE VIEW voucher_lines AS
SELECT submission_id, line_no, name, date, activity, time_spent_minutes, amount, signed, source
FROM store.voucher_lines WHERE {LOADED};
CREATE OR REPLACE VIEW value_sources AS
SELECT submission_id, field, location, source, reading FROM store.value_locations WHERE {LOADED}
"""

DOWNGRADE = f"""
DROP VIEW IF EXISTS value_sources;
DROP VIEW IF EXISTS voucher_lines;
CREATE VIEW voucher_lines AS
SELECT submission_id, line_no, name, date, activity, time_spent_minutes, amount, signed
FROM store.voucher_lines WHERE {LOADED};
ALTER TABLE store.voucher_lines DROP COLUMN IF EXISTS source;
ALTER TABLE store.value_locations DROP COLUMN IF EXISTS reading;
ALTER TABLE store.value_locations DROP COLUMN IF EXISTS source
"""


def _run(sql: str) -> None:
    for statement in (s.strip() for s in sql.split(";")):
        if statement:
            op.execute(statement)


def upgrade() -> None:
    _run(UPGRADE)


def downgrade() -> None:
    _run(DOWNGRADE)
