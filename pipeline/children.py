"""Child processes die with the process that started them.

A run killed by the OOM killer, a power cut or `kill -9` must not leave its parsers behind
(each holds the readers in memory, ~100 MB, and may hold a file's personal data). Linux can
send a signal to a process when its parent dies (prctl PR_SET_PDEATHSIG): the fork server
asks for it when it starts, and every process forked from it (parsing workers, report
renderers, LibreOffice's parent) when it starts, so a kill of the run takes the whole tree.

A run that ends normally ends its helper processes itself and waits for them
(stop_servers_at_exit): nothing of it outlives it, and whatever measures the run (`make bench`)
sees all the CPU its processes used.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import multiprocessing.util
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


def renderer_started(tmp) -> None:
    """The initializer of the report renderers (pipeline.reports.write), here rather than beside
    them: a pool's initializer is imported by each process it starts, and pipeline.reports.write
    brings the warehouse and SQLAlchemy (~0.2 s of CPU a renderer) that a renderer never uses."""
    from pipeline.workspace import use_temp_dir

    die_with_fork_server()  # dies with the fork server, which dies with the run
    use_temp_dir(tmp)  # xlsxwriter's row files name the recipients: under the run's tmp/


def _stop_servers() -> None:
    """End multiprocessing's fork server and resource tracker, if this process started them, and
    wait for them. Without this both outlive the process that started them: the fork server until
    its parent-death signal kills it, the resource tracker until it reads the end of its pipe, and
    nobody waits for either."""
    from multiprocessing import forkserver, resource_tracker

    # the fork server first: the processes it forked are ended by now (pools joined, renderers shut
    # down), and it asks nothing of the resource tracker
    for server in (forkserver._forkserver, resource_tracker._resource_tracker):
        stop = getattr(server, "_stop", None)  # CPython's own (its tests use it), 3.8 and later
        if stop is not None:
            # the fork server's socket may be gone with multiprocessing's temporary folder (when this
            # runs as the interpreter is torn down): the server has been waited for by then
            with contextlib.suppress(OSError):
                stop()


@functools.cache
def stop_servers_at_exit() -> None:
    """Have _stop_servers run when this process exits normally. It is one of multiprocessing's own
    exit finalizers, with a priority below zero: it runs after the semaphores are released (else
    the resource tracker would warn of them as leaked) and the child processes still running are
    joined, and before multiprocessing's temporary folder (-100: the fork server's socket) goes.
    A process forked from this one does not run it (a finalizer runs only in the process that
    made it)."""
    multiprocessing.util.Finalize(None, _stop_servers, exitpriority=-50)


# Every module that starts processes from the fork server imports this one (the parsing pool, the
# report renderers, pipeline.read.isolated): whichever starts it, the servers end with the process.
stop_servers_at_exit()
