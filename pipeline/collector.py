"""Python's cycle collector, paused where a piece of work makes many long-lived objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Reading a file, or gathering finance's figures, makes some 10^5 small objects that live
    until the work is done (a reader's characters and elements; a row, a claim and a sheet row per
    voucher line), and the cycle collector walks them again and again as they pile up: 15-20% of
    the work, for little garbage (nearly all of it is freed by reference counting). What cycles are
    left are collected once the collector is back on, as it always is afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
