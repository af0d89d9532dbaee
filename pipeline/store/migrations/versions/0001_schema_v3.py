"""Schema 3: the store tables and the documented views (the baseline of versioned migrations).

Written out in full rather than generated from the code, so that this revision creates the same
schema whatever later code looks like. Everything is `IF NOT EXISTS` and the columns added since
schema 1 are added if missing: a DuckDB warehouse made before migrations existed (schema 1-3,
versioned in the table store.meta) is brought to this revision by running it too.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = """
CREATE SCHEMA IF NOT EXISTS store;
CREATE SEQUENCE IF NOT EXISTS store.submission_ids START 1;
CREATE TABLE IF NOT EXISTS store.submissions (
    submission_id BIGINT PRIMARY KEY,
    form_type VARCHAR,
    source_file VARCHAR NOT NULL,
    container_file VARCHAR,
    sender VARCHAR,
    subject VARCHAR,
    received_at TIMESTAMP,
    message_id VARCHAR,
    sha256 VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('loaded', 'held', 'duplicate', 'superseded', 'rejected')),
    project_name VARCHAR,
    loaded_at TIMESTAMP NOT NULL,
    duplicate_of BIGINT,
    notes VARCHAR,
    intake_id BIGINT,
    part_no INTEGER,
    superseded_by BIGINT,
    correction_key VARCHAR
);
-- One row per file taken from the inbox (an email is one intake with several parts). A run
-- killed half-way through an email resumes it: parts already recorded are not recorded again.
CREATE SEQUENCE IF NOT EXISTS store.intake_ids START 1;
CREATE TABLE IF NOT EXISTS store.intake (
    intake_id BIGINT PRIMARY KEY,
    item_sha256 VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    file_mtime_ns BIGINT NOT NULL,
    size BIGINT NOT NULL,
    parts INTEGER NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS store.problems (
    submission_id BIGINT NOT NULL, problem_no INTEGER NOT NULL, severity VARCHAR NOT NULL, code VARCHAR NOT NULL,
    field VARCHAR, location VARCHAR, message VARCHAR NOT NULL, value VARCHAR,
    state VARCHAR DEFAULT 'open', resolved_at TIMESTAMP, resolution VARCHAR,
    PRIMARY KEY (submission_id, problem_no)
);
-- Every change of a submission's status after it was recorded: by the pipeline (a correction
-- arrived) or by the admin (accept, reject, supersede), with who, when and why.
CREATE SEQUENCE IF NOT EXISTS store.audit_ids START 1;
CREATE TABLE IF NOT EXISTS store.audit (
    audit_id BIGINT PRIMARY KEY, acted_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, action VARCHAR NOT NULL,
    submission_id BIGINT NOT NULL, related_submission_id BIGINT, old_status VARCHAR, new_status VARCHAR,
    reason VARCHAR
);
CREATE TABLE IF NOT EXISTS store.value_locations (submission_id BIGINT, field VARCHAR, location VARCHAR);
CREATE TABLE IF NOT EXISTS store.planning (
    submission_id BIGINT PRIMARY KEY, project_name VARCHAR, date DATE, residents_involved VARCHAR,
    purpose_and_objectives VARCHAR, stakeholders VARCHAR, coproduction_approach VARCHAR, communication VARCHAR, resources_and_support VARCHAR, timelines_and_milestones VARCHAR, monitoring_and_evaluation VARCHAR, further_involvement VARCHAR
);
CREATE TABLE IF NOT EXISTS store.planning_leads (submission_id BIGINT, position INTEGER, lead_name VARCHAR);
CREATE TABLE IF NOT EXISTS store.evaluation (
    submission_id BIGINT PRIMARY KEY, project_name VARCHAR, date DATE, completed_by VARCHAR,
    what_worked_well VARCHAR, what_could_be_improved VARCHAR, wider_learning VARCHAR, additional_feedback VARCHAR
);
CREATE TABLE IF NOT EXISTS store.evaluation_scores (
    submission_id BIGINT, principle VARCHAR, statement_no INTEGER, statement VARCHAR, score INTEGER
);
CREATE TABLE IF NOT EXISTS store.evaluation_feedback (submission_id BIGINT, principle VARCHAR, feedback VARCHAR);
CREATE TABLE IF NOT EXISTS store.evaluation_themes (submission_id BIGINT, theme VARCHAR);
CREATE TABLE IF NOT EXISTS store.monitoring (
    submission_id BIGINT PRIMARY KEY, project_name VARCHAR, date DATE, age_band VARCHAR, gender VARCHAR,
    gender_self_description VARCHAR, trans VARCHAR, sexual_orientation VARCHAR, ethnicity VARCHAR,
    ethnic_group VARCHAR, religion VARCHAR, disability VARCHAR, carer VARCHAR, postcode_district VARCHAR
);
CREATE TABLE IF NOT EXISTS store.monitoring_circumstances (submission_id BIGINT, circumstance VARCHAR);
CREATE TABLE IF NOT EXISTS store.voucher_forms (
    submission_id BIGINT PRIMARY KEY, project_name VARCHAR, completed_by VARCHAR, total DECIMAL(10,2)
);
CREATE TABLE IF NOT EXISTS store.voucher_lines (
    submission_id BIGINT, line_no INTEGER, name VARCHAR, date DATE, activity VARCHAR,
    time_spent_minutes INTEGER, amount DECIMAL(10,2), signed BOOLEAN, location VARCHAR, claim_key VARCHAR
);
"""

# schema 1 -> 2 -> 3, for warehouses made before migrations
LEGACY_COLUMNS = """
ALTER TABLE store.submissions ADD COLUMN IF NOT EXISTS intake_id BIGINT;
ALTER TABLE store.submissions ADD COLUMN IF NOT EXISTS part_no INTEGER;
ALTER TABLE store.submissions ADD COLUMN IF NOT EXISTS superseded_by BIGINT;
ALTER TABLE store.submissions ADD COLUMN IF NOT EXISTS correction_key VARCHAR;
ALTER TABLE store.problems ADD COLUMN IF NOT EXISTS state VARCHAR DEFAULT 'open';
ALTER TABLE store.problems ADD COLUMN IF NOT EXISTS resolved_at TIMESTAMP;
ALTER TABLE store.problems ADD COLUMN IF NOT EXISTS resolution VARCHAR;
DROP TABLE IF EXISTS store.meta;
"""

# The public interface (README, "Warehouse views"). A flag of the monitoring view is NULL when
# the question behind it was not answered (or "Prefer not to say").
VIEWS = """
CREATE OR REPLACE VIEW submissions AS
SELECT submission_id, form_type, source_file, container_file, sender, subject, received_at, sha256, status,
       project_name, loaded_at, superseded_by
FROM store.submissions;

CREATE OR REPLACE VIEW exceptions AS
SELECT p.submission_id, s.source_file, s.container_file, s.sender, p.severity, p.code, p.field, p.location,
       p.message, p.value, p.state, p.resolved_at, p.resolution
FROM store.problems p JOIN store.submissions s USING (submission_id);

CREATE OR REPLACE VIEW audit AS
SELECT audit_id, acted_at, actor, action, submission_id, related_submission_id, old_status, new_status, reason
FROM store.audit;

CREATE OR REPLACE VIEW planning AS
SELECT submission_id, project_name, date, residents_involved, purpose_and_objectives, stakeholders, coproduction_approach, communication, resources_and_support, timelines_and_milestones, monitoring_and_evaluation, further_involvement
FROM store.planning WHERE submission_id IN (SELECT submission_id FROM store.submissions WHERE status = 'loaded');
CREATE OR REPLACE VIEW planning_leads AS
SELECT submission_id, position, lead_name FROM store.planning_leads WHERE submission_id IN (SELECT submission_id FROM store.submissions WHERE status = 'loaded');

CREATE OR REPLACE VIEW evaluation AS
SELECT submission_id, project_name, date, completed_by, what_worked_well, what_could_be_improved, wider_learning,
       additional_feedback
FROM store.evaluation WHERE submission_id IN (SELECT submission_id FROM store.submissions WHERE status = 'loaded');
CREATE OR REPLACE VIEW evaluation_scores AS
SELECT submission_id, principle, statement_no, statement, score FROM store.evaluation_scores WHERE submission_id IN (SELECT submission_id FROM store.submissions WHERE status = 'loaded');
CREATE OR REPLACE VIEW evaluation_feedback AS
SELECT submission_id, principle, feedback FROM store.evaluation_feedback WHERE submission_id IN (SELECT submission_id FROM store.submissions WHERE status = 'loaded');
CREATE OR REPLACE VIEW evaluation_themes AS
SELECT submission_id, theme FROM store.evaluation_themes WHERE submission_id IN (SELECT submission_id FROM store.submissions WHERE status = 'loaded');

CREATE OR REPLACE VIEW monitoring AS
SELECT submission_id, project_name, date, age_band, gender, gender_self_description, trans, sexual_orientation,
       ethnicity, ethnic_group, religion, disability, carer, postcode_district,
       CASE WHEN ethnicity IS NULL OR ethnicity = 'Prefer not to say' THEN NULL ELSE (ethnicity <> 'English, Welsh, Scottish, Northern Irish or British') END AS ethnic_minority,
       CASE WHEN coalesce(sexual_orientation, 'Prefer not to say') = 'Prefer not to say' AND coalesce(trans, 'Prefer not to say') = 'Prefer not to say'
                 AND coalesce(gender, 'Prefer not to say') = 'Prefer not to say' THEN NULL
            ELSE (sexual_orientation IN ('Gay or lesbian', 'Bisexual', 'Other') OR trans = 'No'
                  OR gender IN ('Non-binary', 'Prefer to self-describe')) IS TRUE END AS lgbtq,
       CASE WHEN carer IS NULL OR carer = 'Prefer not to say' THEN NULL ELSE (carer = 'Yes') END AS carer_flag,
       CASE WHEN age_band IS NULL OR age_band = 'Prefer not to say' THEN NULL ELSE (age_band IN ('75-84', '85 or over')) END AS over_75,
       CASE WHEN disability IS NULL OR disability = 'Prefer not to say' THEN NULL ELSE (disability = 'Yes') END AS disabled,
       CASE WHEN EXISTS (SELECT 1 FROM store.monitoring_circumstances c WHERE c.submission_id = m.submission_id AND c.circumstance <> 'Prefer not to say') THEN EXISTS (SELECT 1 FROM store.monitoring_circumstances c WHERE c.submission_id = m.submission_id AND c.circumstance = 'Experiencing homelessness') ELSE NULL END AS homeless,
       CASE WHEN EXISTS (SELECT 1 FROM store.monitoring_circumstances c WHERE c.submission_id = m.submission_id AND c.circumstance <> 'Prefer not to say') THEN EXISTS (SELECT 1 FROM store.monitoring_circumstances c WHERE c.submission_id = m.submission_id AND c.circumstance = 'Refugee or asylum seeker') ELSE NULL END AS refugee_or_asylum_seeker,
       CASE WHEN ethnicity IS NULL OR ethnicity = 'Prefer not to say' THEN NULL ELSE (ethnicity IN ('Gypsy or Irish Traveller', 'Roma')) END AS gypsy_roma_traveller,
       CASE WHEN EXISTS (SELECT 1 FROM store.monitoring_circumstances c WHERE c.submission_id = m.submission_id AND c.circumstance <> 'Prefer not to say') THEN EXISTS (SELECT 1 FROM store.monitoring_circumstances c WHERE c.submission_id = m.submission_id AND c.circumstance = 'English is not my first language') ELSE NULL END AS language_barrier,
       CASE WHEN EXISTS (SELECT 1 FROM store.monitoring_circumstances c WHERE c.submission_id = m.submission_id AND c.circumstance <> 'Prefer not to say') THEN EXISTS (SELECT 1 FROM store.monitoring_circumstances c WHERE c.submission_id = m.submission_id AND c.circumstance = 'Living with dementia') ELSE NULL END AS dementia
FROM store.monitoring m WHERE submission_id IN (SELECT submission_id FROM store.submissions WHERE status = 'loaded');
CREATE OR REPLACE VIEW monitoring_circumstances AS
SELECT submission_id, circumstance FROM store.monitoring_circumstances WHERE submission_id IN (SELECT submission_id FROM store.submissions WHERE status = 'loaded');

CREATE OR REPLACE VIEW voucher_lines AS
SELECT submission_id, line_no, name, date, activity, time_spent_minutes, amount, signed
FROM store.voucher_lines WHERE submission_id IN (SELECT submission_id FROM store.submissions WHERE status = 'loaded');
"""


def _statements(sql: str) -> list[str]:
    without_comments = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in without_comments.split(";") if s.strip()]


def upgrade() -> None:
    for statement in _statements(TABLES) + _statements(LEGACY_COLUMNS) + _statements(VIEWS):
        op.execute(statement)


def downgrade() -> None:
    for view in (
        "voucher_lines",
        "monitoring_circumstances",
        "monitoring",
        "evaluation_themes",
        "evaluation_feedback",
        "evaluation_scores",
        "evaluation",
        "planning_leads",
        "planning",
        "audit",
        "exceptions",
        "submissions",
    ):
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.execute("DROP SCHEMA store CASCADE")
