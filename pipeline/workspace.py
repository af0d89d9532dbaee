"""The outputs folder made private, and the run's temporary files kept inside it.

Temporary files hold personal data (a report being written names the recipients of vouchers;
LibreOffice's copy of a form being converted is the form). They are written under
outputs/tmp, never the machine's shared /tmp: private like the rest of outputs, and emptied at
the start of every run, so a run that was killed leaves nothing behind for long. The same goes
for half-written archive files (`.name.*.tmp`, see pipeline.files.write_atomically).
"""

from __future__ import annotations

import logging
import multiprocessing.util
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.files import PRIVATE_DIR, private_dir

log = logging.getLogger(__name__)

# Everything this process puts in tmp/ comes after this module is loaded (private_tmp is
# here): what is older was left by a run that has stopped. (A second of margin: file times come
# from a coarser clock than time.time().)
_LOADED_AT = time.time() - 1.0


def temp_dir(outputs: Path) -> Path:
    """Absolute: the processes that use it may not share this one's working directory."""
    return (outputs / "tmp").resolve()


@contextmanager
def private_tmp(outputs: Path) -> Iterator[Path]:
    """Temporary files of this process under outputs/tmp while the block runs (the processes a
    run starts are told the folder themselves: `use_temp_dir`)."""
    tmp = private_dir(temp_dir(outputs)).resolve()
    # multiprocessing's own folder (the fork server's socket, nothing else) stays in the system's
    # temporary folder: a socket's path is limited to 108 bytes, which a deep outputs folder exceeds
    multiprocessing.util.get_temp_dir()
    previous = tempfile.tempdir
    tempfile.tempdir = str(tmp)
    try:
        yield tmp
    finally:
        tempfile.tempdir = previous


def use_temp_dir(tmp: Path | str | None) -> None:
    """In a worker or renderer process, as it starts: its temporary files under the run's tmp/."""
    if tmp is not None:
        tempfile.tempdir = str(tmp)


def prepare_outputs(outputs: Path) -> None:
    """At the start of a run, holding the run lock (no other run is using the folder): the outputs
    folder private, what a killed run left in tmp/ and the archive swept."""
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
