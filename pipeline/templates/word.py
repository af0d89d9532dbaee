"""Blank forms as Word documents laid out as the toolkit's forms are: tables with a label cell and
an empty answer cell beside or below it, each question's tick boxes in a table of "☐ option"
cells (content-control checkboxes, as Word's Developer > Check Box Content Control makes them),
the voucher table with its header row repeated on every page, on A4.

What the readers see is what a person sees: a label cell, then the answer cell after it in
reading order; a box followed by its option's words."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import docx
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Pt

from pipeline.templates.outline import Choice, Field, Item, Table, Text, Title
from pipeline.templates.properties import Properties, set_office_app_properties

_CHECKBOX = (
    '<w:sdt xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"><w:sdtPr><w14:checkbox>'
    '<w14:checked w14:val="0"/><w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
    '<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox></w:sdtPr>'
    '<w:sdtContent><w:r><w:rPr><w:rFonts w:ascii="MS Gothic" w:eastAsia="MS Gothic" w:hAnsi="MS Gothic"/></w:rPr>'
    "<w:t>\u2610</w:t></w:r></w:sdtContent></w:sdt>"
)
PAGE_MARGIN = Cm(2)
TEXT_WIDTH = Cm(17)  # A4 portrait less the margins
LABEL_WIDTH = Cm(6)
LABEL_SHADE = "F2F2F2"
HEADER_SHADE = "DDEBF7"
OPTIONS_PER_ROW = 3
WRITING_LINE = "_" * 60
# the five answers of a statement on one row, each wide enough that its words stay on the box's line
LIKERT_WIDTHS = (Cm(4.3), Cm(2.7), Cm(4.0), Cm(2.3), Cm(3.7))
SECTION_ANSWER_HEIGHT = Cm(3.5)
FEEDBACK_ANSWER_HEIGHT = Cm(2)
VOUCHER_WIDTHS = (Cm(3.4), Cm(2.2), Cm(3.2), Cm(2.6), Cm(2.6), Cm(3.0))  # 17 cm: A4 portrait
VOUCHER_ROW_HEIGHT = Cm(0.9)  # room to sign by hand
VOUCHER_MARGIN = Cm(1.5)


def _shade(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _min_height(row, height) -> None:
    row.height, row.height_rule = height, WD_ROW_HEIGHT_RULE.AT_LEAST


def _repeat_as_header(row) -> None:
    """Word and LibreOffice print this row again at the top of each page the table runs onto."""
    marker = OxmlElement("w:tblHeader")
    row._tr.get_or_add_trPr().append(marker)


def _table(document, rows: int, widths) -> object:
    table = document.add_table(rows=rows, cols=len(widths))
    table.style = "Table Grid"
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid: rows added later take their cells' widths from it
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    return table


def _bold(cell, text: str, shade: str | None = LABEL_SHADE) -> None:
    cell.paragraphs[0].add_run(text).bold = True
    if shade:
        _shade(cell, shade)


def _box(paragraph, label: str, own_words: bool = False) -> None:
    """A tick box and its option; an option taking the person's own words ("Prefer to
    self-describe") is followed by a writing line, read as the words after the option (a line of
    underscores: LibreOffice draws no tab leader after a content control)."""
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph._p.append(parse_xml(_CHECKBOX))
    paragraph.add_run(" " + label)
    if own_words:
        paragraph.add_run(": " + WRITING_LINE)


class _Writer:
    def __init__(self):
        self.document = docx.Document()
        normal = self.document.styles["Normal"]
        normal.font.name, normal.font.size = "Arial", Pt(10)  # as the toolkit prints; narrow boxes stay on one line
        section = self.document.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, PAGE_MARGIN)
        self.fields_table = None  # the open table of one-line answers, extended row by row

    def paragraph(self, text: str = "", bold: bool = False):
        self.fields_table = None
        paragraph = self.document.add_paragraph()
        if text:
            paragraph.add_run(text).bold = bold
        return paragraph

    def title(self, item: Title) -> None:
        self.document.add_heading(item.text, level=1)

    def one_line_field(self, item: Field) -> None:
        """Label cell and answer cell, in one table with the one-line fields around it."""
        if self.fields_table is None:
            self.fields_table = _table(self.document, 0, (LABEL_WIDTH, TEXT_WIDTH - LABEL_WIDTH))
        row = self.fields_table.add_row()
        row.cells[0].width, row.cells[1].width = LABEL_WIDTH, TEXT_WIDTH - LABEL_WIDTH
        _min_height(row, Cm(0.8))
        _bold(row.cells[0], item.label)

    def answer_box(self, item: Field, height) -> None:
        """The question (and the template's prompt) in a shaded cell, the answer box below it."""
        self.fields_table = None
        table = _table(self.document, 2, (TEXT_WIDTH,))
        heading = table.rows[0].cells[0]
        separator = "" if item.label.endswith("?") else ":"
        heading.paragraphs[0].add_run(item.label + separator).bold = True
        if item.prompt:
            heading.paragraphs[0].add_run(" " + item.prompt)
        _shade(heading, LABEL_SHADE)
        _min_height(table.rows[1], height)
        self.document.add_paragraph().paragraph_format.space_after = Pt(0)

    def statements(self, choices: list[Choice], feedback: Field | None) -> None:
        """A principle: each statement across the table, its five boxes on the row below, then
        the principle's Feedback label and answer box."""
        self.fields_table = None
        table = _table(self.document, 0, LIKERT_WIDTHS)
        for choice in choices:
            row = table.add_row()
            merged = row.cells[0].merge(row.cells[-1])
            merged.paragraphs[0].add_run(choice.question)
            _shade(merged, LABEL_SHADE)
            row = table.add_row()
            for cell, option in zip(row.cells, choice.options, strict=True):
                _box(cell.paragraphs[0], option)
        if feedback is not None:
            row = table.add_row()
            label = row.cells[0].merge(row.cells[-1])
            _bold(label, feedback.label + ":")
            row = table.add_row()
            row.cells[0].merge(row.cells[-1])
            _min_height(row, FEEDBACK_ANSWER_HEIGHT)
        self.document.add_paragraph().paragraph_format.space_after = Pt(0)

    def choice(self, item: Choice) -> None:
        """The question, then its boxes three to a row, under each group's heading."""
        self.paragraph(item.question, bold=True).paragraph_format.keep_with_next = True
        widths = (Emu(TEXT_WIDTH // OPTIONS_PER_ROW),) * OPTIONS_PER_ROW
        table = _table(self.document, 0, widths)
        for heading, options in item.groups or (("", item.options),):
            if heading:
                row = table.add_row()
                _bold(row.cells[0].merge(row.cells[-1]), heading)
            # in the outline's order, row by row; an option taking the person's own words has a
            # row of its own, with a writing line across it
            cells: list = []
            for option in options:
                if option in item.free_text:
                    row = table.add_row()
                    own = row.cells[0].merge(row.cells[-1])
                    _box(own.paragraphs[0], option, own_words=True)
                    cells = []
                    continue
                if not cells:
                    cells = list(table.add_row().cells)
                _box(cells.pop(0).paragraphs[0], option)
        self.document.add_paragraph().paragraph_format.space_after = Pt(0)

    def voucher_table(self, item: Table) -> None:
        self.fields_table = None
        # Portrait, as the toolkit's sheet: the scan reader does not yet recognise a landscape
        # sheet printed from Word and scanned (it reads it as 5 lines of text), and a signed
        # sheet is scanned. The Excel sheet, typed in rather than signed by hand, is landscape.
        section = self.document.sections[0]
        section.top_margin = section.bottom_margin = VOUCHER_MARGIN
        self.document.add_paragraph().paragraph_format.space_after = Pt(0)
        table = _table(self.document, item.rows + 2, VOUCHER_WIDTHS)
        for cell, title in zip(table.rows[0].cells, item.columns, strict=False):
            _bold(cell, title, HEADER_SHADE)
        _repeat_as_header(table.rows[0])
        for row in table.rows[1:]:
            _min_height(row, VOUCHER_ROW_HEIGHT)
        table.rows[-1].cells[0].paragraphs[0].add_run(item.total_label).bold = True

    def save(self, path: Path, props: Properties) -> None:
        core = self.document.core_properties
        core.title, core.subject = props.title, props.subject
        core.author = core.last_modified_by = props.author
        core.comments = props.description  # python-docx's default says "generated by python-docx"
        core.keywords, core.category = props.keywords, "Form"
        core.created = core.modified = dt.datetime.now(dt.UTC).replace(microsecond=0)
        core.revision = 1
        self.document.save(path)
        set_office_app_properties(path, props)


def write_docx(items: list[Item], path: Path) -> None:
    writer = _Writer()
    i = 0
    while i < len(items):
        item = items[i]
        if isinstance(item, Title):
            writer.title(item)
        elif isinstance(item, Text):
            writer.paragraph(item.text, bold=item.heading)
        elif isinstance(item, Field):
            if item.multiline:
                writer.answer_box(item, SECTION_ANSWER_HEIGHT)
            else:
                writer.one_line_field(item)
        elif isinstance(item, Choice) and item.statement:
            # a principle's statements and its feedback, as one table
            choices = []
            while i < len(items) and isinstance(items[i], Choice) and items[i].statement:
                choices.append(items[i])
                i += 1
            feedback = items[i] if i < len(items) and isinstance(items[i], Field) else None
            writer.statements(choices, feedback)
            if feedback is None:
                continue
        elif isinstance(item, Choice):
            writer.choice(item)
        elif isinstance(item, Table):
            writer.voucher_table(item)
        i += 1
    writer.save(path, Properties(title=next(i.text for i in items if isinstance(i, Title))))
