"""The outputs folder made private, and the run's temporary files kept inside it.

Temporary files hold personal data (a report being written names the recipients of vouchers;
LibreOffice's copy of a form being converted is the form). They are written under
outputs/tmp, never the machine's shared /tmp: private like the rest of outputs, and emptied at
the start of every run, so a run that was killed leaves nothing behind for long. The same goes
for half-written archive files (`.name.*.tmp`, see pipeline.files.write_atomically).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from pipeline.files import PRIVATE_DIR, private_dir

log = logging.getLogger(__name__)

# Everything this process puts in tmp/ comes after this module is loaded (use_private_tmp is
# here): what is older was left by a run that has stopped. The multiprocessing fork server,
# started early by `coforms run` before it takes the run lock, keeps its socket in tmp/. (A
# second of margin: file times come from a coarser clock than time.time().)
_LOADED_AT = time.time() - 1.0


def temp_dir(outputs: Path) -> Path:
    return outputs / "tmp"


def use_private_tmp(outputs: Path) -> Path:
    """Point this process, and every process it starts from now on (TMPDIR), at outputs/tmp."""
    tmp = private_dir(temp_dir(outputs))
    os.environ["TMPDIR"] = str(tmp.resolve())
    tempfile.tempdir = str(tmp.resolve())
    return tmp


def prepare_outputs(outputs: Path) -> None:
    """At the start of a run, holding the run lock (no other run is using the folder): the outputs
    folder private, what a killed run left in tmp/ and the archive swept, temporary files from now
    on under tmp/."""
    private_dir(outputs)
    if outputs.stat().st_mode & 0o777 != PRIVATE_DIR:
        outputs.chmod(PRIVATE_DIR)
    tmp = temp_dir(outputs)
    swept = 0
    if tmp.is_dir():
        for leftover in tmp.iterdir():
            if leftover.lstat().st_mtime >= _LOADED_AT:
                continue  # this process's own
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            swept += 1
    archive = outputs / "archive"
    if archive.is_dir():
        for partial in archive.glob("*/.*.tmp"):
            partial.unlink(missing_ok=True)
            swept += 1
    if swept:
        log.info("removed %d temporary files left by an earlier run that was stopped", swept)
    use_private_tmp(outputs)
