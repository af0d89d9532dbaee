"""Ruled tables found as pdfplumber's `Page.find_tables()` finds them (the same settings, the
same tables), with its slowest step done in linear rather than quadratic time.

pdfplumber turns the ruling lines into their crossings, then for each crossing looks through
every later crossing for those straight below and to the right of it, and asks whether two
crossings share a ruling line by building a set of each one's lines again at every question.
Here the crossings are grouped by column and by row once, and each crossing's lines are made a
set once; the questions asked, and their order, are pdfplumber's, so the cells are too.
tests/read/test_pdfium_tables.py checks the tables equal pdfplumber's on every sample page.
"""

from __future__ import annotations

from pdfplumber.table import Table, TableFinder, TableSettings, cells_to_tables, edges_to_intersections
from pdfplumber.utils import obj_to_bbox

Point = tuple[float, float]
Box = tuple[float, float, float, float]


_SETTINGS = TableSettings.resolve(None)  # (pdfplumber's defaults, made once: nothing changes them)


def find_tables(page) -> list[Table]:
    """What `page.find_tables()` returns."""
    return _Finder(page).tables


class _Finder(TableFinder):
    def __init__(self, page) -> None:  # TableFinder.__init__, with the cells found by cells_of
        self.page = page
        self.settings = _SETTINGS
        self.edges = self.get_edges()
        self.intersections = edges_to_intersections(
            self.edges, self.settings.intersection_x_tolerance, self.settings.intersection_y_tolerance
        )
        self.cells = cells_of(self.intersections)
        self.tables = [Table(self.page, cell_group) for cell_group in cells_to_tables(self.cells)]


def cells_of(intersections: dict[Point, dict[str, list[dict]]]) -> list[Box]:
    """pdfplumber's `intersections_to_cells`: for each crossing (in sorted order), the smallest
    cell whose top left corner it is, if any."""
    points = sorted(intersections)
    vertical = {p: {obj_to_bbox(e) for e in intersections[p]["v"]} for p in points}
    horizontal = {p: {obj_to_bbox(e) for e in intersections[p]["h"]} for p in points}

    def connects(p1: Point, p2: Point) -> bool:
        if p1[0] == p2[0] and not vertical[p1].isdisjoint(vertical[p2]):
            return True
        return p1[1] == p2[1] and not horizontal[p1].isdisjoint(horizontal[p2])

    # the points after each one in sorted order straight below it (same x) and to its right (same y)
    by_x: dict[float, list[Point]] = {}
    by_y: dict[float, list[Point]] = {}
    for p in points:
        by_x.setdefault(p[0], []).append(p)
        by_y.setdefault(p[1], []).append(p)
    place_in_x = {p: n for column in by_x.values() for n, p in enumerate(column)}
    place_in_y = {p: n for row in by_y.values() for n, p in enumerate(row)}

    cells = []
    for pt in points[:-1]:
        below = by_x[pt[0]][place_in_x[pt] + 1 :]
        right = by_y[pt[1]][place_in_y[pt] + 1 :]
        cell = _smallest(pt, below, right, intersections, connects)
        if cell is not None:
            cells.append(cell)
    return cells


def _smallest(pt: Point, below: list[Point], right: list[Point], intersections, connects) -> Box | None:
    for below_pt in below:
        if not connects(pt, below_pt):
            continue
        for right_pt in right:
            if not connects(pt, right_pt):
                continue
            bottom_right = (right_pt[0], below_pt[1])
            if bottom_right in intersections and connects(bottom_right, right_pt) and connects(bottom_right, below_pt):
                return (pt[0], pt[1], bottom_right[0], bottom_right[1])
    return None
