"""Fill a blank Word template as a person does: type in the answer cell after a label, tick a
content-control box, type on the writing line after an option, fill the voucher table's rows.
Same arguments as tests.fixtures.fill_templates.fill_docx, for the table layout of
pipeline/templates/word.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import docx
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from pipeline.templates.outline import Choice, Field, Item, Table

W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _as_text(value: object) -> str:
    return value.strftime("%d/%m/%Y") if isinstance(value, dt.date) else str(value)


def paragraphs_in_reading_order(document) -> list[Paragraph]:
    """Body paragraphs and the paragraphs of each table cell (row by row, a merged cell once)."""
    found = []
    for child in document.element.body.iterchildren():
        if child.tag == f"{{{W}}}p":
            found.append(Paragraph(child, document))
        elif child.tag == f"{{{W}}}tbl":
            for row in DocxTable(child, document).rows:
                seen = set()
                for cell in row.cells:
                    if id(cell._tc) not in seen:
                        seen.add(id(cell._tc))
                        found.extend(cell.paragraphs)
    return found


def _option_text(paragraph: Paragraph) -> str:
    """The option's words, without its box or the writing line after an option taking own words."""
    return paragraph.text.strip().lstrip("☐☒").strip().rstrip("_").rstrip(": ")


def _tick(paragraph: Paragraph) -> None:
    sdt = paragraph._p.find(f"{{{W}}}sdt")
    sdt.find(f".//{{{W14}}}checked").set(f"{{{W14}}}val", "1")
    sdt.find(f".//{{{W}}}t").text = "☒"


def fill_docx(template: Path, items: list[Item], answers: dict, out: Path) -> None:
    document = docx.Document(str(template))
    paragraphs = paragraphs_in_reading_order(document)
    i = 0
    for item in items:
        if isinstance(item, Field):
            while not paragraphs[i].text.startswith(item.label):
                i += 1
            value = answers.get(item.name)
            if value:
                paragraphs[i + 1].add_run(_as_text(value))  # the answer cell, after (or below) the label
            i += 1
        elif isinstance(item, Choice):
            while paragraphs[i].text != item.question:
                i += 1
            chosen = set(answers.get(item.name, []))
            for option in [o for _, group in (item.groups or (("", item.options),)) for o in group]:
                while _option_text(paragraphs[i]) != option:
                    i += 1
                if option in chosen:
                    _tick(paragraphs[i])
    table_item = next((item for item in items if isinstance(item, Table)), None)
    if table_item is not None:
        table = next(t for t in document.tables if t.rows[0].cells[0].text == table_item.columns[0])
        for row, values in zip(table.rows[1:], answers.get("lines", []), strict=False):
            for cell, value in zip(row.cells, values, strict=False):
                cell.paragraphs[0].add_run(_as_text(value))
        if answers.get("total"):
            table.rows[-1].cells[4].paragraphs[0].add_run(str(answers["total"]))
    document.save(str(out))
