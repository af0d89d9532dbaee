"""The review desk's reads of the warehouse: the queue (filtered and paged in SQL, so it stays quick
with tens of thousands of problems), one form as stored, and the token of a form's state that
says "changed since you opened it".

Held forms are in no form view (the views show loaded forms only) and a problem's order on its form
(problem_no) is in no view either: these read the `store` tables, as pipeline.reports.queries does
where it needs the same."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from pipeline.forms.spec import all_specs
from pipeline.store.warehouse import PLANNING_SECTIONS, Warehouse

QUEUE_PAGE_SIZE = 50  # forms a page
FORM_TYPES = ("planning", "evaluation", "monitoring", "voucher")


@dataclass(frozen=True)
class QueueFilter:
    """What the admin narrowed the queue to (each None: not narrowed)."""

    code: str | None = None
    form_type: str | None = None
    sender: str | None = None  # part of the sender's address, any case
    received_from: dt.date | None = None
    received_to: dt.date | None = None  # inclusive

    def where(self) -> tuple[str, dict]:
        """The SQL conditions on `p` (store.problems) and `s` (store.submissions), and their values."""
        parts, params = [], {}
        if self.code:
            parts.append("p.code = :code")
            params["code"] = self.code
        if self.form_type:
            parts.append("s.form_type = :form_type")
            params["form_type"] = self.form_type
        if self.sender:
            # the admin's text is a value, never a pattern: %, _ and \ are matched as themselves
            escaped = self.sender.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            parts.append("lower(s.sender) LIKE :sender ESCAPE '\\'")
            params["sender"] = f"%{escaped.lower()}%"
        if self.received_from:
            parts.append("s.received_at >= :received_from")
            params["received_from"] = dt.datetime.combine(self.received_from, dt.time())
        if self.received_to:
            parts.append("s.received_at < :received_to")
            params["received_to"] = dt.datetime.combine(self.received_to + dt.timedelta(days=1), dt.time())
        return "".join(f" AND {p}" for p in parts), params


# open problems of forms (held, or loaded with warnings); files that were not read as forms apart
_OPEN_FORM_PROBLEMS = """
FROM store.problems p JOIN store.submissions s USING (submission_id)
WHERE p.state = 'open' AND s.status <> 'rejected' AND s.form_type IS NOT NULL{where}
"""
_OPEN_NOT_READ = """
FROM store.problems p JOIN store.submissions s USING (submission_id)
WHERE p.state = 'open' AND (s.status = 'rejected' OR s.form_type IS NULL){where}
"""


@dataclass
class QueueProblem:
    problem_no: int
    severity: str
    code: str
    field: str | None
    location: str | None
    message: str
    value: str | None


@dataclass
class QueueForm:
    submission_id: int
    form_type: str | None
    source_file: str
    container_file: str | None
    sender: str | None
    subject: str | None
    received_at: dt.datetime | None
    status: str
    problems: list[QueueProblem] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)


@dataclass
class Queue:
    forms: list[QueueForm]  # this page's forms, grouped by sender (most recent sender first), newest first
    form_count: int  # forms with open problems (as filtered), on every page
    problem_count: int
    per_code: list[tuple[str, int]]  # (code, open problems) most first
    not_read: list[QueueForm]  # files not read as forms (first ones), apart
    not_read_count: int
    page: int
    pages: int


def open_queue(warehouse: Warehouse, wanted: QueueFilter, page: int = 1, page_size: int = QUEUE_PAGE_SIZE) -> Queue:
    where, params = wanted.where()
    counted = warehouse.one(
        f"SELECT count(DISTINCT p.submission_id), count(*) {_OPEN_FORM_PROBLEMS.format(where=where)}", **params
    )
    form_count, problem_count = int(counted[0]), int(counted[1])
    per_code = [
        (code, int(n))
        for code, n in warehouse.rows(
            f"SELECT p.code, count(*) AS n {_OPEN_FORM_PROBLEMS.format(where=where)} GROUP BY p.code "
            "ORDER BY n DESC, p.code",
            **params,
        )
    ]
    pages = max(1, -(-form_count // page_size))
    page = min(max(page, 1), pages)
    # the page's forms: senders in the order of their newest form, each sender's forms newest first
    ids = [
        row[0]
        for row in warehouse.rows(
            f"""
            WITH forms AS (
                SELECT DISTINCT s.submission_id, s.sender, s.received_at {_OPEN_FORM_PROBLEMS.format(where=where)}
            ), ranked AS (
                SELECT submission_id, sender, received_at,
                       max(received_at) OVER (PARTITION BY coalesce(sender, '')) AS sender_latest
                FROM forms
            )
            SELECT submission_id FROM ranked
            ORDER BY sender_latest DESC NULLS LAST, coalesce(sender, ''), received_at DESC NULLS LAST,
                     submission_id DESC
            LIMIT :limit OFFSET :offset""",
            **params,
            limit=page_size,
            offset=(page - 1) * page_size,
        )
    ]
    forms = _forms_with_problems(warehouse, ids, where, params)
    not_read_ids = [
        row[0]
        for row in warehouse.rows(
            f"SELECT DISTINCT s.submission_id, s.received_at {_OPEN_NOT_READ.format(where=where)} "
            "ORDER BY s.received_at DESC NULLS LAST, s.submission_id DESC LIMIT :limit",
            **params,
            limit=page_size,
        )
    ]
    (not_read_count,) = warehouse.one(
        f"SELECT count(DISTINCT p.submission_id) {_OPEN_NOT_READ.format(where=where)}", **params
    )
    not_read = _forms_with_problems(warehouse, not_read_ids, where, params)
    return Queue(forms, form_count, problem_count, per_code, not_read, int(not_read_count), page, pages)


def _forms_with_problems(warehouse: Warehouse, ids: list[int], where: str, params: dict) -> list[QueueForm]:
    """The forms of `ids` (in that order), each with its open problems that pass the filter."""
    if not ids:
        return []
    by_id: dict[int, QueueForm] = {}
    for row in warehouse.rows(
        f"""SELECT s.submission_id, s.form_type, s.source_file, s.container_file, s.sender, s.subject,
                   s.received_at, s.status, p.problem_no, p.severity, p.code, p.field, p.location, p.message, p.value
            FROM store.problems p JOIN store.submissions s USING (submission_id)
            WHERE p.state = 'open' AND s.submission_id IN :ids{where}
            ORDER BY s.submission_id, p.severity, p.problem_no""",
        **params,
        ids=ids,
    ):
        form = by_id.get(row[0])
        if form is None:
            form = by_id[row[0]] = QueueForm(*row[:8])
        form.problems.append(QueueProblem(*row[8:]))
    return [by_id[i] for i in ids if i in by_id]


# ------------------------------------------------------------ one form


@dataclass
class FormProblem:
    problem_no: int
    severity: str
    code: str
    field: str | None
    location: str | None
    message: str
    value: str | None
    state: str
    resolution: str | None


@dataclass
class ValuePlace:
    location: str | None
    source: str | None  # text, form_field, ocr
    reading: str | None  # for ocr: what each engine read


@dataclass
class StoredForm:
    submission_id: int
    form_type: str | None
    source_file: str
    container_file: str | None
    sender: str | None
    subject: str | None
    received_at: dt.datetime | None
    sha256: str
    status: str
    project_name: str | None
    superseded_by: int | None
    notes: str | None
    problems: list[FormProblem] = field(default_factory=list)
    places: dict[str, ValuePlace] = field(default_factory=dict)  # field path -> where it was read
    # (section heading, [(field path, value)]) for header and text answers; the voucher's lines apart
    sections: list[tuple[str, list[tuple[str, object]]]] = field(default_factory=list)
    lines: list[dict[str, object]] = field(default_factory=list)  # voucher lines: spec column name -> value

    @property
    def open_problems(self) -> list[FormProblem]:
        return [p for p in self.problems if p.state == "open"]


def stored_form(warehouse: Warehouse, submission_id: int) -> StoredForm | None:
    row = warehouse.one(
        """SELECT submission_id, form_type, source_file, container_file, sender, subject, received_at, sha256,
                  status, project_name, superseded_by, notes
           FROM store.submissions WHERE submission_id = :sid""",
        sid=submission_id,
    )
    if row is None:
        return None
    form = StoredForm(*row)
    form.problems = [
        FormProblem(*r)
        for r in warehouse.rows(
            """SELECT problem_no, severity, code, field, location, message, value, state, resolution
               FROM store.problems WHERE submission_id = :sid ORDER BY state DESC, severity, problem_no""",
            sid=submission_id,
        )
    ]
    form.places = {
        f: ValuePlace(loc, source, reading)
        for f, loc, source, reading in warehouse.rows(
            "SELECT field, location, source, reading FROM store.value_locations WHERE submission_id = :sid",
            sid=submission_id,
        )
    }
    if form.form_type in _VALUES:
        _VALUES[form.form_type](warehouse, form)
    return form


def _one_row(warehouse: Warehouse, table: str, columns: list[str], sid: int) -> dict[str, object]:
    row = warehouse.one(f"SELECT {', '.join(columns)} FROM store.{table} WHERE submission_id = :sid", sid=sid)
    return dict(zip(columns, row, strict=True)) if row is not None else {}


def _planning(warehouse: Warehouse, form: StoredForm) -> None:
    values = _one_row(warehouse, "planning", ["project_name", "date", "residents_involved"], form.submission_id)
    leads = warehouse.rows(
        "SELECT lead_name FROM store.planning_leads WHERE submission_id = :sid ORDER BY position",
        sid=form.submission_id,
    )
    header = [(name, values.get(name)) for name in ("project_name", "date")]
    header.append(("project_leads", ", ".join(r[0] for r in leads if r[0]) or None))
    header.append(("residents_involved", values.get("residents_involved")))
    form.sections.append(("About the project", header))
    answers = _one_row(warehouse, "planning", list(PLANNING_SECTIONS), form.submission_id)
    form.sections.append(("The plan", [(name, answers.get(name)) for name in PLANNING_SECTIONS]))


def _evaluation(warehouse: Warehouse, form: StoredForm) -> None:
    header = ["project_name", "date", "completed_by"]
    answers = ["what_worked_well", "what_could_be_improved", "wider_learning", "additional_feedback"]
    values = _one_row(warehouse, "evaluation", header + answers, form.submission_id)
    form.sections.append(("About the project", [(name, values.get(name)) for name in header]))
    scores = [
        (f"{principle}.{no}", score)
        for principle, no, score in warehouse.rows(
            "SELECT principle, statement_no, score FROM store.evaluation_scores WHERE submission_id = :sid",
            sid=form.submission_id,
        )
    ]
    order = [f"{p.name}.{n}" for p in all_specs()["evaluation"].principles for n in range(1, len(p.statements) + 1)]
    scores.sort(key=lambda s: order.index(s[0]) if s[0] in order else len(order))
    form.sections.append(("Scores (1 strongly disagree to 5 strongly agree)", scores))
    feedback = warehouse.rows(
        "SELECT principle, feedback FROM store.evaluation_feedback WHERE submission_id = :sid",
        sid=form.submission_id,
    )
    themes = warehouse.rows(
        "SELECT theme FROM store.evaluation_themes WHERE submission_id = :sid", sid=form.submission_id
    )
    written = [(name, values.get(name)) for name in answers]
    written += [(f"feedback.{principle}", text) for principle, text in feedback]
    written.append(("themes", ", ".join(r[0] for r in themes) or None))
    form.sections.append(("In their own words", written))


_MONITORING = [
    "project_name",
    "date",
    "age_band",
    "gender",
    "gender_self_description",
    "trans",
    "sexual_orientation",
    "ethnicity",
    "religion",
    "disability",
    "carer",
    "postcode_district",
]


def _monitoring(warehouse: Warehouse, form: StoredForm) -> None:
    values = _one_row(warehouse, "monitoring", _MONITORING, form.submission_id)
    circumstances = warehouse.rows(
        "SELECT circumstance FROM store.monitoring_circumstances WHERE submission_id = :sid", sid=form.submission_id
    )
    answers = [(name, values.get(name)) for name in _MONITORING]
    answers.append(("circumstances", ", ".join(r[0] for r in circumstances) or None))
    form.sections.append(("Answers", answers))


def _voucher(warehouse: Warehouse, form: StoredForm) -> None:
    values = _one_row(warehouse, "voucher_forms", ["project_name", "completed_by", "total"], form.submission_id)
    form.sections.append(("About the sheet", [(name, values.get(name)) for name in ("project_name", "completed_by")]))
    columns = all_specs()["voucher"].columns
    stored = ["line_no", *(c.field for c in columns)]
    for row in warehouse.rows(
        f"SELECT {', '.join(stored)} FROM store.voucher_lines WHERE submission_id = :sid ORDER BY line_no",
        sid=form.submission_id,
    ):
        line = {"line_no": row[0]}
        line.update({c.name: value for c, value in zip(columns, row[1:], strict=True)})
        form.lines.append(line)
    form.sections.append(("The sheet's total", [("total", values.get("total"))]))


_VALUES = {"planning": _planning, "evaluation": _evaluation, "monitoring": _monitoring, "voucher": _voucher}


# ------------------------------------------------------------ "changed since you opened it"


def form_version(warehouse: Warehouse, submission_id: int) -> str:
    """A short token of a form's state: its status, what superseded it, the last audited action on
    it and its open problems (how many, and the last problem number). A page sends it back with an
    action; if it differs now, someone else changed the form meanwhile."""
    row = warehouse.one(
        """SELECT s.status, s.superseded_by,
                  (SELECT max(audit_id) FROM store.audit a
                   WHERE a.submission_id = s.submission_id OR a.related_submission_id = s.submission_id),
                  (SELECT count(*) FROM store.problems p WHERE p.submission_id = s.submission_id AND p.state = 'open'),
                  (SELECT max(problem_no) FROM store.problems p WHERE p.submission_id = s.submission_id)
           FROM store.submissions s WHERE s.submission_id = :sid""",
        sid=submission_id,
    )
    state = "missing" if row is None else "|".join("" if v is None else str(v) for v in row)
    return hashlib.sha256(f"{submission_id}|{state}".encode()).hexdigest()[:16]
