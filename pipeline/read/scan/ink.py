"""Pen marks: tick boxes and handwriting.

A printed tick box is a small square frame. It is found by its shape (four inked sides, paper
round them), then judged by the ink inside it, away from its frame: a tick, a cross, a
filled blob or a stroke crossing the box is ink. A faint or tiny mark is neither: the reader
says it is unsure rather than guess.

Handwriting in a table cell (a signature) is ink clearly darker than the paper once the
cell's borders are painted out; specks of dust and scanner noise are dropped by size.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np

from pipeline.read.scan.grid import Box

BOX_MIN_MM, BOX_MAX_MM = 2.2, 5.5  # a printed tick box's side
SPECK_MM2 = 0.15  # ink smaller than this is dust or noise
MARK_MM2 = 2.0  # this much ink in a cell is a mark (a signature, initials)
INK_DARKNESS = 90  # grey levels below the paper: clearly ink
FAINT_DARKNESS = 35  # below the paper but lighter than ink: a faint mark
CLEAR_OUTSIDE = 0.2  # at most this share of the ring round a box is ink (a box stands clear of text)
CROSSED_OUTSIDE = 0.45  # ... or this much where a pen's stroke runs over it (kept only in line with a list)


class Mark(Enum):
    TICKED = "ticked"
    UNTICKED = "unticked"
    UNSURE = "unsure"


@dataclass(frozen=True)
class TickBox:
    box: Box
    mark: Mark
    ink_share: float  # the share of the box's inside that is ink


def _ring(outer: int, inner: int) -> np.ndarray:
    """A square kernel of side `outer` with a hole of side `inner` in its middle, summing to 1."""
    kernel = np.ones((outer, outer), np.float32)
    gap = (outer - inner) // 2
    kernel[gap : gap + inner, gap : gap + inner] = 0
    return kernel / kernel.sum()


def _shifted(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """b[y, x] = a[y + dy, x + dx], zero beyond the edge."""
    out = np.zeros_like(a)
    h, w = a.shape
    out[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)] = a[
        max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)
    ]
    return out


def _side_cover(runs: np.ndarray, offsets: list[tuple[int, int]]) -> np.ndarray:
    """The best coverage of one side among a few offsets (the frame's stroke has a width)."""
    best = _shifted(runs, *offsets[0])
    for dy, dx in offsets[1:]:
        best = np.maximum(best, _shifted(runs, dy, dx))
    return best


@dataclass
class _Shape:
    """How box-like the square of one side at each pixel (its top-left corner) is."""

    sides: np.ndarray  # the least covered of its four sides (1: all ink)
    outside: np.ndarray  # the ink in a ring just outside it (0: all paper)
    shaped: np.ndarray  # four thin sides with square corners (or filled in)
    heavy: np.ndarray  # four sides with square corners, heavily inked inside (a bold cross, or a bold letter)


def _shape(exact_ink: np.ndarray, side: int) -> _Shape:
    stroke = max(2, round(side * 0.1))
    around = max(2, round(side * 0.2))
    across = cv2.filter2D(exact_ink, -1, np.ones((1, side), np.float32) / side, anchor=(0, 0))
    down = cv2.filter2D(exact_ink, -1, np.ones((side, 1), np.float32) / side, anchor=(0, 0))
    patch = cv2.filter2D(exact_ink, -1, np.ones((stroke, stroke), np.float32) / stroke**2, anchor=(0, 0))
    far = side - stroke
    # square corners: a round letter (o, e, g) has its sides but no ink at its box's corners
    corners = np.minimum(
        np.minimum(patch, _shifted(patch, 0, far)), np.minimum(_shifted(patch, far, 0), _shifted(patch, far, far))
    )
    top = _side_cover(across, [(k, 0) for k in range(stroke)])
    bottom = _side_cover(across, [(side - 1 - k, 0) for k in range(stroke)])
    left = _side_cover(down, [(0, k) for k in range(stroke)])
    right = _side_cover(down, [(0, side - 1 - k) for k in range(stroke)])
    sides = np.minimum(np.minimum(top, bottom), np.minimum(left, right))
    outside = cv2.filter2D(
        exact_ink, -1, _ring(side + 2 * around, side), anchor=(around, around), borderType=cv2.BORDER_CONSTANT
    )
    # thin sides: a line a quarter of the way in runs over paper (a pen crosses it at a point
    # or two), where a letter's thick stem is ink all along; or the whole square is filled in
    depth = max(stroke + 1, round(side * 0.25))
    inner = (
        _shifted(across, depth, 0)
        + _shifted(across, side - 1 - depth, 0)
        + _shifted(down, 0, depth)
        + _shifted(down, 0, side - 1 - depth)
    ) / 4
    filled = cv2.filter2D(exact_ink, -1, np.ones((side, side), np.float32) / side**2, anchor=(0, 0))
    framed = (sides >= 0.8) & (corners >= 0.25)
    shaped = framed & ((inner <= 0.7) | (filled >= 0.75))
    # a heavy cross or scribble: much ink inside, across every quarter line (kept only in a list)
    heavy = framed & (filled >= 0.4) & (inner > 0.7)
    return _Shape(sides, outside, shaped, heavy)


def find_tick_boxes(grey: np.ndarray, ink: np.ndarray, px_per_mm: float, ruled: np.ndarray) -> list[TickBox]:
    """Every printed tick box on the page, with its mark. A box is a square whose four sides
    are each (nearly) all ink while the ring just outside it is (nearly) all paper: a pen's
    stroke over it or beyond it leaves its sides in place, and no letter has four straight
    sides. `ruled`: the table ruling lines, whose cells are not tick boxes."""
    free = cv2.subtract(ink, cv2.dilate(ruled, np.ones((3, 3), np.uint8)))
    candidates: list[tuple[float, Box]] = []
    overrun: list[tuple[float, Box]] = []  # paper round them crossed by a pen's stroke
    sides = [max(6, round(side_mm * px_per_mm)) for side_mm in np.arange(BOX_MIN_MM, BOX_MAX_MM, 0.2)]
    reach = max(sides) + 2 * max(2, round(max(sides) * 0.2)) + 2  # a box and the ring round it
    for (x0, y0, x1, y1), (core_top, core_bottom) in _inked_bands(free, reach):
        exact_ink = free[y0:y1, x0:x1].astype(np.float32) / 255
        for side in sides:
            shape = _shape(exact_ink, side)
            crossed = shape.outside <= CROSSED_OUTSIDE
            for found, where in (
                (candidates, shape.shaped & (shape.outside <= CLEAR_OUTSIDE)),
                (overrun, (shape.shaped | shape.heavy) & crossed),
            ):
                ys, xs = np.nonzero(where)
                for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
                    if core_top <= y + y0 < core_bottom:
                        score = float(shape.sides[y, x] - shape.outside[y, x])
                        found.append((score, (x + x0, y + y0, x + x0 + side, y + y0 + side)))
    taken: list[Box] = []
    for _score, box in sorted(candidates, key=lambda c: -c[0]):
        if not any(_overlap(box, other) > 0.2 for other in taken):
            taken.append(box)
    # a tick whose stroke runs far over the paper round its box, or a bold cross that fills it:
    # the box is taken when it stands in line with the list's other boxes (same size, same left
    # edge or same line), where a bold capital at a line's start seldom stands
    clear = list(taken)
    for _score, box in sorted(overrun, key=lambda c: -c[0]):
        if not any(_overlap(box, other) > 0.2 for other in taken) and any(_in_line(box, b) for b in clear):
            taken.append(box)
    return [TickBox(box, *judge_box(grey, box)) for box in taken]


BAND_ROWS = 400  # the page is searched a band of rows at a time: less memory, and blank parts skipped


def _inked_bands(free: np.ndarray, reach: int) -> list[tuple[Box, tuple[int, int]]]:
    """The parts of the page where a box can be: bands of rows (each with `reach` rows more on
    both sides, so that a box and its ring starting in the band are whole), each cut to the
    columns that hold ink; blank bands are left out. Returns (region, (core top, core bottom)):
    a box is taken from the band whose core holds its top edge."""
    h, w = free.shape
    rows = (free > 0).any(axis=1)
    bands = []
    for top in range(0, h, BAND_ROWS):
        bottom = min(h, top + BAND_ROWS)
        y0, y1 = max(0, top - reach), min(h, bottom + reach)
        if not rows[top : min(h, bottom + reach)].any():
            continue
        columns = np.nonzero((free[y0:y1] > 0).any(axis=0))[0]
        x0, x1 = max(0, int(columns[0]) - reach), min(w, int(columns[-1]) + 1 + reach)
        bands.append(((x0, y0, x1, y1), (top, bottom)))
    return bands


def _in_line(box: Box, other: Box) -> bool:
    """`box` is the same size as `other` and stands in its column (a list down the page) or on its line."""
    side, other_side = box[2] - box[0], other[2] - other[0]
    if box == other or abs(side - other_side) > 1 + side * 0.05:
        return False
    column = abs(box[0] - other[0]) <= side * 0.15 and abs(box[1] - other[1]) <= side * 6
    line = abs(box[1] - other[1]) <= side * 0.15 and abs(box[0] - other[0]) <= side * 40
    return column or line


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / smaller


def _paper_level(grey: np.ndarray, box: Box, margin: int) -> float:
    x0, y0, x1, y1 = box
    around = grey[max(0, y0 - margin) : y1 + margin, max(0, x0 - margin) : x1 + margin]
    return float(np.percentile(around, 90))


def judge_box(grey: np.ndarray, box: Box) -> tuple[Mark, float]:
    """Ticked when ink covers a fair share of the inside of the box (its frame and the white
    gap inside the frame left out), or when a stroke crosses the inside and runs on out of the
    box (a tick drawn large, over the frame); unsure for a faint or tiny mark."""
    x0, y0, x1, y1 = box
    side = x1 - x0
    inset = max(2, round(side * 0.2))
    inside = grey[y0 + inset : y1 - inset, x0 + inset : x1 - inset]
    if inside.size == 0:
        return Mark.UNTICKED, 0.0
    paper = _paper_level(grey, box, side)
    dark = inside < paper - INK_DARKNESS
    faint = inside < paper - FAINT_DARKNESS
    share, faint_share = float(dark.mean()), float(faint.mean())
    if share >= 0.07:
        return Mark.TICKED, share
    if share >= 0.015 and _ink_round(grey, box, paper) >= 0.08:
        return Mark.TICKED, share
    if faint_share >= 0.04 or share >= 0.015:
        return Mark.UNSURE, share
    return Mark.UNTICKED, share


def _ink_round(grey: np.ndarray, box: Box, paper: float) -> float:
    return ring_share(grey < paper - INK_DARKNESS, box)


def ring_share(dark: np.ndarray, box: Box) -> float:
    """The share of a thin ring just outside the box's frame that is ink (`dark`: True where ink);
    paper all round for a printed box left alone."""
    x0, y0, x1, y1 = box
    gap = max(1, round((x1 - x0) * 0.08))
    width = max(2, round((x1 - x0) * 0.2))
    h, w = dark.shape
    top, left = max(0, y0 - gap - width), max(0, x0 - gap - width)
    outer = dark[top : min(h, y1 + gap + width), left : min(w, x1 + gap + width)]
    ring = np.ones(outer.shape, bool)
    oy, ox = y0 - gap - top, x0 - gap - left
    ring[max(0, oy) : oy + (y1 - y0) + 2 * gap, max(0, ox) : ox + (x1 - x0) + 2 * gap] = False
    return float(outer[ring].mean()) if ring.any() else 0.0


def cell_ink_mm2(grey: np.ndarray, inside: Box, px_per_mm: float) -> float:
    """The area of handwriting in a table cell (`inside`: the cell less its borders, on a page
    whose ruling lines are painted out), where a stroke that crosses into the next row or column
    belongs to the cell holding most of it: a signature's tail or underline over the row line
    does not sign the row below. The painted-out line's gap is bridged so that a stroke's two
    sides are one mark."""
    x0, y0, x1, y1 = inside
    if x1 <= x0 or y1 <= y0:
        return 0.0
    reach = round(px_per_mm * 4)
    h, w = grey.shape
    rx0, ry0, rx1, ry1 = max(0, x0 - reach), max(0, y0 - reach), min(w, x1 + reach), min(h, y1 + reach)
    region = grey[ry0:ry1, rx0:rx1]
    own = grey[y0:y1, x0:x1]
    paper = float(np.percentile(own, 90))
    dark = (region < min(paper - INK_DARKNESS, 170)).astype(np.uint8)
    bridge = max(3, round(px_per_mm * 1.2)) | 1
    glued = cv2.dilate(dark, np.ones((bridge, bridge), np.uint8))
    count, labels = cv2.connectedComponents(glued, connectivity=8)
    if count <= 1:
        return 0.0
    ink_labels = labels[dark > 0]
    total = np.bincount(ink_labels, minlength=count)
    in_cell = np.zeros(region.shape, bool)
    in_cell[y0 - ry0 : y1 - ry0, x0 - rx0 : x1 - rx0] = True
    within = np.bincount(labels[(dark > 0) & in_cell], minlength=count)
    speck_px = SPECK_MM2 * px_per_mm**2
    kept = (within >= total * 0.5) & (within >= speck_px)
    kept[0] = False
    return float(within[kept].sum() / px_per_mm**2)


def is_mark(area_mm2: float) -> bool:
    return area_mm2 >= MARK_MM2
