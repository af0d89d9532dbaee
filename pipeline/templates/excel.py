"""Blank voucher and monitoring forms as Excel workbooks: formats, drop-down lists, a SUM."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline.templates.outline import Choice, Field, Item, Table, Text, Title

BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _lists_sheet(wb: Workbook):
    if "Lists" not in wb.sheetnames:
        ws = wb.create_sheet("Lists")
        ws.sheet_state = "hidden"  # the options behind the drop-downs; the reader skips hidden sheets
    return wb["Lists"]


def _dropdown(wb: Workbook, ws, cell: str, options: tuple[str, ...]) -> None:
    """A list validation; the options live on the hidden Lists sheet (an inline list is capped
    at 255 characters and cannot hold options with commas)."""
    lists = _lists_sheet(wb)
    col = lists.max_column + 1 if lists.max_row > 1 or lists["A1"].value else 1
    letter = get_column_letter(col)
    for row, option in enumerate(options, start=1):
        lists.cell(row=row, column=col, value=option)
    validation = DataValidation(
        type="list",
        formula1=f"=Lists!${letter}$1:${letter}${len(options)}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Choose from the list",
        error="Please choose one of the options in the list.",
    )
    ws.add_data_validation(validation)
    validation.add(cell)


def write_xlsx(items: list[Item], path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Form"
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 34
    ws.column_dimensions["C"].width = 8
    row = 1
    for item in items:
        if isinstance(item, Title):
            ws.cell(row, 1, item.text).font = Font(bold=True, size=14)
            row += 2
        elif isinstance(item, Text):
            ws.cell(row, 1, item.text).font = Font(italic=not item.heading, bold=item.heading)
            row += 1
        elif isinstance(item, Field):
            ws.cell(row, 1, item.label).font = BOLD
            if item.name == "date":
                ws.cell(row, 2).number_format = "dd/mm/yyyy"
            row += 1
        elif isinstance(item, Choice):
            ws.cell(row, 1, item.question).font = BOLD
            ws.cell(row, 1).alignment = Alignment(wrap_text=True)
            if not item.multiple:
                _dropdown(wb, ws, f"B{row}", item.options)
                row += 1
            else:
                row += 1
                for option in item.options:
                    ws.cell(row, 2, option)
                    _dropdown(wb, ws, f"C{row}", ("x",))
                    row += 1
        elif isinstance(item, Table):
            row += 1
            widths = (24, 13, 24, 13, 27, 22)  # wide enough that no heading wraps when printed
            for col, (title, width) in enumerate(zip(item.columns, widths, strict=False), start=1):
                cell = ws.cell(row, col, title)
                cell.font, cell.fill = BOLD, HEADER_FILL
                cell.alignment = Alignment(wrap_text=True, vertical="center")
                ws.column_dimensions[get_column_letter(col)].width = width
            ws.freeze_panes = ws.cell(row + 1, 1)
            first = row + 1
            last = row + item.rows
            for r in range(first, last + 1):
                ws.cell(r, 2).number_format = "dd/mm/yyyy"
                ws.cell(r, 5).number_format = '"£"#,##0.00'
            dates = DataValidation(
                type="date",
                operator="greaterThan",
                formula1="DATE(2020,1,1)",
                allow_blank=True,
                error="Please enter a date, day/month/year.",
            )
            amounts = DataValidation(
                type="decimal",
                operator="greaterThan",
                formula1="0",
                allow_blank=True,
                error="Please enter the voucher amount in pounds, e.g. 10.00.",
            )
            for validation, col in ((dates, "B"), (amounts, "E")):
                ws.add_data_validation(validation)
                validation.add(f"{col}{first}:{col}{last}")
            # printed (or saved as PDF) the sheet is one page wide in landscape, its header on every
            # page, with gridlines: a printed sheet that is signed and scanned keeps its table whole
            ws.page_setup.orientation = "landscape"
            ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
            ws.sheet_properties.pageSetUpPr.fitToPage = True
            ws.print_title_rows = f"{row}:{row}"
            ws.print_options.gridLines = True
            total = last + 1
            ws.cell(total, 1, item.total_label).font = BOLD
            ws.cell(total, 5, f"=SUM(E{first}:E{last})").number_format = '"£"#,##0.00'
            ws.cell(total, 5).font = BOLD
            row = total + 1
    wb.save(path)
