"""Blank voucher and monitoring forms as Excel workbooks that print as forms: A4, one page wide,
answer boxes with borders, the table's header row on every page, drop-down lists and an input
message on every answer cell saying what to write, and a SUM under the amounts."""

from __future__ import annotations

import math
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from pipeline.templates.outline import Choice, Field, Item, Table, Text, Title, field_hint, free_text_options
from pipeline.templates.properties import Properties, set_office_app_properties

BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
POINTS_PER_LINE = 15
# the form's columns: questions and labels, answers, and the tick column of tick-all questions
FORM_WIDTHS = {"A": 58, "B": 42, "C": 14}
# the voucher table's columns: wide enough that no heading wraps more than twice when printed
TABLE_WIDTHS = (26, 13, 26, 16, 16, 24)
TICK_HEADING = "Type x to tick"


def _lists_sheet(wb: Workbook):
    if "Lists" not in wb.sheetnames:
        ws = wb.create_sheet("Lists")
        ws.sheet_state = "hidden"  # the options behind the drop-downs; the reader skips hidden sheets
    return wb["Lists"]


def _prompt(validation: DataValidation, title: str, message: str) -> DataValidation:
    """The input message Excel and Calc show beside the cell while it is selected (255 characters
    at most; a title of 32)."""
    validation.showInputMessage = True
    validation.promptTitle = title[:32]
    validation.prompt = message[:255]
    return validation


def _dropdown(wb: Workbook, ws, cell: str, item: Choice, free_text: tuple[str, ...]) -> None:
    """A list validation; the options live on the hidden Lists sheet (an inline list is capped
    at 255 characters and cannot hold options with commas). Where an option takes the person's
    own words ("Prefer to self-describe"), anything may be typed (with a warning to confirm it)."""
    lists = _lists_sheet(wb)
    col = lists.max_column + 1 if lists.max_row > 1 or lists["A1"].value else 1
    letter = get_column_letter(col)
    for row, option in enumerate(item.options, start=1):
        lists.cell(row=row, column=col, value=option)
    validation = DataValidation(
        type="list",
        formula1=f"=Lists!${letter}$1:${letter}${len(item.options)}",
        allow_blank=True,
        showErrorMessage=True,
        # own words typed after "Prefer to self-describe:" are a right answer: an information box
        # (OK keeps them), not a warning that reads as a mistake
        errorStyle="information" if free_text else "stop",
        errorTitle="Your own words" if free_text else "Choose from the list",
        error=(
            f"If these are your own words after “{free_text[0]}:”, choose OK to keep them."
            if free_text
            else "Please choose one of the options in the list."
        ),
    )
    message = "Choose one answer from the list."
    if free_text:
        message += f" To use your own words, type “{free_text[0]}:” and then your words."
    ws.add_data_validation(_prompt(validation, "One answer", message))
    validation.add(cell)


def _rows_for(text: str, width: float) -> int:
    """How many printed lines a wrapped cell needs: Excel does not grow a row for wrapped text
    that openpyxl writes, so the labels of long questions overprinted each other."""
    return max(1, sum(math.ceil(max(len(part), 1) / (width * 0.95)) for part in text.split("\n")))


class _Sheet:
    def __init__(self, wb: Workbook):
        self.wb = wb
        self.ws = wb.active
        self.ws.title = "Form"
        self.row = 1
        self.table_at: tuple[int, int, int] | None = None  # header row, first and last line
        self.last_col = 3
        for letter, width in FORM_WIDTHS.items():
            self.ws.column_dimensions[letter].width = width

    def _wrapped(self, row: int, col: int, text: str, font: Font | None = None, width: float | None = None) -> None:
        cell = self.ws.cell(row, col, text)
        cell.alignment = WRAP
        if font is not None:
            cell.font = font
        width = width or self.ws.column_dimensions[get_column_letter(col)].width
        lines = _rows_for(text, width)
        current = self.ws.row_dimensions[row].height or POINTS_PER_LINE
        self.ws.row_dimensions[row].height = max(current, lines * POINTS_PER_LINE + 3)

    def _answer_box(self, row: int, first_col: int = 2, last_col: int = 2) -> None:
        for col in range(first_col, last_col + 1):
            self.ws.cell(row, col).border = BOX
        if last_col > first_col:
            self.ws.merge_cells(start_row=row, start_column=first_col, end_row=row, end_column=last_col)

    def _label(self, row: int, text: str) -> None:
        self._wrapped(row, 1, text, BOLD)
        self.ws.cell(row, 1).fill = LABEL_FILL
        self.ws.cell(row, 1).border = BOX

    def title(self, item: Title) -> None:
        self.ws.cell(self.row, 1, item.text).font = Font(bold=True, size=14)
        self.row += 2  # the header's labels start on row 3 (B3, B4 are the voucher's answers)

    def text(self, item: Text) -> None:
        self._wrapped(self.row, 1, item.text, Font(italic=not item.heading, bold=item.heading))
        self.row += 1

    def field(self, item: Field, answer_cols: int) -> None:
        self._label(self.row, item.label)
        self._answer_box(self.row, 2, 1 + answer_cols)
        answer = self.ws.cell(self.row, 2)
        hint = field_hint(item)
        if item.name == "date":
            answer.number_format = "dd/mm/yyyy"
            validation = DataValidation(
                type="date",
                operator="greaterThan",
                formula1="DATE(2020,1,1)",
                allow_blank=True,
                showErrorMessage=True,
                error="Please enter a date, day/month/year.",
            )
        else:
            validation = DataValidation(allow_blank=True)  # any value: only the input message
        self.ws.add_data_validation(_prompt(validation, item.label, hint))
        validation.add(answer.coordinate)
        self.row += 1

    def choice(self, item: Choice) -> None:
        free_text = free_text_options(item)
        if not item.multiple:
            self._label(self.row, item.question)
            self._answer_box(self.row)
            _dropdown(self.wb, self.ws, f"B{self.row}", item, free_text)
            self.row += 1
            # printed, a drop-down shows nothing: the answers it offers are listed under the question
            note = "Answers: " + ", ".join(item.options[:-1]) + " or " + item.options[-1] + "."
            if free_text:
                note += f" In your own words: type “{free_text[0]}:” and then your words."
            self._wrapped(self.row, 1, note, Font(italic=True, size=9))
            self.row += 1
            return
        self._label(self.row, item.question)
        heading = self.ws.cell(self.row, 3, TICK_HEADING)
        heading.font, heading.fill, heading.border = BOLD, LABEL_FILL, BOX
        heading.alignment = Alignment(wrap_text=True, horizontal="center", vertical="top")
        self.row += 1
        ticks = DataValidation(
            type="list", formula1='"x"', allow_blank=True, showErrorMessage=True, error="Type x to tick."
        )
        self.ws.add_data_validation(_prompt(ticks, "Tick any that apply", "Type x beside each that applies."))
        for option in item.options:
            self._wrapped(self.row, 2, option)
            self.ws.cell(self.row, 2).border = BOX
            box = self.ws.cell(self.row, 3)
            box.border = BOX
            box.alignment = Alignment(horizontal="center")
            ticks.add(box.coordinate)
            self.row += 1

    def table(self, item: Table) -> None:
        self.row += 1
        header = self.row
        for col, (title, width) in enumerate(zip(item.columns, TABLE_WIDTHS, strict=False), start=1):
            cell = self.ws.cell(header, col, title)
            cell.font, cell.fill, cell.border = BOLD, HEADER_FILL, BOX
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            self.ws.column_dimensions[get_column_letter(col)].width = width
        self.ws.row_dimensions[header].height = 2 * POINTS_PER_LINE + 3
        self.ws.freeze_panes = self.ws.cell(header + 1, 1)
        first, last = header + 1, header + item.rows
        for r in range(first, last + 1):
            self.ws.row_dimensions[r].height = 24  # room to sign by hand
            for col in range(1, len(item.columns) + 1):
                cell = self.ws.cell(r, col)
                cell.border = BOX
                cell.alignment = Alignment(vertical="center", wrap_text=col == 3)
            self.ws.cell(r, 2).number_format = "dd/mm/yyyy"
            self.ws.cell(r, 5).number_format = '"£"#,##0.00'
        messages = {
            1: ("Name", "The resident's name, as they would sign it."),
            2: ("Date", "The date of the activity, day/month/year, e.g. 03/04/2025."),
            3: ("Activity", "What the resident took part in, e.g. Workshop 2."),
            4: ("Time spent", "Type the time with its unit: 2 hours, 90 mins or 1h30."),
            5: ("Voucher amount", "The voucher's value in pounds, e.g. 10.00."),
            6: ("Signed by recipient", "Leave blank: the resident signs here when the sheet is printed."),
        }
        for col, (title, message) in messages.items():
            letter = get_column_letter(col)
            if col == 2:
                validation = DataValidation(
                    type="date",
                    operator="greaterThan",
                    formula1="DATE(2020,1,1)",
                    allow_blank=True,
                    showErrorMessage=True,
                    error="Please enter a date, day/month/year.",
                )
            elif col == 5:
                validation = DataValidation(
                    type="decimal",
                    operator="greaterThan",
                    formula1="0",
                    allow_blank=True,
                    showErrorMessage=True,
                    error="Please enter the voucher amount in pounds, e.g. 10.00.",
                )
            else:
                validation = DataValidation(allow_blank=True)
            self.ws.add_data_validation(_prompt(validation, title, message))
            validation.add(f"{letter}{first}:{letter}{last}")
        total = last + 1
        self.ws.cell(total, 1, item.total_label).font = BOLD
        self.ws.cell(total, 5, f"=SUM(E{first}:E{last})").number_format = '"£"#,##0.00'
        self.ws.cell(total, 5).font = BOLD
        for col in range(1, len(item.columns) + 1):
            self.ws.cell(total, col).border = BOX
        self.table_at = (header, first, last)
        self.last_col = len(item.columns)
        self.row = total + 1

    def print_setup(self, title: str) -> None:
        """A4, one page wide (as many pages long as it takes), the table's header row (or the
        form's title) repeated on every page, the form's name and page number in the footer.
        Borders print the boxes; the sheet's gridlines are not printed."""
        ws = self.ws
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "landscape" if self.table_at else "portrait"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.print_options.gridLines = False
        ws.page_margins.left = ws.page_margins.right = 0.5
        ws.print_area = f"A1:{get_column_letter(self.last_col)}{self.row - 1}"
        ws.print_title_rows = f"{self.table_at[0]}:{self.table_at[0]}" if self.table_at else "1:1"
        ws.oddFooter.left.text = title
        ws.oddFooter.right.text = "Page &P of &N"


def write_xlsx(items: list[Item], path: Path) -> None:
    wb = Workbook()
    sheet = _Sheet(wb)
    title = next(i.text for i in items if isinstance(i, Title))
    answer_cols = 3 if any(isinstance(i, Table) for i in items) else 1  # a voucher's answers span B:D
    for item in items:
        if isinstance(item, Title):
            sheet.title(item)
        elif isinstance(item, Text):
            sheet.text(item)
        elif isinstance(item, Field):
            sheet.field(item, answer_cols)
        elif isinstance(item, Choice):
            sheet.choice(item)
        elif isinstance(item, Table):
            sheet.table(item)
    sheet.print_setup(title)
    props = Properties(title=title)
    wb.properties.title = props.title
    wb.properties.subject = props.subject
    wb.properties.creator = wb.properties.lastModifiedBy = props.author
    wb.properties.description = props.description
    wb.properties.keywords = props.keywords
    wb.save(path)
    set_office_app_properties(path, props)
