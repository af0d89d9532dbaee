"""Named crash points, for the kill tests (tests/runtime/test_crash_safety.py).

`COFORMS_CRASH_AT=name:n` makes the process SIGKILL itself the n-th time it reaches the point
`name`, exactly as a power cut or the OOM killer would stop it there. Unset (always, outside
those tests), a crash point costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}
_target = os.environ.get("COFORMS_CRASH_AT")
_name, _, _nth = (_target or "").partition(":")
_nth_int = int(_nth or 1) if _target else 0


def crash_point(name: str) -> None:
    if not _target or name != _name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == _nth_int:
        os.kill(os.getpid(), signal.SIGKILL)
