"""Run a command and measure its whole process tree, not only the process started.

    python -m bench.tree --report usage.json -- coforms run

`coforms run` reads files in worker processes forked from a fork server and renders reports
in others: `getrusage` of the command alone, or `/usr/bin/time`, sees only the run's own
process (a tenth of the CPU). This wrapper makes itself a *subreaper* (Linux prctl
PR_SET_CHILD_SUBREAPER): a process of the tree whose parent ends without waiting for it is
handed to the wrapper rather than to init, so the wrapper waits for every process of the
tree and the kernel adds each one's CPU and peak memory to the wrapper's children's usage.
Meanwhile a thread samples the tree's memory from /proc.

Reported (JSON): the wall time until the command exits; CPU (user + system) of every process
of the tree; the peak RSS of the largest process (exact: the kernel's high-water mark); the
tree's peak RSS and PSS (sums over the processes alive at once, sampled every SAMPLE_SECONDS;
PSS shares each page among the processes mapping it, so forked workers are not counted twice);
how many processes were seen, and each one (what it is, when it started, its CPU when last
sampled); and the processes still alive when the command exited (a run
must leave none: they are waited for, or killed after LINGER_SECONDS, so their CPU counts).
The wrapper's own sampling is not in the figures (it is the wrapper's CPU, not its children's).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36
SAMPLE_SECONDS = 0.05  # the tree and each process's RSS
PSS_EVERY = 5  # samples: the PSS every 0.25 s
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
_TICKS = os.sysconf("SC_CLK_TCK")
LINGER_SECONDS = 10.0  # how long processes left behind get to end on their own before they are killed


@dataclass
class TreeUsage:
    returncode: int
    wall_s: float
    cpu_s: float  # user + system of every process of the tree
    user_s: float
    system_s: float
    largest_process_peak_rss_mb: float
    tree_peak_rss_mb: float  # sampled: the most the processes alive at one time had resident
    tree_peak_pss_mb: float  # sampled, proportional: shared pages split among their processes
    most_processes_at_once: int
    processes_seen: int  # sampled: a process living less than SAMPLE_SECONDS may be missed
    left_behind: list[str] = field(default_factory=list)  # alive (or unwaited) when the command exited
    # each process seen: what it was, when it started (s after the command), its CPU when last seen
    processes: list[dict] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""


def become_subreaper() -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _parents() -> dict[int, int]:
    """Every process's parent, from /proc."""
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # the command name, in brackets, may hold spaces and brackets: the fields follow the last ')'
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def descendants(root: int) -> list[int]:
    """The processes below `root` (zombies included)."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def describe(pid: int) -> str:
    """`pid name: command line`, for a message."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return f"{pid} (gone)"
    return f"{pid} {name}: {cmdline[:200] or '(zombie)'}"


def _rss_kb(pid: int) -> int:
    """Resident memory of one process in kB (cheap: /proc/PID/statm); 0 when it is gone or a zombie."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KB
    except (OSError, ValueError, IndexError):
        return 0


def _pss_and_peak_kb(pid: int) -> tuple[int, int]:
    """(PSS, peak RSS) of one process in kB; zeros when it is gone. smaps_rollup walks the process's
    page tables (milliseconds for a few hundred MB): read less often than the RSS."""
    pss = peak = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
                break
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return pss, peak


class _Sampler(threading.Thread):
    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.stopping = threading.Event()
        self.tree_rss = self.tree_pss = self.largest_peak = self.most_at_once = 0
        self.seen: dict[tuple[int, int], dict] = {}  # (pid, start time): a pid may be used again
        self.samples = 0

    def run(self) -> None:
        # this thread only (Linux's nice is per thread): the measured processes go first, so the
        # sampling takes from them as little as it can of a busy machine
        os.nice(10)
        while not self.stopping.wait(SAMPLE_SECONDS):
            self.sample()

    def sample(self) -> None:
        with_pss = self.samples % PSS_EVERY == 0
        self.samples += 1
        rss = pss = alive = 0
        for pid in descendants(self.root):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            # after the name: state ppid ... utime (11) stime (12) ... starttime (19), in clock ticks
            key = (pid, int(fields[19]))
            if key not in self.seen:
                self.seen[key] = {"pid": pid, "parent": int(fields[1]), "what": _what(pid), "started_ticks": key[1]}
            if fields[0] != "Z":
                self.seen[key]["cpu_s"] = round((int(fields[11]) + int(fields[12])) / _TICKS, 2)
            resident = _rss_kb(pid)
            rss, alive = rss + resident, alive + (resident > 0)
            if with_pss:
                proportional, peak = _pss_and_peak_kb(pid)
                pss += proportional
                self.largest_peak = max(self.largest_peak, peak)
        self.tree_rss = max(self.tree_rss, rss)
        if with_pss:
            self.tree_pss = max(self.tree_pss, pss)
        self.most_at_once = max(self.most_at_once, alive)


def _what(pid: int) -> str:
    """What a process is, in a few words (a process forked from a fork server has its command line)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"
    for marker, what in (
        ("forkserver import main", "fork server (or forked from it)"),
        ("resource_tracker import main", "resource tracker"),
    ):
        if marker in cmdline:
            return what
    return " ".join(os.path.basename(arg) if arg.startswith("/") else arg for arg in cmdline.split())[:80]


def _timeline(seen: dict[tuple[int, int], dict]) -> list[dict]:
    """The processes seen, in the order they started, with their start relative to the first."""
    rows = sorted(seen.values(), key=lambda row: row["started_ticks"])
    first = rows[0]["started_ticks"] if rows else 0
    forked = {row["pid"] for row in rows if row["what"].startswith("fork server")}
    for row in rows:
        if row["what"].startswith("fork server") and row["parent"] in forked:
            row["what"] = "forked by the fork server: a parsing worker or a report renderer"
        elif row["what"].startswith("fork server"):
            row["what"] = "fork server"
        row["started_s"] = round((row.pop("started_ticks") - first) / _TICKS, 2)
    return rows


def _reap_all(linger: float) -> None:
    """Wait for every child left (handed to this subreaper); kill those still alive after `linger`."""
    deadline = time.monotonic() + linger
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            continue
        if time.monotonic() > deadline:
            for pid in descendants(os.getpid()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.01)


def run_tree(argv: list[str], env: dict | None = None, linger: float = LINGER_SECONDS) -> TreeUsage:
    """Run argv and measure its tree. Call in a process of its own (main below): it makes the calling
    process a subreaper and reaps all its children."""
    become_subreaper()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = _Sampler(os.getpid())
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        sampler.start()
        proc.wait()
        wall = time.perf_counter() - started
        left = [describe(pid) for pid in descendants(os.getpid())]
        _reap_all(linger)
        sampler.stopping.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    mb = 1024
    return TreeUsage(
        returncode=proc.returncode,
        wall_s=round(wall, 3),
        cpu_s=round(user + system, 3),
        user_s=round(user, 3),
        system_s=round(system, 3),
        largest_process_peak_rss_mb=round(max(after.ru_maxrss, sampler.largest_peak) / mb, 1),
        tree_peak_rss_mb=round(sampler.tree_rss / mb, 1),
        tree_peak_pss_mb=round(sampler.tree_pss / mb, 1),
        most_processes_at_once=sampler.most_at_once,
        processes_seen=len(sampler.seen),
        processes=_timeline(sampler.seen),
        left_behind=left,
        stdout=stdout,
        stderr=stderr,
    )


def measure(argv: list[str], env: dict | None = None) -> TreeUsage:
    """Run argv under the wrapper (a process of its own, so the caller's other children are not counted)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "usage.json"
        subprocess.run(
            [sys.executable, "-m", "bench.tree", "--report", str(report), "--", *argv],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,  # where `bench` is importable
            check=True,
        )
        return TreeUsage(**json.loads(report.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", type=Path, required=True, help="where to write the figures (JSON)")
    parser.add_argument("--linger", type=float, default=LINGER_SECONDS)
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    args.report.write_text(json.dumps(asdict(run_tree(argv, linger=args.linger))))


if __name__ == "__main__":
    main()
