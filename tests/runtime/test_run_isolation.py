"""pipeline.runtime.run: whatever one inbox file does to the run's own code costs that file only, a
file still changing is never removed, and things recorded without bytes are never taken for
copies of each other."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

import pipeline.runtime.run as run
from pipeline.admin.check import check
from pipeline.settings import Settings
from tests.conftest import GOLDEN


def _statuses(workdir: Path) -> dict[str, tuple[str, list[str]]]:
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT s.source_file, s.status, list(e.code ORDER BY e.code) FILTER (e.code IS NOT NULL) "
            "FROM submissions s LEFT JOIN exceptions e USING (submission_id) GROUP BY ALL"
        ).fetchall()
    finally:
        con.close()
    return {name: (status, codes or []) for name, status, codes in rows}


def _inbox_with_two_good_forms(workdir: Path) -> None:
    shutil.copy(GOLDEN / "voucher" / "table_total_row.docx", workdir / "inbox" / "vouchers.docx")
    shutil.copy(GOLDEN / "planning" / "sheet.xlsx", workdir / "inbox" / "plan.xlsx")


def test_a_file_that_breaks_taking_apart_is_an_internal_error_and_the_batch_goes_on(workdir, settings, monkeypatch):
    _inbox_with_two_good_forms(workdir)
    (workdir / "inbox" / "breaks us.eml").write_bytes(b"From: a@b.org\r\nSubject: x\r\nDate: today\r\n\r\nhi")
    real = run.attachments_of

    def attachments_of(item, *args):
        if item.name == "breaks us.eml":
            raise KeyError("a bug of ours")
        return real(item, *args)

    monkeypatch.setattr(run, "attachments_of", attachments_of)
    summary = run.run_pipeline(settings)
    statuses = _statuses(workdir)
    assert statuses["breaks us.eml"] == ("rejected", ["internal_error"])
    assert statuses["vouchers.docx"][0] == statuses["plan.xlsx"][0] == "loaded"
    assert summary.files == 3 and not list((workdir / "inbox").iterdir())
    assert check(settings).ok


def test_links_refused_in_one_run_are_each_recorded_never_as_duplicates(workdir, settings, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("IMAP_PASSWORD=hunter2")
    for name in ("link one.docx", "link two.docx", "link three.xlsx"):
        os.symlink(secret, workdir / "inbox" / name)
    run.run_pipeline(settings)
    statuses = _statuses(workdir)
    assert [statuses[n] for n in ("link one.docx", "link two.docx", "link three.xlsx")] == [
        ("rejected", ["not_a_file"])
    ] * 3
    archived = b"".join(p.read_bytes() for p in (workdir / "outputs" / "archive").rglob("*") if p.is_file())
    assert b"hunter2" not in archived
    assert check(settings).ok


def test_a_file_that_changed_after_it_was_read_stays_in_the_inbox(workdir, settings, monkeypatch):
    _inbox_with_two_good_forms(workdir)
    real = run._record_batch

    def record_batch(batch, *args):  # the file is written to again while its batch is recorded
        with (workdir / "inbox" / "plan.xlsx").open("ab") as fh:
            fh.write(b"more bytes, still arriving")
        return real(batch, *args)

    monkeypatch.setattr(run, "_record_batch", record_batch)
    run.run_pipeline(settings)
    assert [p.name for p in (workdir / "inbox").iterdir()] == ["plan.xlsx"]  # left for the next run
    assert check(Settings(inbox=workdir / "inbox", outputs=workdir / "outputs")).ok
