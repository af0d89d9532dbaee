"""Child processes die with the process that started them.

A run killed by the OOM killer, a power cut or `kill -9` must not leave its parsers behind
(each holds the readers in memory, ~100 MB, and may hold a file's personal data). Linux can
send a signal to a process when its parent dies (prctl PR_SET_PDEATHSIG): the fork server
asks for it when it starts, and every process forked from it (parsing workers, report
renderers, LibreOffice's parent) when it starts, so a kill of the run takes the whole tree.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
FORK_SERVER_PID = "COFORMS_FORK_SERVER_PID"  # set by the fork server, inherited by what it forks


@functools.cache
def _libc() -> ctypes.CDLL:
    """Loaded once, before any fork: die_with_parent also runs between fork and exec (LibreOffice),
    where looking the library up (it runs ldconfig) would be unsafe."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def die_with_parent(expected_parent: int | None = None) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere nothing).

    A parent that died before the request was made is noticed too: this process has then been
    handed to another parent, and it exits at once. `expected_parent` is that parent's pid
    when it is known (a process forked by the fork server may start after the server died)."""
    if not sys.platform.startswith("linux"):
        return
    parent = expected_parent or os.getppid()
    try:
        _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: a child may outlive a killed run, as before
        return
    if os.getppid() != parent:
        os._exit(1)


def die_with_fork_server() -> None:
    """For a process forked by the parsers' fork server (pipeline.runtime.forkserver_init): the
    initializer of every pool whose processes come from it."""
    server = os.environ.get(FORK_SERVER_PID, "")
    die_with_parent(int(server) if server.isdigit() else None)
