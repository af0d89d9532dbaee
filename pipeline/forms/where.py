"""Where a problem is, in the words printed on the form.

A problem records the model field it concerns ("inclusivity.2", "lines.3.amount") and where the
reader found it (`Location` as text: "paragraph 66", "table 1, row 4, column 5", "Vouchers!E9",
"page 1, table 1, row 7, column 6"). Neither means much to the person who filled the form in
Word; the form's spec does: "question: Inclusivity, statement 2", "voucher table, row 3,
Voucher Amount Received". A cell reference or a page number is kept beside the words where the
person can use it (Excel shows cell names, a PDF or a scan has pages); a Word paragraph or
table number is not (Word shows neither).
"""

from __future__ import annotations

import re

from pipeline.forms.spec import FormSpec, all_specs

_SHEET_CELL = re.compile(r"^(?P<sheet>[^!]+)!(?P<cell>\$?[A-Z]{1,3}\$?\d+)$")
_PAGE = re.compile(r"^page (?P<page>\d+)\b")
WHOLE_FILE = "the whole file"


def _words_for_field(spec: FormSpec, field: str) -> str | None:
    """The field's name on the form, or None when the spec does not know it."""
    parts = field.split(".")
    head = parts[0]
    for f in spec.header:
        if f.name == head:
            return f.label
    for s in spec.sections:
        if s.name == head:
            return f"section: {s.heading}"
    for q in spec.questions:
        if q.name == head:
            return f"question: {q.question}"
        if q.free_text_field == head:
            return f"question: {q.question} (the person's own words)"
    for p in spec.principles:
        if p.name == head:
            if len(parts) > 1 and parts[1].isdigit():
                return f"question: {p.heading}, statement {parts[1]}"
            return f"question: {p.heading}"
    if head == "lines" and spec.columns:
        if len(parts) == 1:
            return "voucher table"
        words = f"voucher table, row {parts[1]}" if parts[1].isdigit() else "voucher table"
        column = next((c for c in spec.columns if c.name == parts[-1]), None)
        return f"{words}, {column.header}" if column is not None and len(parts) > 2 else words
    if head == "total" and spec.total_labels:
        return spec.total_labels[0]
    if head == "feedback" and spec.feedback_label:
        return spec.feedback_label
    return None


def _place(location: str | None) -> str | None:
    """The part of a reader's location a person can find in the file: an Excel cell, a page."""
    if not location:
        return None
    cell = _SHEET_CELL.match(location)
    if cell:
        return f"sheet {cell['sheet']}, cell {cell['cell'].replace('$', '')}"
    page = _PAGE.match(location)
    if page:
        return f"page {page['page']}"
    return None


def where_in_words(form_type: str | None, field: str | None, location: str | None) -> str:
    """Where on the form a problem is, in the form's own words, e.g. "question: Inclusivity,
    statement 2", "voucher table, row 3, Voucher Amount Received (sheet Vouchers, cell E9)".
    A problem of the whole file (not a form, or read by OCR) is "the whole file"; a field the
    spec does not know is given as the reader's location, which is better than nothing."""
    spec = all_specs().get(form_type) if form_type else None
    words = _words_for_field(spec, field) if spec is not None and field else None
    place = _place(location)
    if words is None:
        if field and not location:
            return field.replace("_", " ").replace(".", ", ")
        if not location or location == "document":
            return WHOLE_FILE
        return location
    return f"{words} ({place})" if place else words
