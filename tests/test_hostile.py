"""The hostile corpus (tests/corpus/make_hostile.py) through `coforms run`: each file yields
its Problem, nothing crashes or hangs, nothing from outside a file gets in, memory stays bounded."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import openpyxl

from tests.conftest import coforms_env
from tests.corpus.make_hostile import HOSTILE, HOSTILE_DIR

COFORMS = str(Path(sys.executable).with_name("coforms"))


def test_corpus_is_complete():
    assert {p.name for p in HOSTILE_DIR.iterdir()} == set(HOSTILE)


def test_every_hostile_file_gets_its_problem_and_nothing_leaks(workdir):
    inbox = workdir / "inbox"
    for name in HOSTILE:
        shutil.copy(HOSTILE_DIR / name, inbox / name)
    with (inbox / "hundred_megabytes.docx").open("wb") as fh:  # a 100 MB file: refused without reading it
        fh.truncate(100 * 1024 * 1024)
    env = coforms_env(inbox, workdir / "outputs")
    # the run's own peak, and its workers': measured by a parent of its own (RUSAGE_CHILDREN of this
    # test process would also hold every earlier test's runs, some of which read scans)
    measure = (
        "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", measure, COFORMS, "run"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak_mb = int(proc.stdout.split()[-1]) / 1024
    print(f"\npeak RSS of the run over the hostile corpus: {peak_mb:.0f} MB")
    assert peak_mb < 1024

    con = duckdb.connect(str(workdir / "outputs" / "warehouse.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT s.source_file, s.container_file, s.status, list(e.code) FROM submissions s "
        "LEFT JOIN exceptions e USING (submission_id) GROUP BY ALL"
    ).fetchall()
    dump = repr(
        [
            con.execute(f"SELECT * FROM {t}").fetchall()
            for (t,) in con.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            ).fetchall()
        ]
    )
    con.close()
    by_file = {(container or source): (source, status, codes) for source, container, status, codes in rows}
    assert by_file["hundred_megabytes.docx"][1:] == ("rejected", ["too_large"])
    for name, code in HOSTILE.items():
        source, status, codes = by_file[name]
        if code is None:
            # read as the form it is; the corpus holds several plans of one project, and the
            # newest plan of a project supersedes the others
            assert status in ("loaded", "held", "superseded"), (name, status, codes)
        else:
            assert (status, codes[0]) == ("rejected", code), (name, status, codes)
    assert by_file["path_traversal.eml"][0] == "plan_.docx"
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    assert passwd not in dump and "root:x:0:0" not in dump
    assert list(inbox.iterdir()) == []

    for report in (workdir / "outputs").glob("*.xlsx"):
        with zipfile.ZipFile(report) as zf:
            xml = b"".join(zf.read(n) for n in zf.namelist() if n.endswith(".xml"))
        assert b"\x07" not in xml and b"root:x:0:0" not in xml
        for ws in openpyxl.load_workbook(report).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{report.name}!{cell.coordinate} is a formula"
