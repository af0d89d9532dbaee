"""Rewrite the reports from the warehouse after every run (and after every admin action).

Everything the reports show is gathered from the warehouse here first (the warehouse has one
connection, in this process); the rendering, which takes longer, is shared out: the summary
page's charts (matplotlib is slow to start) and finance's workbooks are drawn by other
processes while this one writes the admin's workbook.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from pipeline.children import die_with_fork_server
from pipeline.files import private_dir, write_atomically
from pipeline.reports.exceptions import exceptions_report
from pipeline.reports.summary_page import page_data, render_html
from pipeline.reports.vouchers import voucher_reports
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse
from pipeline.workspace import temp_dir, use_temp_dir

EXCEPTIONS_FILE = "exceptions.xlsx"
VOUCHERS_FILE = "voucher_reconciliation.xlsx"
SUMMARY_FILE = "summary.html"


def write_reports(
    warehouse: Warehouse, outputs: Path, settings: Settings | None = None, today: dt.date | None = None
) -> list[Path]:
    settings = settings or Settings(outputs=outputs)
    exceptions, vouchers, summary = outputs / EXCEPTIONS_FILE, outputs / VOUCHERS_FILE, outputs / SUMMARY_FILE
    with _renderers(settings.workers, private_dir(temp_dir(outputs))) as others:
        html = others.submit(render_html, page_data(warehouse, settings))  # drawn while the rest is gathered
        finance = voucher_reports(warehouse, outputs, settings, today)
        workbooks = {vouchers: finance.reconciliation, **finance.years.to_write}
        biggest_first = sorted(workbooks.items(), key=lambda item: -item[1].cells())
        rendered = [(path, others.submit(report.render)) for path, report in biggest_first]
        exceptions_report(warehouse).save(exceptions)
        for path, workbook in rendered:
            write_atomically(path, workbook.result())
        page = html.result()
    finance.years.finish()
    write_atomically(summary, page)
    return [exceptions, vouchers, summary]


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


def _renderer_started(tmp: Path) -> None:
    die_with_fork_server()  # dies with the fork server, which dies with the run (pipeline.children)
    use_temp_dir(tmp)  # xlsxwriter's row files name the recipients: under the run's tmp/


def _renderers(workers: int, tmp: Path) -> ProcessPoolExecutor | _InProcess:
    if workers > 1:
        return ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_renderer_started,
            initargs=(tmp,),
        )
    return _InProcess()
