"""Ruled tables found as pdfplumber's `Page.find_tables()` finds them (the same settings, the
same tables), with its slowest steps done in linear rather than quadratic time.

pdfplumber turns the ruling lines into their crossings, then for each crossing looks through
every later crossing for those straight below and to the right of it, and asks whether two
crossings share a ruling line by building a set of each one's lines again at every question.
Here the crossings are grouped by column and by row once, and each crossing's lines are made a
set once; the questions asked, and their order, are pdfplumber's, so the cells are too.
The crossings themselves (`crossings_of`) and the grouping of cells into tables
(`tables_of`) likewise: pdfplumber sorts the horizontal lines again for every vertical one and
tries each pair, and removes each grouped cell from a list by searching it.
tests/read/test_pdfium_tables.py checks the tables equal pdfplumber's on every sample page.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from operator import itemgetter

from pdfplumber.table import Table, TableFinder, TableSettings, edges_to_intersections

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
        self.intersections = crossings_of(
            self.edges, self.settings.intersection_x_tolerance, self.settings.intersection_y_tolerance
        )
        self.cells = cells_of(self.intersections)
        self.tables = [Table(self.page, cell_group) for cell_group in tables_of(self.cells)]


_bbox = itemgetter("x0", "top", "x1", "bottom")  # (pdfplumber's obj_to_bbox)
_v_order = itemgetter("x0", "top")
_h_order = itemgetter("top", "x0")


def crossings_of(edges: list[dict], x_tolerance: float, y_tolerance: float) -> dict[Point, dict[str, list[dict]]]:
    """pdfplumber's `edges_to_intersections`: the same crossings, made in the same order (each
    vertical line in its order, then the horizontal lines in theirs), each vertical line tried
    against only the horizontal lines near enough in height (they are sorted by it)."""
    v_edges = sorted([e for e in edges if e["orientation"] == "v"], key=_v_order)
    h_edges = sorted([e for e in edges if e["orientation"] == "h"], key=_h_order)
    tops = [h["top"] for h in h_edges]
    if any(top != top for top in tops) or any(v["top"] != v["top"] or v["bottom"] != v["bottom"] for v in v_edges):
        # (a NaN: no order to search by)
        return edges_to_intersections(edges, x_tolerance, y_tolerance)
    # pdfplumber's tests, their sums made as it makes them: v's top <= h's top + y tolerance,
    # v's bottom >= h's top - y tolerance, v's x between h's x0 - and x1 + x tolerance
    lowest_reach = [top + y_tolerance for top in tops]  # (both rise with top: searched by bisection)
    highest_reach = [top - y_tolerance for top in tops]
    spans = [(h["x0"] - x_tolerance, h["x1"] + x_tolerance, h) for h in h_edges]
    intersections: dict[Point, dict[str, list[dict]]] = {}
    for v in v_edges:
        x = v["x0"]
        first = bisect_left(lowest_reach, v["top"])
        last = bisect_right(highest_reach, v["bottom"])
        for left, right, h in spans[first:last]:
            if left <= x <= right:
                vertex = (x, h["top"])
                crossing = intersections.get(vertex)
                if crossing is None:
                    crossing = intersections[vertex] = {"v": [], "h": []}
                crossing["v"].append(v)
                crossing["h"].append(h)
    return intersections


def tables_of(cells: list[Box]) -> list[list[Box]]:
    """pdfplumber's `cells_to_tables`: passes over the cells not yet grouped, in order, each
    taking into the growing table every cell that shares a corner with it; a pass that takes
    none closes the table. Tables of one cell are dropped."""
    remaining = list(cells)
    corners: set[Point] = set()
    current: list[Box] = []
    tables: list[list[Box]] = []
    while remaining:
        before = len(current)
        left_over = []
        for cell in remaining:
            x0, top, x1, bottom = cell
            cell_corners = ((x0, top), (x0, bottom), (x1, top), (x1, bottom))
            if not current or not corners.isdisjoint(cell_corners):
                corners.update(cell_corners)
                current.append(cell)
            else:
                left_over.append(cell)
        remaining = left_over
        if len(current) == before:
            tables.append(current)
            corners = set()
            current = []
    if current:
        tables.append(current)
    tables.sort(key=lambda t: min((c[1], c[0]) for c in t))
    return [t for t in tables if len(t) > 1]


def cells_of(intersections: dict[Point, dict[str, list[dict]]]) -> list[Box]:
    """pdfplumber's `intersections_to_cells`: for each crossing (in sorted order), the smallest
    cell whose top left corner it is, if any."""
    points = sorted(intersections)
    vertical = {p: set(map(_bbox, intersections[p]["v"])) for p in points}
    horizontal = {p: set(map(_bbox, intersections[p]["h"])) for p in points}

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
