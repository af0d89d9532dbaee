"""Blank forms as Word documents, tick boxes as content-control checkboxes (as Word's
Developer > Check Box Content Control makes them)."""

from __future__ import annotations

from pathlib import Path

import docx
from docx.oxml import parse_xml
from docx.shared import Pt

from pipeline.templates.outline import Choice, Field, Item, Table, Text, Title

_CHECKBOX = (
    '<w:sdt xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"><w:sdtPr><w14:checkbox>'
    '<w14:checked w14:val="0"/><w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
    '<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox></w:sdtPr>'
    '<w:sdtContent><w:r><w:rPr><w:rFonts w:ascii="MS Gothic" w:eastAsia="MS Gothic" w:hAnsi="MS Gothic"/></w:rPr>'
    "<w:t>\u2610</w:t></w:r></w:sdtContent></w:sdt>"
)


def _option(document, label: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph._p.append(parse_xml(_CHECKBOX))
    paragraph.add_run(" " + label)


def write_docx(items: list[Item], path: Path) -> None:
    document = docx.Document()
    for item in items:
        if isinstance(item, Title):
            document.add_heading(item.text, level=1)
        elif isinstance(item, Text):
            paragraph = document.add_paragraph()
            paragraph.add_run(item.text).bold = item.heading
        elif isinstance(item, Field):
            paragraph = document.add_paragraph()
            paragraph.add_run(item.label + ":").bold = True
            if item.prompt:
                paragraph.add_run(" " + item.prompt)
            if item.multiline:
                document.add_paragraph()  # the answer goes here
        elif isinstance(item, Choice):
            document.add_paragraph().add_run(item.question).bold = True
            groups = item.groups or (("", item.options),)
            for heading, options in groups:
                if heading:
                    document.add_paragraph(heading)
                for option in options:
                    _option(document, option)
        elif isinstance(item, Table):
            table = document.add_table(rows=item.rows + 2, cols=len(item.columns))
            table.style = "Table Grid"
            for cell, title in zip(table.rows[0].cells, item.columns, strict=False):
                cell.paragraphs[0].add_run(title).bold = True
            table.rows[-1].cells[0].paragraphs[0].add_run(item.total_label).bold = True
    document.save(path)
