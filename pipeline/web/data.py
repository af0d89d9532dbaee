"""The warehouse, opened for one request and closed after it: a run needs the embedded warehouse
to itself while it loads, so the app never keeps it open. While a run holds it, pages say so."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.settings import Settings
from pipeline.store.database import WarehouseBusy
from pipeline.store.warehouse import Warehouse, warehouse_exists


class RunGoing(Exception):
    """A run is loading forms into the warehouse: try again in a minute."""


class NoWarehouse(Exception):
    """Nothing has been loaded yet."""


@contextmanager
def reading(settings: Settings) -> Iterator[Warehouse]:
    if not warehouse_exists(settings.warehouse):
        raise NoWarehouse()
    try:
        with Warehouse(settings.warehouse, read_only=True) as warehouse:
            yield warehouse
    except WarehouseBusy as exc:
        raise RunGoing() from exc
