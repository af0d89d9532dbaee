"""Ruling lines and the table cells they make.

A printed table's borders are long thin runs of ink: opening the page's ink with a long
horizontal (vertical) kernel keeps the horizontal (vertical) lines and drops text. A table is
a cluster of both; its rows lie between the horizontal lines that cross it and its columns
between the vertical ones. A cell merged across columns has no separator inside its row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels


@dataclass(frozen=True)
class GridCell:
    row: int  # 1-based, as the PDF reader numbers a table's rows
    col: int  # 1-based index of the first column the cell covers
    box: Box


@dataclass
class Table:
    box: Box
    rows: list[int]  # the y of each horizontal line, top to bottom
    cols: list[int]  # the x of each vertical line, left to right
    cells: list[GridCell] = field(default_factory=list)


@dataclass
class Lines:
    horizontal: np.ndarray  # mask (uint8 0/255) of horizontal ruling lines
    vertical: np.ndarray

    @property
    def both(self) -> np.ndarray:
        return cv2.bitwise_or(self.horizontal, self.vertical)


def ink_mask(grey: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Pixels clearly darker than the paper round them (255 = ink)."""
    block = int(px_per_mm * 4) | 1
    return cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 15)


def _bridge_dashes(ink: np.ndarray, px_per_mm: float, horizontal: bool) -> np.ndarray:
    """Close the gaps of a dashed or dotted gridline (short along the line only). Only thin
    pieces of ink take part: bridged, the letters of a line of text would make a bar too."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink)
    across = stats[:, cv2.CC_STAT_HEIGHT if horizontal else cv2.CC_STAT_WIDTH]
    thin = across <= max(2, px_per_mm * 0.6)
    thin[0] = False
    ink = np.where(thin[labels], 255, 0).astype(np.uint8)
    gap = max(3, int(px_per_mm * 1.2))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1) if horizontal else (1, gap))
    return cv2.morphologyEx(ink, cv2.MORPH_CLOSE, kernel)


def _thin_only(mask: np.ndarray, px_per_mm: float, horizontal: bool) -> np.ndarray:
    """Drop runs thicker than a ruling line (closed-up text, filled areas)."""
    limit = max(3, int(px_per_mm * 0.9))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1, limit) if horizontal else (limit, 1))
    thick = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    return cv2.subtract(mask, cv2.dilate(thick, np.ones((3, 3), np.uint8)))


def find_lines(ink: np.ndarray, px_per_mm: float, dashed: bool = False) -> Lines:
    h_len = max(15, int(px_per_mm * 9))  # longer than any word's stroke
    v_len = max(10, int(px_per_mm * 3.4))  # shorter than an empty row, longer than a letter
    h_src = _bridge_dashes(ink, px_per_mm, True) if dashed else ink
    v_src = _bridge_dashes(ink, px_per_mm, False) if dashed else ink
    horizontal = cv2.morphologyEx(h_src, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_len, 1)))
    vertical = cv2.morphologyEx(v_src, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_len)))
    horizontal = _thin_only(horizontal, px_per_mm, True)
    vertical = _thin_only(vertical, px_per_mm, False)
    return Lines(horizontal, _joined_or_long(vertical, horizontal, px_per_mm))


def _joined_or_long(vertical: np.ndarray, horizontal: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Vertical runs that meet a horizontal line or are long: a tall letter's stem (t, l, d in a
    large heading) is neither, and must not be painted out of its word."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(vertical)
    if count <= 1:
        return vertical
    near = cv2.dilate(horizontal, np.ones((9, 9), np.uint8)) > 0
    keep = np.zeros(count, bool)
    keep[np.unique(labels[near & (labels > 0)])] = True
    keep |= stats[:, cv2.CC_STAT_HEIGHT] >= px_per_mm * 10
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def _positions(profile: np.ndarray, threshold: float, min_gap: int) -> list[int]:
    """Centres of the runs where the profile is at or above threshold."""
    above = profile >= threshold
    out: list[int] = []
    start = None
    for i, flag in enumerate(np.append(above, False)):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            centre = (start + i - 1) // 2
            if out and centre - out[-1] < min_gap:
                out[-1] = (out[-1] + centre) // 2
            else:
                out.append(centre)
            start = None
    return out


def find_tables(lines: Lines, px_per_mm: float) -> list[Table]:
    """Tables: clusters of ruling lines at least two rows by two columns, top to bottom."""
    joined = cv2.dilate(lines.both, np.ones((5, 5), np.uint8))
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(joined)
    tables = []
    min_size = px_per_mm * 15
    for i in range(1, count):
        x, y, w, h, _area = stats[i]
        if w < min_size or h < px_per_mm * 6:
            continue
        table = _table_in(lines, (int(x), int(y), int(x + w), int(y + h)), px_per_mm)
        if table is not None:
            tables.append(table)
    tables.sort(key=lambda t: (t.box[1], t.box[0]))
    return tables


def _table_in(lines: Lines, box: Box, px_per_mm: float) -> Table | None:
    x0, y0, x1, y1 = box
    h = lines.horizontal[y0:y1, x0:x1] > 0
    v = lines.vertical[y0:y1, x0:x1] > 0
    min_gap = max(4, int(px_per_mm * 2.5))
    # a row line may stop short where cells are merged down; a column line where merged across
    rows = [y0 + r for r in _positions(h.sum(axis=1), 0.2 * (x1 - x0), min_gap)]
    cols = [x0 + c for c in _positions(v.sum(axis=0), 0.15 * (y1 - y0), min_gap)]
    if len(rows) < 2 or len(cols) < 2:
        return None
    table = Table(box, rows, cols)
    for r in range(len(rows) - 1):
        top, bottom = rows[r], rows[r + 1]
        band = lines.vertical[top + 2 : max(top + 3, bottom - 2)]
        start = 0
        for c in range(1, len(cols)):
            x = cols[c]
            lo, hi = max(0, x - 3), x + 4
            covered = (band[:, lo:hi] > 0).any(axis=1).mean() if band.size else 0.0
            if covered >= 0.5 or c == len(cols) - 1:
                table.cells.append(GridCell(r + 1, start + 1, (cols[start], top, x, bottom)))
                start = c
    return table


def outer_quad(lines: Lines, px_per_mm: float) -> np.ndarray | None:
    """The four corners of the largest table's outer border (clockwise from top-left), for
    rectifying a page seen at an angle; None when no table is large enough."""
    # glued a little: a slanted line comes out of the morphology in pieces
    glued = cv2.dilate(lines.both, np.ones((9, 9), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(glued)
    if count <= 1:
        return None
    biggest_label = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_WIDTH] * stats[1:, cv2.CC_STAT_HEIGHT]))
    _, _, w, h, _ = stats[biggest_label]
    if w * h < (px_per_mm * 40) ** 2:
        return None
    # with the pieces at its edges (the ends of a slanted border the morphology broke off)
    x, y, w, h = (int(v) for v in stats[biggest_label, :4])
    pad = int(px_per_mm * 5)
    near = [
        i
        for i in range(1, count)
        if stats[i, 0] < x + w + pad
        and stats[i, 0] + stats[i, 2] > x - pad
        and stats[i, 1] < y + h + pad
        and stats[i, 1] + stats[i, 3] > y - pad
    ]
    biggest = cv2.findNonZero(np.isin(labels, near).astype(np.uint8))
    hull = cv2.convexHull(biggest)
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(quad) != 4:
        return None
    return order_corners(quad.reshape(4, 2).astype(np.float32))


def order_corners(points: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left."""
    s = points.sum(axis=1)
    d = np.diff(points, axis=1).ravel()
    return np.array([points[s.argmin()], points[d.argmin()], points[s.argmax()], points[d.argmax()]], np.float32)


def paint_out(grey: np.ndarray, lines: Lines) -> np.ndarray:
    """The page with its ruling lines painted paper-white, so that no line edge becomes a word."""
    mask = cv2.dilate(lines.both, np.ones((3, 3), np.uint8))
    out = grey.copy()
    out[mask > 0] = 255
    return out
