"""Rewrite the reports from the warehouse after every run (and after every admin action)."""

from __future__ import annotations

from pathlib import Path

from pipeline.reports.exceptions import write_exceptions_report
from pipeline.reports.summary_page import write_summary_page
from pipeline.reports.vouchers import write_voucher_reconciliation
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse

EXCEPTIONS_FILE = "exceptions.xlsx"
VOUCHERS_FILE = "voucher_reconciliation.xlsx"
SUMMARY_FILE = "summary.html"


def write_reports(warehouse: Warehouse, outputs: Path, settings: Settings | None = None) -> list[Path]:
    settings = settings or Settings(outputs=outputs)
    exceptions, vouchers, summary = outputs / EXCEPTIONS_FILE, outputs / VOUCHERS_FILE, outputs / SUMMARY_FILE
    write_exceptions_report(warehouse, exceptions)
    write_voucher_reconciliation(warehouse, vouchers, settings)
    write_summary_page(warehouse, summary, settings)
    return [exceptions, vouchers, summary]
