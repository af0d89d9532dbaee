"""Indexes for the lookups a run makes on a PostgreSQL warehouse as history grows.

A run looks up each new file's SHA-256, its intake record, and the claim keys of its voucher
lines; the views join the child tables to their submission. Without indexes PostgreSQL scans
whole tables for each, and the cost of a run would grow with years of history.

DuckDB is left as it is: its columnar scans with min/max zone maps already make these lookups
cheap, and its (ART) indexes would slow the bulk inserts and restrict updates.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = {
    "submissions_sha256": "store.submissions (sha256)",
    "submissions_intake_id": "store.submissions (intake_id)",
    "intake_item_sha256": "store.intake (item_sha256)",
    "voucher_lines_claim_key": "store.voucher_lines (claim_key)",
    # the child tables, by their submission: the views join them (the monitoring view once per
    # flag), and without these a summary over 10,000 forms spent 2.6 s scanning
    "voucher_lines_submission_id": "store.voucher_lines (submission_id)",
    "value_locations_submission_id": "store.value_locations (submission_id)",
    "planning_leads_submission_id": "store.planning_leads (submission_id)",
    "evaluation_scores_submission_id": "store.evaluation_scores (submission_id)",
    "evaluation_feedback_submission_id": "store.evaluation_feedback (submission_id)",
    "evaluation_themes_submission_id": "store.evaluation_themes (submission_id)",
    "monitoring_circumstances_submission_id": "store.monitoring_circumstances (submission_id)",
}


def _on_server() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _on_server():
        for name, target in INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def downgrade() -> None:
    if _on_server():
        for name in INDEXES:
            op.execute(f"DROP INDEX IF EXISTS store.{name}")
