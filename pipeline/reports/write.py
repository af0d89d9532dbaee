"""Rewrite the reports from the warehouse after every run (and after every admin action).

The summary page's charts are drawn in another process while this one writes the two
workbooks (drawing needs no warehouse, and matplotlib is slow to start): on two cores the
reports take the time of the workbooks alone.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pipeline.files import write_atomically
from pipeline.reports.exceptions import write_exceptions_report
from pipeline.reports.summary_page import page_data, render_html
from pipeline.reports.vouchers import write_voucher_reconciliation
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse

EXCEPTIONS_FILE = "exceptions.xlsx"
VOUCHERS_FILE = "voucher_reconciliation.xlsx"
SUMMARY_FILE = "summary.html"


def write_reports(warehouse: Warehouse, outputs: Path, settings: Settings | None = None) -> list[Path]:
    settings = settings or Settings(outputs=outputs)
    exceptions, vouchers, summary = outputs / EXCEPTIONS_FILE, outputs / VOUCHERS_FILE, outputs / SUMMARY_FILE
    data = page_data(warehouse, settings)
    if settings.workers > 1:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")) as drawing:
            html = drawing.submit(render_html, data)
            write_exceptions_report(warehouse, exceptions)
            write_voucher_reconciliation(warehouse, vouchers, settings)
            page = html.result()
    else:
        write_exceptions_report(warehouse, exceptions)
        write_voucher_reconciliation(warehouse, vouchers, settings)
        page = render_html(data)
    write_atomically(summary, page)
    return [exceptions, vouchers, summary]
