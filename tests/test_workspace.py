"""pipeline.workspace: temporary files under outputs/tmp, whatever the outputs folder's path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import GOLDEN

COFORMS = str(Path(sys.executable).with_name("coforms"))


def test_a_run_works_with_an_outputs_folder_deeper_than_a_socket_path_may_be(tmp_path):
    # a socket's path is limited to 108 bytes: the fork server's must not be made under outputs/
    deep = tmp_path / ("a" * 60) / ("b" * 60)
    (deep / "inbox").mkdir(parents=True)
    shutil.copy(GOLDEN / "planning" / "sheet.xlsx", deep / "inbox" / "plan.xlsx")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COFORMS_")}
    env.update(
        COFORMS_INBOX=str(deep / "inbox"),
        COFORMS_OUTPUTS=str(deep / "outputs"),
        COFORMS_SETTLE_SECONDS="0",
        COFORMS_WORKERS="2",
    )
    run = subprocess.run([COFORMS, "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-1000:] + run.stderr[-1000:]
    assert not list((deep / "inbox").iterdir())
