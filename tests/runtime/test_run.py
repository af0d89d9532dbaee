"""`coforms run` end to end on a temp inbox: the views, the workbooks, the inbox and archive."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
from typer.testing import CliRunner

from pipeline.cli import app
from tests.conftest import GOLDEN, RUN_VIEWS, copy_samples, resaved

runner = CliRunner()


def _run(workdir: Path, *args: str):
    result = runner.invoke(
        app, ["run", "--inbox", str(workdir / "inbox"), "--outputs", str(workdir / "outputs"), *args]
    )
    assert result.exit_code == 0, result.output
    return result


def _views(workdir: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    try:
        return {v: con.execute(f"SELECT * FROM {v} ORDER BY ALL").fetchall() for v in RUN_VIEWS}
    finally:
        con.close()


def test_sample_inbox_fills_every_view_and_both_workbooks(workdir):
    samples = copy_samples(workdir / "inbox")
    result = _run(workdir)
    assert "Forms received" in result.output and "£ loaded" in result.output
    views = _views(workdir)
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    status = dict(con.execute("SELECT source_file, status FROM submissions").fetchall())
    forms = {r[0] for r in con.execute("SELECT DISTINCT form_type FROM submissions WHERE status = 'loaded'").fetchall()}
    con.close()
    assert len(status) == len(samples) + 1  # the sample email carries two forms
    assert status["Evaluation (printed).pdf"] == status["Monitoring form (filled in).pdf"] == "loaded"
    assert forms == {"planning", "evaluation", "monitoring", "voucher"}
    assert status["Meeting notes.docx"] == "rejected"
    assert status["Carers Week evaluation - resident 3.docx"] == "held"  # two boxes ticked
    assert status["Vouchers workshop 3.docx"] == "held"  # an amount of '£ten'
    assert [r[2] for r in views["planning_leads"]] == ["Amira Hassan", "Tom Okafor"]
    assert len(views["evaluation_scores"]) == 12 * 4  # four loaded evaluations
    assert {r[1] for r in views["evaluation_themes"]} <= {
        "safety",
        "equality",
        "health",
        "housing",
        "income_and_affordability",
        "empowered_citizenship",
        "lifelong_learning",
        "social_connections_and_community",
        "environment",
    }
    assert len(views["monitoring"]) == 3
    assert sum(r[6] for r in views["voucher_lines"]) == __import__("decimal").Decimal("153.00")  # 82.50 of it scanned
    assert status["Vouchers September (scanned).png"] == "loaded"
    assert {r[8] for r in views["voucher_lines"]} == {"text", "ocr"}
    codes = {r[5] for r in views["exceptions"]}
    assert {"unknown_form", "ambiguous_answer", "invalid_amount", "unsigned", "over_cap", "ocr_read"} <= codes
    # the inbox is emptied, every original archived by its hash
    assert list((workdir / "inbox").iterdir()) == []
    assert len(list((workdir / "outputs" / "archive").rglob("*"))) >= len(samples)
    for report in ("exceptions.xlsx", "voucher_reconciliation.xlsx"):
        assert (workdir / "outputs" / report).stat().st_size > 0


def test_a_rerun_changes_nothing(workdir):
    copy_samples(workdir / "inbox")
    _run(workdir)
    before = _views(workdir)
    _run(workdir)
    assert _views(workdir) == before


def test_the_same_file_sent_again_is_recorded_as_a_duplicate(workdir):
    shutil.copy(GOLDEN / "voucher" / "table_total_row.docx", workdir / "inbox" / "vouchers.docx")
    _run(workdir)
    shutil.copy(GOLDEN / "voucher" / "table_total_row.docx", workdir / "inbox" / "vouchers (resent).docx")
    _run(workdir)
    views = _views(workdir)
    assert [r[8] for r in views["submissions"]] == ["loaded", "duplicate"]
    assert len(views["voucher_lines"]) == 4


def test_exceptions_workbook_is_filterable_and_says_what_to_ask(workdir):
    copy_samples(workdir / "inbox")
    _run(workdir)
    wb = openpyxl.load_workbook(workdir / "outputs" / "exceptions.xlsx")
    ws = wb["Open exceptions"]
    header = [c.value for c in ws[3]]
    assert header[:2] == ["File", "Sender"]  # what the admin looks for first
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref.startswith("A3:")
    rows = [dict(zip(header, (c.value for c in row), strict=False)) for row in ws.iter_rows(min_row=4)]
    not_read = wb["Files not read"]  # a file that is no form is not a form to correct: listed apart
    header2 = [c.value for c in not_read[3]]
    others = [dict(zip(header2, (c.value for c in row), strict=False)) for row in not_read.iter_rows(min_row=4)]
    unknown = next(r for r in others if r["Problem"] == "unknown_form")
    assert unknown["File"] == "Meeting notes.docx" and "template" in unknown["What to ask the sender"]
    assert "unknown_form" not in {r["Problem"] for r in rows}
    for sender in {r["Sender"] for r in rows}:  # within each sender, newest first
        received = [r["Received"] for r in rows if r["Sender"] == sender]
        assert received == sorted(received, reverse=True)
    assert "Problem codes" in wb.sheetnames


def test_voucher_reconciliation_ties_out_to_the_penny(workdir):
    copy_samples(workdir / "inbox")
    _run(workdir)
    wb = openpyxl.load_workbook(workdir / "outputs" / "voucher_reconciliation.xlsx")
    totals = {r[0].value: r[1].value for r in wb["Control totals"].iter_rows(min_row=4)}
    assert totals["£ loaded (signed and unsigned)"] == 153  # £70.50 typed, £82.50 from the scanned sheet
    assert totals["Voucher lines loaded"] == 4 + 6
    assert totals["Voucher forms held (errors to correct)"] == 1
    # the held sheet: '£ten' (invalid, stays null) + £20 + £150 + £15
    assert totals["£ in held forms (not yet loaded)"] == 185
    by_month = {r[0].value: r[3].value for r in wb["By month"].iter_rows(min_row=2)}
    assert by_month == {"2025-05": 70.5, "2025-09": 82.5}
    # the held sheet's lines are listed here; the loaded ones (May 2025) in their year's workbook
    held = list(wb["Lines"].iter_rows(min_row=4, values_only=True))
    assert {row[0] for row in held} == {"held"} and len(held) == 4
    assert wb["Lines"]["H5"].number_format == '"£"#,##0.00'
    year = openpyxl.load_workbook(workdir / "outputs" / "voucher_lines" / "voucher_lines_2025-26.xlsx")
    loaded = list(year["Lines"].iter_rows(min_row=4, values_only=True))
    assert sum(row[7] for row in loaded) == 153 and {row[0] for row in loaded} == {"loaded"}
    assert all(row[9] and row[11] for row in held + loaded)  # every line names its file and where in it


def test_no_input_text_is_ever_written_as_a_formula(workdir):
    from tests.fixtures.wordml import WordDoc

    WordDoc().p("Co-production Attendance and Voucher Collection").p('Project Name: =HYPERLINK("http://x","y")').table(
        [
            ["Name", "Date", "Activity", "Time Spent", "Voucher Amount Received", "Signed by recipient"],
            ["=1+1", "06/05/2025", "@SUM(A1)", "2 hours", "£ten", "+x"],
        ]
    ).save(workdir / "inbox" / "evil.docx")
    _run(workdir)
    for report in ("exceptions.xlsx", "voucher_reconciliation.xlsx"):
        wb = openpyxl.load_workbook(workdir / "outputs" / report)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{report}!{ws.title}!{cell.coordinate}: {cell.value}"


def test_run_exits_non_zero_only_when_the_run_itself_fails(workdir):
    (workdir / "outputs").write_text("a file where the outputs folder should be")
    result = runner.invoke(app, ["run", "--inbox", str(workdir / "inbox"), "--outputs", str(workdir / "outputs")])
    assert result.exit_code == 1


def test_console_command_runs_in_a_fresh_process(workdir):
    shutil.copy(GOLDEN / "planning" / "sheet.xlsx", workdir / "inbox" / "plan.xlsx")
    exe = Path(sys.executable).with_name("coforms")
    proc = subprocess.run(
        [str(exe), "run"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COFORMS_OUTPUTS": str(workdir / "out")},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Loaded" in proc.stdout and (workdir / "out" / "warehouse.duckdb").exists()


def test_a_claim_sent_on_two_forms_is_flagged_on_the_second(workdir):
    shutil.copy(GOLDEN / "voucher" / "table_total_row.docx", workdir / "inbox" / "a.docx")
    _run(workdir)
    shutil.copy(GOLDEN / "voucher" / "sheet_numeric_amounts.xlsx", workdir / "inbox" / "b.xlsx")  # same four lines
    _run(workdir)
    views = _views(workdir)
    flagged = [r for r in views["exceptions"] if r[5] == "possible_duplicate_claim"]
    assert len(flagged) == 4 and {r[1] for r in flagged} == {"b.xlsx"}
    assert all('already claimed on "a.docx" (submission 1)' in r[8] for r in flagged)
    assert all(r[4] == "warning" for r in flagged)  # a warning: the second form still loads


def test_a_file_over_the_size_limit_is_rejected_not_read(workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_MAX_FILE_BYTES", "1000")
    shutil.copy(GOLDEN / "voucher" / "table_total_row.docx", workdir / "inbox" / "big.docx")
    _run(workdir)
    views = _views(workdir)
    assert [(r[2], r[8]) for r in views["submissions"]] == [("big.docx", "rejected")]
    assert [r[5] for r in views["exceptions"]] == ["too_large"]
    assert list((workdir / "outputs" / "archive").rglob("*/*"))  # kept all the same


def test_the_voucher_cap_comes_from_settings(workdir, monkeypatch):
    monkeypatch.setenv("COFORMS_VOUCHER_LINE_CAP", "18")
    shutil.copy(GOLDEN / "voucher" / "table_total_row.docx", workdir / "inbox" / "v.docx")
    _run(workdir)
    over = [r[6] for r in _views(workdir)["exceptions"] if r[5] == "over_cap"]
    assert over == ["lines.1.amount", "lines.2.amount"]  # the two £20 lines; £15.50 and £15 are under


def test_progress_bar_on_a_terminal(workdir):
    import pty
    import select

    for i in range(3):
        shutil.copy(GOLDEN / "planning" / "sheet.xlsx", workdir / "inbox" / f"plan{i}.xlsx")
    exe = Path(sys.executable).with_name("coforms")
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [str(exe), "run"],
        cwd=workdir,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    proc.wait(timeout=60)
    os.close(leader)
    text = output.decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "Reading forms" in text and "3/3" in text  # the bar, then the summary
    assert "Loaded" in text


def test_a_name_written_on_a_monitoring_form_reaches_no_output(workdir):
    """The monitoring form is anonymous: not the warehouse (see test_warehouse), reports, replies or log."""
    copy_samples(workdir / "inbox")
    (workdir / "inbox" / "monitoring.eml").write_bytes(
        __import__("tests.fixtures.emails", fromlist=["x"])
        .attach(
            __import__("tests.fixtures.emails", fromlist=["x"]).message(subject="Monitoring"),
            (GOLDEN / "monitoring" / "bad_two_ages.docx").read_bytes(),
            "monitoring.docx",
        )
        .as_bytes()
    )
    _run(workdir)
    outputs = workdir / "outputs"
    assert list((outputs / "replies").iterdir())  # the held monitoring form got a reply draft
    for path in outputs.rglob("*"):
        if path.is_file() and "archive" not in path.parts:  # the archive keeps originals as sent
            data = path.read_bytes()
            if path.suffix == ".xlsx":
                with __import__("zipfile").ZipFile(path) as zf:
                    data = b"".join(zf.read(n) for n in zf.namelist())
            # (Margaret Hughes is a voucher recipient on the scanned sample sheet: her name is rightly there,
            # also as the two lines the scan reads, "Margaret\nHughes" in the kept reading's JSON)
            assert not re.search(rb"Margaret(?!(?:\s|\\n)+Hughes)", data), path


def test_an_evaluation_without_a_project_takes_it_from_the_subject_even_in_the_same_run(workdir):
    from tests.fixtures import emails

    inbox = workdir / "inbox"
    inbox.mkdir(exist_ok=True)
    shutil.copy(GOLDEN / "planning" / "toolkit_layout.docx", inbox / "01 plan.docx")
    named = emails.attach(
        emails.message(subject="Evaluation - Carers Week Co-design Group"),
        emails.golden("evaluation/bad_no_project.docx"),
        "evaluation.docx",
    )
    unnamed = emails.attach(
        emails.message(subject="Evaluation attached"),
        resaved(emails.golden("evaluation/bad_no_project.docx"), "another copy"),
        "evaluation again.docx",
    )
    (inbox / "02 named.eml").write_bytes(named.as_bytes())
    (inbox / "03 unnamed.eml").write_bytes(unnamed.as_bytes())
    _run(workdir)
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    rows = dict(con.execute("SELECT source_file, (status, project_name) FROM submissions").fetchall())
    codes = {r[0] for r in con.execute("SELECT source_file FROM exceptions WHERE code = 'project_unknown'").fetchall()}
    con.close()
    assert rows["evaluation.docx"] == ("loaded", "Carers Week Co-design Group")
    assert rows["evaluation again.docx"][1] is None and codes == {"evaluation again.docx"}


def test_a_batch_s_originals_are_on_the_disk_before_it_commits(workdir, monkeypatch):
    # the archive is written without a fsync per file; one sync for the batch must come before the
    # commit (after it, the files leave the inbox and the archive is the only copy)
    import pipeline.runtime.run as run

    events: list = []
    real_sync, real_crash_point = run.sync_to_disk, run.crash_point

    def sync_to_disk(paths):
        paths = list(paths)
        events.append(("synced", paths))
        real_sync(paths)

    def crash_point(name):
        events.append((name, None))
        real_crash_point(name)

    monkeypatch.setattr(run, "sync_to_disk", sync_to_disk)
    monkeypatch.setattr(run, "crash_point", crash_point)
    copy_samples(workdir / "inbox")
    _run(workdir)
    archived = {p for p in (workdir / "outputs" / "archive").rglob("*") if p.is_file()}
    order = [name for name, _ in events if name in ("synced", "before_batch_commit", "before_unlink")]
    assert order[:3] == ["synced", "before_batch_commit", "before_unlink"]  # one batch: synced, committed, unlinked
    assert {path for name, paths in events if name == "synced" for path in paths} == archived
