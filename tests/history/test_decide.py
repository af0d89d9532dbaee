"""decide: what becomes of one form given the forms before it, with a history held in memory
(the warehouse answers the same look-ups from its tables; tests/store, tests/runtime)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipeline.history.decide import decide
from pipeline.problems import ProblemCode, make_problem
from pipeline.records import EarlierForm, ParsedFile, Provenance, Status
from schemas import EvaluationForm, PlanningForm, VoucherForm, VoucherLine

NOW = dt.datetime(2025, 6, 2, 12, 0, tzinfo=dt.UTC)
EARLIER = dt.datetime(2025, 6, 1, 9, 0)  # UTC, naive, as stored
DAY = dt.date(2025, 5, 6)


class MemoryHistory:
    """The look-ups decide makes, answered from lists."""

    def __init__(self, shas=None, projects=(), claims=None, earlier=()):
        self.shas = shas or {}
        self.projects = frozenset(projects)
        self.claims = claims or {}
        self.earlier = list(earlier)  # (correction key, EarlierForm)

    def first_with_sha256(self, sha256):
        return self.shas.get(sha256)

    def known_projects(self):
        return self.projects

    def loaded_claims(self, keys, excluding=()):
        return {k: v for k, v in self.claims.items() if k in set(keys) and v[0] not in set(excluding)}

    def replaceable_with_key(self, key):
        return [form for k, form in self.earlier if k == key]

    def replaceable_of_project(self, form_type, project):
        return [form for _, form in self.earlier if form.form_type == form_type and form.project_name == project]


def _voucher(*names: str) -> ParsedFile:
    lines = [
        VoucherLine(line_no=n, name=name, date=DAY, activity="Workshop 1", amount=Decimal("20"), signed=True).found_at(
            f"table 1, row {n + 1}"
        )
        for n, name in enumerate(names, start=1)
    ]
    return ParsedFile("voucher", VoucherForm(project_name="Carers Week", lines=lines))


def _unknown_project() -> ParsedFile:
    problem = make_problem(ProblemCode.PROJECT_UNKNOWN, "no project", field="project_name", location="paragraph 2")
    return ParsedFile("evaluation", EvaluationForm(), [problem])


def test_identical_bytes_are_a_duplicate_that_keeps_nothing():
    decision = decide(_voucher("Grace"), Provenance("v.docx"), "ab", MemoryHistory(shas={"ab": 7}), NOW)
    assert (decision.status, decision.duplicate_of, decision.parsed, decision.problems) == (
        Status.DUPLICATE,
        7,
        None,
        [],
    )


def test_a_file_that_could_not_be_read_is_rejected_with_its_problem():
    problem = make_problem(ProblemCode.CORRUPT_FILE, "broken")
    decision = decide(ParsedFile(None, None, [problem]), Provenance("x.docx"), "ab", MemoryHistory(), NOW)
    assert (decision.status, decision.problems) == (Status.REJECTED, [problem])


def test_the_subject_settles_a_missing_project_once():
    history = MemoryHistory(projects={"Carers Week Co-design Group"})
    named = decide(
        _unknown_project(), Provenance("e.docx", subject="Evaluation - Carers Week Co-design Group"), "ab", history, NOW
    )
    assert named.status is Status.LOADED and named.problems == []
    assert named.parsed.form.project_name == "Carers Week Co-design Group"
    assert [p.code for p in named.withdrawn] == [ProblemCode.PROJECT_UNKNOWN]
    unnamed = decide(_unknown_project(), Provenance("e.docx", subject="Evaluation attached"), "cd", history, NOW)
    assert unnamed.status is Status.HELD and unnamed.withdrawn == ()
    assert [p.code for p in unnamed.problems] == [ProblemCode.PROJECT_UNKNOWN]


def test_a_line_claimed_on_another_loaded_form_is_a_possible_double_claim():
    key = _voucher("Grace").form.lines[0].claim_key
    decision = decide(
        _voucher("Grace", "Mei"), Provenance("v.docx"), "ab", MemoryHistory(claims={key: (3, "first.docx")}), NOW
    )
    assert decision.status is Status.LOADED  # a warning
    assert [(p.code, p.field, p.location) for p in decision.added] == [
        (ProblemCode.POSSIBLE_DUPLICATE_CLAIM, "lines.1", "table 1, row 2")
    ]
    assert "first.docx" in decision.added[0].message


def test_a_correction_replaces_the_earlier_version_and_its_claims_do_not_count():
    key = _voucher("Grace").form.lines[0].claim_key
    earlier = EarlierForm(3, "voucher", "Carers Week", EARLIER, EARLIER)
    history = MemoryHistory(claims={key: (3, "sheet.docx")}, earlier=[("|sheet", earlier)])
    decision = decide(_voucher("Grace"), Provenance("sheet (corrected).docx"), "ab", history, NOW)
    assert (decision.status, decision.correction_key) == (Status.LOADED, "|sheet")
    assert decision.supersedes == {3: "a corrected version: same sender and file name"}
    assert decision.added == ()


def test_a_version_sent_later_and_taken_in_first_supersedes_this_one_on_arrival():
    later = EarlierForm(3, "voucher", None, dt.datetime(2025, 6, 2, 8, 0), dt.datetime(2025, 6, 2, 9, 0))
    sent_earlier = Provenance("sheet v2.docx", received_at=dt.datetime(2025, 6, 1, 8, 0, tzinfo=dt.UTC))
    decision = decide(_voucher("Grace"), sent_earlier, "ab", MemoryHistory(earlier=[("|sheet", later)]), NOW)
    assert decision.status is Status.SUPERSEDED
    assert decision.superseded_by == (3, "a corrected version: same sender and file name")
    assert decision.supersedes == {}


def test_one_plan_per_project():
    plan = EarlierForm(4, "planning", "Carers Week", None, EARLIER)
    decision = decide(
        ParsedFile("planning", PlanningForm(project_name="Carers Week")),
        Provenance("plan.docx"),
        "ab",
        MemoryHistory(earlier=[("|other plan", plan)]),
        NOW,
    )
    assert decision.supersedes == {4: "a newer plan for the same project (one plan per project)"}
