"""Which of the four forms a Document is: by its title line, else by the labels it holds.

Without a title, the labels must come from one place on the page: a table's column headings
from one header row (or two adjacent rows, where a heading wraps), the other labels (header
fields, headings, questions) from one region of the form, each within a few lines of the
last. Each label must start its cell. Three one-word labels scattered across a workbook
("Name" out of an Excel `#NAME?` error at AA11, "Date" at B320, "Time" at B1384) are not a
form: a spreadsheet full of formulas is not a voucher sheet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from pipeline.document import Cell, Document, Line
from pipeline.forms.labels import (
    label_tokens,
    leading_token,
    match_label,
    strip_numbering,
)
from pipeline.forms.spec import FormSpec, all_specs

TITLE_SEARCH_LINES = 20
MIN_LABELS_WITHOUT_TITLE = 3
# A table's column headings may wrap onto one more row (a merged two-row header).
HEADER_ROWS = 2
# Labels of one region of a form: each within this many lines of the previous one. A
# monitoring question's options take up to ~25 lines before the next question starts.
REGION_GAP_LINES = 40
# After a column heading, only a separator or a short note in brackets ("Amount (£)").
_HEADING_END = re.compile(r"^[\s:?.]*(?:\([^()\n]{0,40}\)[\s:?.]*)?$")


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _title_match(doc: Document, specs: dict[str, FormSpec]) -> str | None:
    seen = 0
    for line in doc.lines:
        for cell in line.cells:
            tokens = label_tokens(cell.text)
            if not tokens:
                continue
            seen += 1
            if len(tokens) <= 25:
                # the longest matching title wins ("Project Evaluation Template" inside a longer one)
                hits = [
                    (len(label_tokens(t)), ft)
                    for ft, spec in specs.items()
                    for t in spec.titles
                    if _contains(tokens, label_tokens(t))
                ]
                if hits:
                    return max(hits)[1]
        if seen >= TITLE_SEARCH_LINES:
            break
    return None


def _starts_with_a_word(text: str) -> bool:
    """The cell's text (after list numbering) starts with a letter or digit: `#NAME?` (an Excel
    error value) or `=Name` is not the label Name."""
    rest = text[strip_numbering(text) :].lstrip()
    return bool(rest) and (rest[0].isalnum() or rest[0] == "&")


def _is_label(text: str, labels: tuple[str, ...]) -> bool:
    """The cell starts with one of `labels`, followed by a separator or the end of the cell."""
    if not _starts_with_a_word(text):
        return False
    m = match_label(text, labels)
    return bool(m and m.exact_end)


def _is_heading(text: str, labels: tuple[str, ...]) -> bool:
    """The cell is one of `labels` as a column heading: nothing after it but a separator or a
    short note in brackets."""
    if not _starts_with_a_word(text):
        return False
    m = match_label(text, labels)
    return bool(m and m.exact_end and _HEADING_END.match(text[m.end :]))


def _region_labels(spec: FormSpec) -> list[tuple[str, ...]]:
    """The labels a form region holds: header fields (but the project name and date, which
    every form has), section headings, questions and principle statements."""
    labels: list[tuple[str, ...]] = [f.labels for f in spec.header if f.name not in ("project_name", "date")]
    labels += [s.labels for s in spec.sections]
    labels += [q.labels for q in spec.questions]
    labels += [(st,) for p in spec.principles for st in p.statements]
    return labels


def _worth_trying(text: str, labels: list[tuple[str, ...]]) -> Iterable[int]:
    """The label groups `text` could match: those with a label starting with the cell's first
    word (all of them for a cell over several lines, where a word may be split)."""
    if "\n" in text:
        return range(len(labels))
    first = leading_token(text)
    if first is None:
        return ()
    return _by_first_token(tuple(labels)).get(first, ())


@lru_cache(maxsize=64)
def _by_first_token(labels: tuple[tuple[str, ...], ...]) -> dict[str, tuple[int, ...]]:
    index: dict[str, list[int]] = {}
    for i, group in enumerate(labels):
        for first in {label_tokens(label)[0] for label in group if label_tokens(label)}:
            index.setdefault(first, []).append(i)
    return {first: tuple(groups) for first, groups in index.items()}


def _found(cells: Iterable[Cell], labels: list[tuple[str, ...]], *, heading: bool) -> set[int]:
    test = _is_heading if heading else _is_label
    return {i for cell in cells for i in _worth_trying(cell.text, labels) if test(cell.text, labels[i])}


def _header_row_score(lines: list[Line], columns: list[tuple[str, ...]]) -> int:
    """Most distinct column headings found in one row of a table, or two adjacent rows."""
    if not columns:
        return 0
    per_line = [_found(line.cells, columns, heading=True) if line.kind == "row" else set() for line in lines]
    best = 0
    for i, found in enumerate(per_line):
        together = set(found)
        for j in range(i + 1, min(i + HEADER_ROWS, len(lines))):
            if lines[j].kind == "row" and lines[j].table == lines[i].table:
                together |= per_line[j]
        best = max(best, len(together))
    return best


def _region_score(lines: list[Line], labels: list[tuple[str, ...]]) -> int:
    """Most distinct labels found in one region: a run of lines where each label found is at
    most REGION_GAP_LINES after the previous one."""
    if not labels:
        return 0
    best, region, last = 0, set(), None
    for i, line in enumerate(lines):
        found = _found(line.cells, labels, heading=False)
        if not found:
            continue
        if last is not None and i - last > REGION_GAP_LINES:
            region = set()
        region |= found
        last = i
        best = max(best, len(region))
    return best


def _label_score(doc: Document, spec: FormSpec) -> int:
    columns = [c.labels for c in spec.columns]
    return max(_header_row_score(doc.lines, columns), _region_score(doc.lines, _region_labels(spec)))


def identify_form(doc: Document) -> str | None:
    specs = all_specs()
    by_title = _title_match(doc, specs)
    if by_title:
        return by_title
    scores = sorted(((_label_score(doc, spec), ft) for ft, spec in specs.items()), reverse=True)
    (best, form_type), (second, _) = scores[0], scores[1]
    if best >= MIN_LABELS_WITHOUT_TITLE and best > second:
        return form_type
    return None
