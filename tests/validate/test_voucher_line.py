"""A voucher line carries what belongs to it: where it was read and the claim it makes (issue 17)."""

from __future__ import annotations

import pickle

from pipeline.runtime.parse import parse_file
from pipeline.validate.names import claim_key
from tests.conftest import GOLDEN


def test_each_line_knows_its_row_and_its_claim_even_after_crossing_a_process(ctx):
    parsed = parse_file((GOLDEN / "voucher" / "table_total_row.docx").read_bytes(), ctx)
    lines = pickle.loads(pickle.dumps(parsed.form)).lines  # as it comes back from a parsing worker
    assert lines and all(line.location for line in lines)
    assert [line.location for line in lines] == [parsed.locations[f"lines.{line.line_no}"] for line in lines]
    assert [line.claim_key for line in lines] == [claim_key(line.name, line.date, line.activity) for line in lines]
    assert all("location" not in values for values in parsed.form.model_dump()["lines"])  # not a value of the form
