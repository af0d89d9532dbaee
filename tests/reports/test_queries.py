"""The reports read the documented views; what needs a store table is a named query in
pipeline.reports.queries, which says why (issue 17)."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.reports import queries
from pipeline.store.warehouse import Warehouse

PIPELINE = Path(queries.__file__).parents[1]
# `FROM store.x` or `JOIN store.x` in SQL (an import of pipeline.store is not a read)
_STORE_READ = re.compile(r"\b(?:FROM|JOIN)\s+store\.\w+", re.IGNORECASE)


def test_reports_and_the_admins_reads_name_no_store_table_outside_the_queries_module():
    readers = [path for path in sorted((PIPELINE / "reports").glob("*.py")) if path.name != "queries.py"]
    readers += [PIPELINE / "admin" / "check.py", PIPELINE / "admin" / "replies.py"]
    offenders = [
        f"{path.relative_to(PIPELINE.parent)}:{n}: {line.strip()}"
        for path in readers
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if _STORE_READ.search(line)
    ]
    assert offenders == []


def test_every_named_query_runs_on_a_new_warehouse(tmp_path):
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        assert tuple(queries.voucher_control_totals(warehouse)) == (0, 0, 0, 0, 0, 0, 0, 0)
        for read in (
            queries.loaded_lines_by_month,
            queries.loaded_lines_by_activity,
            queries.loaded_lines_in_form_order,
            queries.claimed_lines,
            queries.double_claim_lines,
            queries.loaded_and_held_lines,
            queries.loaded_and_held_lines_with_claim_keys,
            queries.intake_records,
            queries.submissions_per_intake_part,
            queries.submission_files,
        ):
            assert read(warehouse) == [], read.__name__
        assert queries.voucher_forms_by_status(warehouse) == {}
        assert queries.problems_newest_first(warehouse, ["open", "resolved"]) == []
        assert queries.open_problems_of_emails(warehouse, [1, 2]) == []
