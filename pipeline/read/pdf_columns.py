"""Tables without ruling lines: a sheet printed to PDF by Excel or LibreOffice Calc, whose
default print has no gridlines.

The table is found by its geometry alone (the reader knows nothing about which form it reads):
a header row of several words spread across the page, set apart by wide gaps, followed by lines
whose words sit in the header's columns. Spreadsheet text is left-aligned and numbers are
right-aligned by default, so a column starts just left of its header's first letter and ends
where the next one starts: a date right-aligned against the next column's text, which touches
it in the PDF ("06/05/2025Workshop"), is split there by its characters' centres.

A row is one or more printed lines: a cell whose text wraps over two lines stays one cell. Two
lines belong to one row when they are nearer than a line (cells of different heights centred
on one row) or when, in every column both fill, the upper line's text could not have taken the
lower line's first word (the text was wrapped by the column's width).

A sheet too wide for the paper is printed a band of columns per page; a page whose table has
the same rows, at the same heights, as a table of an earlier page holds that table's next
columns (the caller joins them).

Label and value lines above the header whose cells sit in its columns ("Project Name:" in
column A, the name in column B) are rows of the same sheet, as the .xlsx reader gives them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.document import TICKED, UNTICKED

MIN_COLUMNS = 3  # a header row has at least this many separated words
PAD = 1.5  # points between a column's edge and its left-aligned text (Excel and Calc pad ~1 pt)
MAX_HEADER_WORDS = 6  # per header cell: a header is a few words, not a sentence
_DIGIT = re.compile(r"\d")


class Word(Protocol):
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float


Box = tuple[float, float, float, float]  # x0, top, x1, bottom


@dataclass
class GridlessTable:
    columns: list[tuple[float, float]]  # each column's left and right edge
    rows: list[tuple[float, float]]  # each row's top and bottom
    header: int | None  # which row is the header (label rows above it come first); None: none on this page
    text_rights: list[float]  # where each column's text must end (the last column's own edge is not printed)
    # text that runs on into the empty cells to its right (as a sheet shows it): row -> {first: last column}
    spans: dict[int, dict[int, int]] = field(default_factory=dict)

    @property
    def bbox(self) -> Box:
        return (self.columns[0][0], self.rows[0][0], self.columns[-1][1], self.rows[-1][1])

    def cell_box(self, row: int, col: int) -> Box | None:
        """The cell's box; None for a cell that text from its left runs over."""
        spans = self.spans.get(row, {})
        if any(first < col <= last for first, last in spans.items()):
            return None
        (left, _), (top, bottom) = self.columns[col], self.rows[row]
        return (left, top, self.columns[spans.get(col, col)][1], bottom)

    def text_right(self, row: int, col: int) -> float:
        return self.text_rights[self.spans.get(row, {}).get(col, col)]

    @property
    def has_header(self) -> bool:
        return self.header is not None


def _height(words: Sequence[Word]) -> float:
    return max(max([w.bottom - w.top for w in words]), 1.0)


def _gap(line: Sequence[Word]) -> float:
    """A gap wider than this between two words parts two cells: about two spaces."""
    sizes = [w.size for w in line if w.size]
    size = (max(sizes) if sizes else 0.0) or _height(line) * 0.8
    return max(size * 0.6, 4.0)


def _groups(line: Sequence[Word]) -> list[list[Word]]:
    """A line's words in runs parted by wide gaps (one run per filled cell, roughly)."""
    gap = _gap(line)
    groups: list[list[Word]] = []
    group: list[Word] = []
    last = None  # (the last word, the last of its group)
    for word in line:
        # words printed at different heights are in different cells (cells of 1 and 2 lines
        # centred on one row), however near
        if last is not None and word.x0 - last.x1 <= gap and abs(word.top - last.top) < 1:
            group.append(word)
        else:
            group = [word]
            groups.append(group)
        last = word
    return groups


def _top(line: Sequence[Word]) -> float:
    return min([w.top for w in line])


def _bottom(line: Sequence[Word]) -> float:
    return max([w.bottom for w in line])


def _looks_like_header(line: Sequence[Word], min_columns: int) -> bool:
    if len(line) < min_columns:
        return False  # (fewer words than columns: no need to group them; most lines of a form)
    groups = _groups(line)
    if len(groups) < min_columns:
        return False
    texts = [" ".join(w.text for w in g) for g in groups]
    if any(TICKED in t or UNTICKED in t for t in texts):
        return False  # a row of tick-box options, not a table
    if any(len(g) > MAX_HEADER_WORDS for g in groups):
        return False
    return sum(1 for t in texts if _DIGIT.search(t)) <= 1  # column titles are words; data rows hold numbers


def _header_band(lines: list[list[Word]], at: int) -> tuple[int, int]:
    """The lines of a header row: cells of two or three lines centred on one row print nearer
    than a line apart."""
    height = _height(lines[at])
    first = last = at
    while first > 0 and _top(lines[first]) - _top(lines[first - 1]) < height * 0.75:
        first -= 1
    while last + 1 < len(lines) and _top(lines[last + 1]) - _top(lines[last]) < height * 0.75:
        last += 1
    return first, last


def _columns_from(groups: list[list[Word]], right_edge: float) -> list[tuple[float, float]]:
    spans: list[list[float]] = []
    for x0, x1 in sorted((g[0].x0, g[-1].x1) for g in groups):
        if spans and x0 <= spans[-1][1] + 1:  # the lines of one wrapped header cell
            spans[-1][1] = max(spans[-1][1], x1)
        else:
            spans.append([x0, x1])
    lefts = [x0 - PAD for x0, _ in spans]
    return list(zip(lefts, lefts[1:] + [right_edge], strict=True))


def _crossings(line: Sequence[Word], columns: list[tuple[float, float]]) -> int:
    """How many column edges fall in an ordinary space between two words: prose running
    across the columns, not cells."""
    gap = _gap(line)
    edges = [left for left, _ in columns[1:]]
    count = 0
    for a, b in zip(line, line[1:], strict=False):
        if b.x0 - a.x1 <= gap:
            count += sum(1 for edge in edges if a.x1 < edge < b.x0)
    return count


def _fits(line: Sequence[Word], columns: list[tuple[float, float]]) -> bool:
    if line[0].x0 < columns[0][0] - 2:
        return False  # starts left of the table
    if any(w.text in (TICKED, UNTICKED) for w in line):
        return False
    crossings = _crossings(line, columns)
    return crossings == 0 or (crossings == 1 and len(_groups(line)) > 1)


def _aligned(line: Sequence[Word], columns: list[tuple[float, float]], at_least: int = 2) -> bool:
    """A line (its words split at the columns) is a row of the table when at least two of its
    cells sit against their column's edges: text at the left, numbers at the right."""
    cells = _by_column(line, columns)
    edges = 0
    for k, words in cells.items():
        left, right = columns[k]
        if abs(words[0].x0 - (left + PAD)) <= 2 or abs(words[-1].x1 - right) <= 4:
            edges += 1
    return edges >= at_least


def _lone_cell(line: Sequence[Word], columns: list[tuple[float, float]]) -> bool:
    """A line with one cell against its column's edge and nothing running across the columns
    (a blank sheet's "Total" row, its amount printed on the next page)."""
    edges = [left for left, _ in columns[1:]]
    if any(g[0].x0 < edge < g[-1].x1 for g in _groups(line) for edge in edges):
        return False
    return _aligned(line, columns, at_least=1)


def _at_edges(line: Sequence[Word], columns: list[tuple[float, float]]) -> bool:
    """A label and its value typed in a sheet's cells above the table: two or more runs of
    words, each against a column's left edge (text) or right edge (a number or a date)."""
    groups = _groups(line)
    return len(groups) >= 2 and all(
        any(abs(g[0].x0 - (left + PAD)) <= 2 or abs(g[-1].x1 - right) <= 4 for left, right in columns) for g in groups
    )


def _by_column(line: Sequence[Word], columns: list[tuple[float, float]]) -> dict[int, list[Word]]:
    cols: dict[int, list[Word]] = {}
    for word in line:
        centre = (word.x0 + word.x1) / 2
        k = max((i for i, (left, _) in enumerate(columns) if left <= centre), default=0)
        cols.setdefault(k, []).append(word)
    return cols


def _wrapped_into(upper: Sequence[Word], lower: Sequence[Word], left: float, right: float) -> bool:
    """Whether `lower` continues `upper` in a cell: both lines start at the column's left edge
    (wrapped text is left-aligned; a right-aligned number never wraps) and the lower line's
    first word would not have fitted on the upper one."""
    if abs(upper[0].x0 - (left + PAD)) > 2 or abs(lower[0].x0 - upper[0].x0) > 1:
        return False
    last, first = upper[-1], lower[0]
    space = (last.x1 - last.x0) / max(len(last.text), 1)
    return last.x1 + space + (first.x1 - first.x0) > right - PAD


def _last_line(words: list[Word]) -> list[Word]:
    lowest = max(w.top for w in words)
    return sorted((w for w in words if w.top >= lowest - 1), key=lambda w: w.x0)


def _rows(
    lines: list[list[Word]], columns: list[tuple[float, float]], widths: list[float], overflows=()
) -> list[tuple[float, float]]:
    """The table's printed lines (words already split at the columns) joined into rows."""

    def by_column(line: list[Word]) -> dict[int, list[Word]]:
        return _by_column(line, columns)

    rows: list[list[list[Word]]] = []
    for line in lines:
        if rows:
            previous = rows[-1]
            height = _height(line)
            near = _top(line) - _top(previous[-1]) < height * 0.75
            upper, lower = by_column([w for ln in previous for w in ln]), by_column(line)
            shared = upper.keys() & lower.keys()
            tight = _top(line) - _bottom(previous[-1]) < height * 0.6
            # text running on over the next cells is not wrapped: the lines are two rows
            runs_on = any(k in shared for t, _b, k, _l in overflows if abs(t - _top(previous[-1])) < 1)
            wrapped = (
                bool(shared)
                and not runs_on
                and tight
                and all(_wrapped_into(_last_line(upper[k]), lower[k], columns[k][0], widths[k]) for k in shared)
            )
            if near or wrapped:
                previous.append(line)
                continue
        rows.append([line])
    return [(_top([w for ln in row for w in ln]) - 1, _bottom([w for ln in row for w in ln]) + 1) for row in rows]


def find_tables(
    lines: list[list[Word]],
    split: Callable[[list[tuple[float, float]], float, float], list[list[Word]]],
    page_right: float,
    carried: list[tuple[float, float]] | None = None,
    headers_beside: Sequence[tuple[float, float]] = (),
) -> list[GridlessTable]:
    """The gridless tables among a page's lines of free words (outside ruled tables).

    `split(columns, top, bottom)` gives the lines of words between top and bottom with words
    split at the columns' edges (by their characters' centres). `carried` are the columns of
    the last page's table: a page whose first lines sit in them continues that table without a
    repeated header. `headers_beside` are the heights of earlier pages' header rows: a header of
    only two columns at one of them is the rest of a sheet too wide for its page."""
    tables: list[GridlessTable] = []
    i = floor = 0
    while i < len(lines):
        found = _table_at(lines, i, floor, split, page_right, None if tables else carried, headers_beside)
        if found is None:
            i += 1
            continue
        table, i = found
        tables.append(table)
        floor = i
    return tables


def _table_at(lines, i, floor, split, page_right, carried, headers_beside) -> tuple[GridlessTable, int] | None:
    """The table whose header (or first row) is line i, and the line after it; None if none
    starts there. Label rows above it, down to line `floor`, join it."""
    line = lines[i]
    if not carried and len(line) < min(2, MIN_COLUMNS):
        return None  # (a lone word is no header, beside a sheet's or not: most lines of a form)
    top, bottom = _top(line), _bottom(line)
    beside = any(t - 2 <= top and bottom <= b + 2 for t, b in headers_beside)
    has_header = _looks_like_header(line, 2 if beside else MIN_COLUMNS)
    if has_header:
        first, last = _header_band(lines, i)
        columns = _columns_from([g for ln in lines[first : last + 1] for g in _groups(ln)], page_right)
        header_top = _top([w for ln in lines[first : last + 1] for w in ln])
        start = first
        while start > floor and _at_edges(lines[start - 1], columns):
            start -= 1
        top, body_from = _top(lines[start]), last + 1
    elif carried and _fits(line, carried):
        columns, start, body_from, header_top = carried, i, i, None
    else:
        return None
    end = body_from
    while end < len(lines) and _fits(lines[end], columns) and not _looks_like_header(lines[end], MIN_COLUMNS):
        end += 1
    # the header's lines and the body's, split at the columns: a header cell wrapped over more
    # lines than its neighbours joins its row as a wrapped data cell does
    split_lines = split(columns, top - 1, _bottom(lines[end - 1]) + 1)
    widths = _widths(columns, split_lines)
    overflows = _overflows(lines[start:end], columns)
    rows = _rows(split_lines, columns, widths, overflows)
    header = None
    if header_top is not None:
        header = next((n for n, (t, b) in enumerate(rows) if t <= header_top + 0.5 < b), None)
        if header is None:
            return None  # the header's line fell between the rows found: not a table after all
    body = [ln for ln in split_lines if _top(ln) > rows[header][1]] if header is not None else split_lines
    if not rows or header is None and not _aligned(split_lines[0], columns):
        return None
    # a line of spaced-out words with nothing in its columns under it is not a table; a blank
    # sheet has a row or two (a Total) under its header
    if has_header and not (beside or any(_aligned(ln, columns) or _lone_cell(ln, columns) for ln in body)):
        return None
    return GridlessTable(columns, rows, header, widths, _spans(overflows, rows)), max(end, i + 1)


def _overflows(lines: list[list[Word]], columns: list[tuple[float, float]]) -> list[tuple[float, float, int, int]]:
    """Text that starts at a column's left edge and runs on past its right edge: a sheet prints
    text over the empty cells beside it ("Carers Week Co-design Group" typed in B2 runs over C2
    and D2). A date right-aligned in its column that touches the next column's text does not
    start at its column's left edge, so is still split there. (top, bottom, first, last column)
    per such run."""
    found = []
    for line in lines:
        for group in _groups(line):
            x0, x1 = group[0].x0, group[-1].x1
            first = next((k for k, (left, _) in enumerate(columns) if abs(x0 - (left + PAD)) <= 2), None)
            if first is None or x1 <= columns[first][1] + 2:
                continue
            last = max(k for k, (left, _) in enumerate(columns) if left < x1 - 2)
            if last > first:
                found.append((_top(group), _bottom(group), first, last))
    return found


def _spans(overflows, rows) -> dict[int, dict[int, int]]:
    spans: dict[int, dict[int, int]] = {}
    for top, bottom, first, last in overflows:
        mid = (top + bottom) / 2
        row = next((n for n, (t, b) in enumerate(rows) if t <= mid <= b), None)
        if row is not None:
            spans.setdefault(row, {})[first] = last
    return spans


def _widths(columns: list[tuple[float, float]], lines: list[list[Word]]) -> list[float]:
    """Each column's right edge for the wrap test; the last column's is its widest text (its
    true edge is not printed)."""
    rights = [right for _, right in columns]
    last_left = columns[-1][0]
    in_last = [w.x1 for ln in lines for w in ln if (w.x0 + w.x1) / 2 >= last_left]
    rights[-1] = max(in_last, default=rights[-1]) + PAD
    return rights
