"""A finished `coforms run` leaves no process behind: the parsers' fork server, the pool's workers,
the report renderers and multiprocessing's resource tracker are all ended and waited for before
the run's process exits (pipeline.children.stop_servers_at_exit).

The run is started under bench.tree, which makes itself a subreaper: a process of the run's
tree that outlives the run's own process (alive, or dead but never waited for) is handed to it,
and it lists those at the moment the run exits."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench.tree import measure
from tests.conftest import coforms_env

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
COFORMS = str(Path(sys.executable).with_name("coforms"))


def test_a_run_leaves_no_process_behind(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # a typed PDF and a Word file: read by workers forked from the fork server; the reports are
    # then rendered by processes forked from it too
    shutil.copyfile(GOLDEN / "evaluation" / "pdf_ticks_glyph.pdf", inbox / "evaluation.pdf")
    shutil.copyfile(GOLDEN / "evaluation" / "ticks_glyph.docx", inbox / "evaluation.docx")

    usage = measure([COFORMS, "run"], coforms_env(inbox, tmp_path / "outputs"))

    assert usage.returncode == 0, usage.stderr[-2000:]
    assert usage.processes_seen > 1  # the tree was there to leave something behind
    assert usage.left_behind == []
    assert "leaked" not in usage.stderr  # the resource tracker found nothing left to clean up
    assert not list(inbox.iterdir())  # and the run did its work
