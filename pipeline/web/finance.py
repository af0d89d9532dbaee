"""Finance's page (finance and admin, read-only): the figures of voucher_reconciliation.xlsx, read
from the warehouse now, and the workbooks to download.

The page shows the workbook's own sheets, gathered by the same code that writes it
(pipeline.reports.vouchers.voucher_reports): control totals, the months, activities and people,
the lines of this financial year, possible double claims, the 12-month limit and, with finance's
ledger, what matched and what did not. So the page and the workbook cannot disagree. Long sheets
show their first rows here and page through the rest on a page of their own.

Downloads are a fixed set of names (the reconciliation, each earlier year's lines, and for admins
the exceptions workbook), each looked up among the files that exist: never a path from the request."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from pipeline.reports.vouchers import voucher_reports
from pipeline.reports.workbook import DATE, DATETIME, LONDON, POUNDS, Sheet
from pipeline.reports.year_lines import YEARS_FOLDER
from pipeline.settings import Settings
from pipeline.web.accounts import User
from pipeline.web.data import reading
from pipeline.web.guard import require
from pipeline.web.pages import problem_page, render
from pipeline.web.roles import Role

FIRST_ROWS = 20  # rows of each sheet on the finance page; the rest on the sheet's own page
SHEET_PAGE_ROWS = 200
RECONCILIATION = "voucher_reconciliation.xlsx"
EXCEPTIONS = "exceptions.xlsx"
_YEAR_FILE = re.compile(r"voucher_lines_\d{4}-\d{2}\.xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ------------------------------------------------------------ the workbook's sheets as tables


def _pounds(value) -> str:
    amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    return f"-£{-amount:,.2f}" if amount < 0 else f"£{amount:,.2f}"


def cell_text(value: object, number_format: str | None) -> str:
    """A value as the workbook shows it (its column's format): £1,234.50, 31/03/2026, 2.5 hours."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal) or (number_format == POUNDS and isinstance(value, int | float)):
        return _pounds(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M" if number_format in (DATETIME, None) else "%d/%m/%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y") if number_format in (DATE, None) else value.isoformat()
    if isinstance(value, float):
        return f"{value:,.1f}" if number_format == "0.0" else f"{value:,g}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


@dataclass
class ShownSheet:
    """One sheet of the workbook, as a table on a page."""

    slug: str  # its address: /finance/sheets/<slug>
    title: str
    note: str | None
    headers: list[str]
    numeric: list[bool]  # per column: figures are right-aligned
    rows: list[list[str]]
    row_count: int  # in the whole sheet
    first_row: int  # 1-based number of rows[0] in the sheet


def slug_of(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def shown(sheet: Sheet, start: int = 0, count: int | None = None) -> ShownSheet:
    rows = sheet.rows[start : start + (FIRST_ROWS if count is None else count)]
    numeric = [
        column.format in (POUNDS, "0.0") or any(_is_number(row[i]) for row in sheet.rows[:50])
        for i, column in enumerate(sheet.columns)
    ]
    return ShownSheet(
        slug=slug_of(sheet.title),
        title=sheet.title,
        note=sheet.note,
        headers=[column.title for column in sheet.columns],
        numeric=numeric,
        rows=[
            [cell_text(value, column.format) for value, column in zip(row, sheet.columns, strict=True)] for row in rows
        ],
        row_count=len(sheet.rows),
        first_row=start + 1,
    )


def _gathered(settings: Settings) -> list[Sheet]:
    """voucher_reconciliation.xlsx's sheets, gathered now (nothing is written)."""
    with reading(settings) as warehouse:
        return voucher_reports(warehouse, settings.outputs, settings).reconciliation.sheets


# ------------------------------------------------------------ downloads


def downloads(settings: Settings, user: User) -> dict[str, Path]:
    """The workbooks this user may download, by the name the page links to, from the files that exist."""
    outputs = settings.outputs
    found = {RECONCILIATION: outputs / RECONCILIATION}
    if user.role == Role.ADMIN:  # every form's problems, not only vouchers': admins only
        found[EXCEPTIONS] = outputs / EXCEPTIONS
    years = outputs / YEARS_FOLDER
    if years.is_dir():
        for path in sorted(years.iterdir()):
            if _YEAR_FILE.fullmatch(path.name):
                found[path.name] = path
    return {name: path for name, path in found.items() if path.is_file()}


@dataclass
class Download:
    name: str
    size: str
    written: str


def _described(files: dict[str, Path]) -> list[Download]:
    listed = []
    for name, path in files.items():
        stat = path.stat()
        written = dt.datetime.fromtimestamp(stat.st_mtime, LONDON).strftime("%d/%m/%Y %H:%M")
        listed.append(Download(name, f"{max(1, round(stat.st_size / 1024))} KB", written))
    return listed


# ------------------------------------------------------------ pages


async def finance_page(request: Request) -> Response:
    user = require(request, Role.FINANCE, Role.ADMIN)
    settings: Settings = request.app.state.settings
    sheets = await run_in_threadpool(_gathered, settings)
    return render(
        request,
        "finance.html",
        title="Vouchers: the figures finance signs off",
        sheets=[shown(sheet) for sheet in sheets],
        downloads=_described(downloads(settings, user)),
    )


async def sheet_page(request: Request) -> Response:
    require(request, Role.FINANCE, Role.ADMIN)
    slug = request.path_params["slug"]
    sheets = await run_in_threadpool(_gathered, request.app.state.settings)
    sheet = next((s for s in sheets if slug_of(s.title) == slug), None)
    if sheet is None:
        return problem_page(request, 404, "Page not found", "The workbook has no such sheet now.")
    pages = max(1, -(-len(sheet.rows) // SHEET_PAGE_ROWS))
    try:
        page = min(max(int(request.query_params.get("page", "1")), 1), pages)
    except ValueError:
        page = 1
    return render(
        request,
        "finance_sheet.html",
        title=sheet.title,
        sheet=shown(sheet, (page - 1) * SHEET_PAGE_ROWS, SHEET_PAGE_ROWS),
        page=page,
        pages=pages,
    )


def download(request: Request) -> Response:
    user = require(request, Role.FINANCE, Role.ADMIN)
    name = request.path_params["name"]
    path = downloads(request.app.state.settings, user).get(name)
    if path is None:
        return problem_page(request, 404, "No such workbook", "There is no workbook of that name to download.")
    return FileResponse(path, media_type=XLSX, filename=name)


routes = [
    Route("/finance", finance_page, methods=["GET"]),
    Route("/finance/sheets/{slug}", sheet_page, methods=["GET"]),
    Route("/finance/download/{name}", download, methods=["GET"]),
]
