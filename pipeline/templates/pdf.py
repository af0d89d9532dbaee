"""Blank forms as fillable PDFs (AcroForm): a text field beside each label, radio groups for
one-answer questions, check boxes for tick-all ones, a ruled table of fields for vouchers.
Field names are meaningful (`project_name`, `relationships_1`, `name_3`)."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.colors import black, transparent, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from pipeline.templates.outline import (
    Choice,
    Field,
    Item,
    Table,
    Text,
    Title,
    field_name,
)
from pipeline.templates.properties import GENERATOR, Properties

MARGIN = 50
WIDTH, HEIGHT = A4
BODY = ("Helvetica", 10)
BOLD = ("Helvetica-Bold", 10)


class _Writer:
    def __init__(self, path: Path):
        self.canvas = Canvas(str(path), pagesize=A4)
        self.form = self.canvas.acroForm
        self.y = HEIGHT - MARGIN

    def need(self, height: float) -> None:
        if self.y - height < MARGIN:
            self.canvas.showPage()
            self.y = HEIGHT - MARGIN

    def text(self, text: str, font=BODY, indent: float = 0, gap: float = 4) -> None:
        lines = simpleSplit(text, font[0], font[1], WIDTH - 2 * MARGIN - indent)
        self.need(len(lines) * (font[1] + 3))
        self.canvas.setFont(*font)
        for line in lines:
            self.y -= font[1] + 3
            self.canvas.drawString(MARGIN + indent, self.y, line)
        self.y -= gap

    def text_field(
        self, name: str, x: float, width: float, height: float = 16, multiline: bool = False, border: bool = True
    ) -> None:
        self.form.textfield(
            name=name,
            x=x,
            y=self.y - height,
            width=width,
            height=height,
            fontName="Helvetica",
            fontSize=9,
            borderWidth=1 if border else 0,
            borderColor=black if border else transparent,
            fillColor=white if border else transparent,  # table fields must not hide the rules
            fieldFlags="multiline" if multiline else "",
            forceBorder=border,
        )

    def field(self, item: Field) -> None:
        if item.multiline:
            self.text(f"{item.label}: {item.prompt}".strip(), BOLD if not item.prompt else BODY, gap=2)
            self.need(64)
            self.text_field(item.name, MARGIN, WIDTH - 2 * MARGIN, 60, multiline=True)
            self.y -= 70
        else:
            self.need(22)
            self.canvas.setFont(*BOLD)
            label = item.label + ":"
            self.canvas.drawString(MARGIN, self.y - 12, label)
            x = MARGIN + self.canvas.stringWidth(label, *BOLD) + 8
            self.text_field(item.name, x, WIDTH - MARGIN - x)
            self.y -= 24

    def choice(self, item: Choice) -> None:
        self.text(item.question, BOLD, gap=2)
        groups = item.groups or (("", item.options),)
        for heading, options in groups:
            if heading:
                self.text(heading, BODY, indent=4, gap=1)
            for option in options:
                self.need(15)
                self.y -= 14
                box_y = self.y - 1
                if item.multiple:
                    self.form.checkbox(
                        name=field_name(item.name, option),
                        x=MARGIN + 6,
                        y=box_y,
                        size=10,
                        buttonStyle="cross",
                        borderWidth=1,
                        checked=False,
                    )
                else:
                    self.form.radio(
                        name=item.name,
                        value=field_name(option),
                        x=MARGIN + 6,
                        y=box_y,
                        size=10,
                        buttonStyle="cross",
                        shape="square",
                        borderWidth=1,
                        selected=False,
                    )
                self.canvas.setFont(*BODY)
                self.canvas.drawString(MARGIN + 22, self.y, option)
                if option in item.free_text and item.free_text_field:
                    # room for the person's own words, on the option's line: read as the words after it
                    x = MARGIN + 22 + self.canvas.stringWidth(option, *BODY) + 8
                    self.form.textfield(
                        name=item.free_text_field,
                        x=x,
                        y=self.y - 4,
                        width=WIDTH - MARGIN - x,
                        height=14,
                        fontName="Helvetica",
                        fontSize=9,
                        borderWidth=1,
                        borderColor=black,
                        fillColor=white,
                        forceBorder=True,
                    )
        self.y -= 8

    def table(self, item: Table) -> None:
        widths = [110, 70, 100, 60, 75, 80]
        row_height = 20
        header_height = 28
        self.need(header_height + row_height * 3)
        x_positions = [MARGIN + sum(widths[:i]) for i in range(len(widths) + 1)]
        names = ["name", "date", "activity", "time_spent", "amount", "signed"]
        row = 0
        while row <= item.rows:
            top = self.y
            rows_here = min(item.rows + 1 - row, int((self.y - MARGIN - header_height) // row_height))
            self.canvas.setFont(*BOLD)
            for x, title, width in zip(x_positions, item.columns, widths, strict=False):
                for n, line in enumerate(simpleSplit(title, BOLD[0], 8, width - 4)[:3]):
                    self.canvas.setFont(BOLD[0], 8)
                    self.canvas.drawString(x + 2, top - 9 - n * 9, line)
            y = top - header_height
            for _ in range(rows_here):
                row += 1
                self.y = y
                if row <= item.rows:
                    for x, width, name in zip(x_positions, widths, names, strict=False):
                        self.text_field(f"{name}_{row}", x + 1, width - 2, row_height - 2, border=False)
                else:  # the total row
                    self.canvas.setFont(*BOLD)
                    self.canvas.drawString(x_positions[0] + 2, y - 14, item.total_label)
                    self.text_field("total", x_positions[4] + 1, widths[4] - 2, row_height - 2, border=False)
                y -= row_height
            self.canvas.setLineWidth(0.6)
            self.canvas.grid(
                x_positions,
                [top, top - header_height] + [top - header_height - row_height * (i + 1) for i in range(rows_here)],
            )
            self.y = y - 10
            if row <= item.rows:
                self.canvas.showPage()
                self.y = HEIGHT - MARGIN

    def save(self, props: Properties) -> None:
        c = self.canvas
        c.setTitle(props.title)
        c.setAuthor(f"{props.author}, {props.company}")
        c.setSubject(props.subject)
        c.setKeywords(props.keywords)
        c.setCreator(GENERATOR)
        c.setProducer(GENERATOR)  # reportlab's default names itself
        c.save()


def write_pdf(items: list[Item], path: Path) -> None:
    writer = _Writer(path)
    for item in items:
        if isinstance(item, Title):
            writer.text(item.text, ("Helvetica-Bold", 14), gap=10)
        elif isinstance(item, Text):
            writer.text(item.text, BOLD if item.heading else BODY)
        elif isinstance(item, Field):
            writer.field(item)
        elif isinstance(item, Choice):
            writer.choice(item)
        elif isinstance(item, Table):
            writer.table(item)
    writer.save(Properties(title=next(i.text for i in items if isinstance(i, Title))))
