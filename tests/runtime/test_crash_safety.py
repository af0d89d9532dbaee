"""Kill `coforms run` with SIGKILL at many points, run it again, and prove nothing was lost,
nothing loaded twice, and no report left half-written.

Each case is its own subprocess run stopped at a named crash point (pipeline/crash.py), the
n-th time it is reached, then an ordinary rerun. The views must then equal those of a run
that was never interrupted, and `coforms check` must find every input accounted for.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pipeline.admin.check import check
from pipeline.settings import Settings
from tests.conftest import GOLDEN, RUN_VIEWS, coforms_env
from tests.fixtures.build_golden import SAMPLE_EMAIL, _sample_email

COFORMS = str(Path(sys.executable).with_name("coforms"))
PARTS = 7  # attachments in the inbox below: the sample email carries two
# "no form.eml" is recorded without being parsed, so parsing happens six times


def _fill_inbox(inbox: Path) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / SAMPLE_EMAIL).write_bytes(_sample_email())
    shutil.copy(GOLDEN.parent / "golden_email" / "no_attachment.eml", inbox / "no form.eml")
    for source, name in [
        ("voucher/table_total_row.docx", "vouchers.docx"),
        ("evaluation/bad_two_ticks.docx", "evaluation.docx"),
        ("planning/sheet.xlsx", "plan.xlsx"),
    ]:
        shutil.copy(GOLDEN / source, inbox / name)
    for n, path in enumerate(sorted(inbox.iterdir())):  # a fixed order of arrival
        os.utime(path, ns=(1_700_000_000_000_000_000 + n, 1_700_000_000_000_000_000 + n))
    # last, in the same batch as the held evaluation: its correction, which supersedes it
    corrected = inbox / "evaluation (corrected).docx"
    shutil.copy(GOLDEN / "evaluation" / "ticks_sdt.docx", corrected)
    os.utime(corrected, ns=(1_700_000_001_000_000_000, 1_700_000_001_000_000_000))  # a second later


def _run(
    workdir: Path, crash_at: str | None = None, workers: int = 1, batch_size: int = 2
) -> subprocess.CompletedProcess:
    env = coforms_env(workdir / "inbox", workdir / "outputs", workers=workers, batch_size=batch_size)
    if crash_at:
        env["COFORMS_CRASH_AT"] = crash_at
    return subprocess.run([COFORMS, "run"], cwd=workdir, env=env, capture_output=True, text=True, timeout=180)


def _views(workdir: Path) -> dict[str, list[tuple]]:
    """Every public view, without the columns that name a run (ids, times); which form replaced
    which, by file name (a resumed run may number its submissions differently)."""
    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    out = {}
    for view in RUN_VIEWS:
        columns = [
            r[0]
            for r in con.execute(f"DESCRIBE {view}").fetchall()
            if r[0] not in ("submission_id", "loaded_at", "resolved_at", "superseded_by", "resolution")
        ]
        out[view] = sorted(con.execute(f"SELECT {', '.join(columns)} FROM {view}").fetchall(), key=repr)
    out["replaced"] = con.execute(
        "SELECT old.source_file, new.source_file, count(e.code) FROM submissions old "
        "JOIN submissions new ON old.superseded_by = new.submission_id "
        "LEFT JOIN exceptions e ON e.submission_id = old.submission_id "
        "AND e.resolution = 'replaced by submission ' || new.submission_id GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    con.close()
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    workdir = tmp_path_factory.mktemp("reference")
    _fill_inbox(workdir / "inbox")
    assert _run(workdir).returncode == 0
    return _views(workdir)


KILL_POINTS = (
    # (files are parsed in worker processes, never in the run's own: a worker killed while parsing is
    # the last test below)
    [
        f"{point}:{n}"
        for point in ("before_archive", "after_archive", "after_parse", "before_commit", "after_record")
        for n in range(1, PARTS + 1)
    ]
    + [f"before_batch_commit:{n}" for n in range(1, 4)]  # batches of two files
    + [f"{point}:{n}" for point in ("before_unlink", "after_unlink") for n in range(1, 7)]
    + ["before_reports:1"]
    + [f"before_rename:{n}" for n in range(1, 13)]  # 8 archive copies, three reports, one reply draft
)


def test_there_are_at_least_fifty_kill_points():
    assert len(KILL_POINTS) >= 50


def test_the_reference_run_has_a_correction_in_it(reference):
    status = {row[1]: row[7] for row in reference["submissions"]}  # source_file -> status
    assert (status["evaluation.docx"], status["evaluation (corrected).docx"]) == ("superseded", "loaded")
    assert reference["replaced"] == [("evaluation.docx", "evaluation (corrected).docx", 1)]  # its exception resolved


@pytest.mark.parametrize("crash_at", KILL_POINTS)
def test_killed_run_then_rerun_accounts_for_everything_once(crash_at, tmp_path, reference):
    _fill_inbox(tmp_path / "inbox")
    killed = _run(tmp_path, crash_at)
    assert killed.returncode == -signal.SIGKILL, f"the run was not stopped at {crash_at}: {killed.stderr[-500:]}"
    for report in (tmp_path / "outputs").glob("*.xlsx"):
        openpyxl.load_workbook(report)  # never half-written: old or new, whole
    settings = Settings(inbox=tmp_path / "inbox", outputs=tmp_path / "outputs")
    assert check(settings).accounted, check(settings).violations  # consistent even straight after the kill
    rerun = _run(tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    report = check(settings)
    assert report.ok, report.violations
    assert (report.pending_files, report.interrupted_files) == (0, 0)
    assert _views(tmp_path) == reference


def test_parsing_workers_killed_cost_only_their_files_and_the_run_goes_on(tmp_path):
    _fill_inbox(tmp_path / "inbox")
    # every worker is killed the first time it parses a file: each file is tried twice, then recorded
    run = _run(tmp_path, "during_parse:1", workers=2, batch_size=200)
    assert run.returncode == 0, run.stderr[-1000:]
    settings = Settings(inbox=tmp_path / "inbox", outputs=tmp_path / "outputs")
    report = check(settings)
    assert report.ok, report.violations
    assert report.pending_files == 0
    con = duckdb.connect(str(tmp_path / "outputs" / "warehouse.duckdb"), read_only=True)
    codes = con.execute(
        "SELECT s.source_file, e.code FROM submissions s JOIN exceptions e USING (submission_id) ORDER BY ALL"
    ).fetchall()
    con.close()
    assert {code for _, code in codes} == {"internal_error", "no_attachment"}
    assert sum(code == "internal_error" for _, code in codes) == PARTS - 1  # every part parsed, none lost


def _processes_marked(mark: str) -> list[int]:
    """Processes whose environment carries `mark` (a killed run's children would)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:  # gone, or not ours to read
                continue
    return found


@pytest.mark.parametrize("crash_at", ["after_parse:1", "before_rename:10"])
def test_a_killed_run_leaves_no_process_and_no_temporary_file_outside_outputs(crash_at, tmp_path):
    import time
    import uuid

    _fill_inbox(tmp_path / "inbox")
    (tmp_path / "many").mkdir()
    for n in range(8):  # enough files for both workers to be busy when the run is killed
        shutil.copy(GOLDEN / "voucher" / "pdf_table_total_row.pdf", tmp_path / "inbox" / f"copy {n}.pdf")
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    mark = f"TEST_RUN_MARK_{uuid.uuid4().hex}"
    os.environ["TEST_RUN_MARK"] = mark  # inherited by the run and everything it starts
    os.environ["TMPDIR"] = str(system_tmp)
    try:
        killed = _run(tmp_path, crash_at, workers=2, batch_size=200)
    finally:
        del os.environ["TEST_RUN_MARK"]
        del os.environ["TMPDIR"]
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-500:]
    deadline = time.monotonic() + 10
    while _processes_marked(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_marked(mark) == []
    # nothing but multiprocessing's socket folders (a socket's path must stay short), with no file in them
    left = [p for p in system_tmp.rglob("*") if not (p.is_dir() and p.name.startswith("pymp-")) and not p.is_socket()]
    assert left == []
    assert (tmp_path / "outputs").stat().st_mode & 0o777 == 0o700
    assert _run(tmp_path).returncode == 0
    assert list((tmp_path / "outputs" / "tmp").iterdir()) == []  # what the killed run left, swept
    assert not list((tmp_path / "outputs" / "archive").glob("*/.*.tmp"))


def test_a_worker_killed_while_libreoffice_converts_leaves_no_libreoffice_behind(tmp_path):
    import time
    import uuid

    (tmp_path / "inbox").mkdir()
    shutil.copy(GOLDEN / "voucher" / "legacy_sheet.xls", tmp_path / "inbox" / "old sheet.xls")
    # a stand-in for LibreOffice that, like its launcher, starts a process of its own and waits:
    # certain to be still running when the worker dies, whatever this machine's speed
    fake = tmp_path / "bin" / "soffice"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nsleep 120 &\nwait\n")
    fake.chmod(0o755)
    mark = f"TEST_RUN_MARK_{uuid.uuid4().hex}"
    os.environ["TEST_RUN_MARK"] = mark
    path = os.environ["PATH"]
    os.environ["PATH"] = f"{fake.parent}:{path}"
    try:  # the worker dies as soon as the conversion has started, on the first try and on the retry
        run = _run(tmp_path, "during_conversion:1", workers=1)
    finally:
        del os.environ["TEST_RUN_MARK"]
        os.environ["PATH"] = path
    assert run.returncode == 0, run.stderr[-1000:]
    deadline = time.monotonic() + 5
    while _processes_marked(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_marked(mark) == []
    con = duckdb.connect(str(tmp_path / "outputs" / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT code FROM exceptions").fetchall() == [("internal_error",)]
    con.close()
