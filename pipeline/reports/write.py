"""Rewrite both workbooks from the warehouse after every run."""

from __future__ import annotations

from pathlib import Path

from pipeline.reports.exceptions import write_exceptions_report
from pipeline.reports.vouchers import write_voucher_reconciliation
from pipeline.warehouse import Warehouse

EXCEPTIONS_FILE = "exceptions.xlsx"
VOUCHERS_FILE = "voucher_reconciliation.xlsx"


def write_reports(warehouse: Warehouse, outputs: Path) -> list[Path]:
    exceptions, vouchers = outputs / EXCEPTIONS_FILE, outputs / VOUCHERS_FILE
    write_exceptions_report(warehouse, exceptions)
    write_voucher_reconciliation(warehouse, vouchers)
    return [exceptions, vouchers]
