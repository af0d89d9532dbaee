"""Rewrite the reports from the warehouse after every run and every admin action, when they are
out of date (pipeline.reports.freshness), and on `coforms report`.

Everything the reports show is gathered from the warehouse here first (the warehouse has one
connection, in this process); the rendering is shared out: finance's workbooks, the summary page
and the admin's workbook are drawn by other processes, each as soon as its figures are gathered.
"""

from __future__ import annotations

import datetime as dt
import errno
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from pipeline.children import renderer_started
from pipeline.files import private_dir, write_atomically
from pipeline.reports.exceptions import exceptions_report
from pipeline.reports.freshness import REPORT_FILES, record_written, remember_stamp, stale_reports, warehouse_state
from pipeline.reports.summary_page import page_data, render_html
from pipeline.reports.vouchers import voucher_reports
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse
from pipeline.workspace import temp_dir

EXCEPTIONS_FILE, VOUCHERS_FILE, SUMMARY_FILE = REPORT_FILES


class ReportsNotWritten(Exception):
    """Some reports could not be written (the others were): the message names each file and what
    to do. Nothing is lost: the next run (or `coforms report`) writes them again."""

    def __init__(self, failures: dict[Path, OSError]):
        self.failures = failures
        super().__init__(" ".join(_why_not_written(path, exc) for path, exc in failures.items()))


def _why_not_written(path: Path, exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EBUSY, errno.ETXTBSY, errno.EISDIR):
        hint = "if it is open in Excel or a browser, close it"
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "the disk is full: free some space"
    elif exc.errno == errno.EROFS:
        hint = "its folder is read-only: choose a writable outputs folder"
    else:
        hint = exc.strerror or type(exc).__name__
    return f"{path} could not be written ({hint}). It is written again by the next run or `coforms report`."


def refresh_reports(
    warehouse: Warehouse, settings: Settings, today: dt.date | None = None, force: bool = False
) -> list[Path]:
    """Rewrite the reports if any of them is out of date (pipeline.reports.freshness), or always
    with `force`; returns the files written ([] when all were current)."""
    today = today or dt.date.today()
    if not force and not stale_reports(warehouse, settings, today, REPORT_FILES):
        remember_stamp(settings, today)
        return []
    return write_reports(warehouse, settings.outputs, settings, today)


def write_reports(
    warehouse: Warehouse, outputs: Path, settings: Settings | None = None, today: dt.date | None = None
) -> list[Path]:
    """Every report, from the warehouse as it is now. A file that cannot be written (open in Excel,
    a full disk) does not stop the others: ReportsNotWritten names it at the end."""
    settings = settings or Settings(outputs=outputs)
    today = today or dt.date.today()
    state = warehouse_state(warehouse)
    exceptions, vouchers, summary = outputs / EXCEPTIONS_FILE, outputs / VOUCHERS_FILE, outputs / SUMMARY_FILE
    failures: dict[Path, OSError] = {}
    unwritten: set[Path] = set()

    def write(path: Path, data: bytes) -> None:
        try:
            write_atomically(path, data)
        except OSError as exc:
            failures[path] = exc

    with _renderers(settings.workers, private_dir(temp_dir(outputs))) as others:
        # finance's workbooks first: the biggest to draw, they are drawn while the rest is gathered
        finance = voucher_reports(warehouse, outputs, settings, today)
        workbooks = {vouchers: finance.reconciliation, **finance.years.to_write}
        biggest_first = sorted(workbooks.items(), key=lambda item: -item[1].cells())
        rendered = [(path, others.submit(report.render)) for path, report in biggest_first]
        html = others.submit(render_html, page_data(warehouse, settings))
        admins = others.submit(exceptions_report(warehouse).render)
        for path, workbook in rendered:
            write(path, workbook.result())
        write(exceptions, admins.result())
        page = html.result()
    if any(path in failures for path in finance.years.to_write):
        unwritten.add(vouchers)  # finance's set is incomplete: recorded as out of date, so written again
    else:
        finance.years.finish()
    write(summary, page)
    main = [exceptions, vouchers, summary]
    unwritten |= failures.keys()
    record_written(outputs, state, settings, today, [p for p in main if p not in unwritten], unwritten)
    if failures:
        raise ReportsNotWritten(failures)
    return main


class _InProcess:
    """An executor that does the work at once, here: reports on a one-core machine."""

    def submit(self, fn, *args) -> Future:
        done: Future = Future()
        done.set_result(fn(*args))
        return done

    def __enter__(self) -> _InProcess:
        return self

    def __exit__(self, *exc) -> None:
        pass


def _renderers(workers: int, tmp: Path) -> ProcessPoolExecutor | _InProcess:
    if workers > 1:
        return ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=renderer_started,  # light: imported by every renderer
            initargs=(tmp,),
        )
    return _InProcess()
