"""Pen marks: tick boxes and handwriting.

A printed tick box is a small square frame. It is found from its straight sides (opening the
ink with short horizontal and vertical kernels keeps a frame's sides and drops a pen's curves
and diagonals), then judged by the ink inside it, away from its frame: a tick, a cross, a
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

BOX_MIN_MM, BOX_MAX_MM = 2.0, 6.5  # a printed tick box's side
SPECK_MM2 = 0.15  # ink smaller than this is dust or noise
MARK_MM2 = 2.0  # this much ink in a cell is a mark (a signature, initials)
INK_DARKNESS = 90  # grey levels below the paper: clearly ink
FAINT_DARKNESS = 35  # below the paper but lighter than ink: a faint mark


class Mark(Enum):
    TICKED = "ticked"
    UNTICKED = "unticked"
    UNSURE = "unsure"


@dataclass(frozen=True)
class TickBox:
    box: Box
    mark: Mark
    ink_share: float  # the share of the box's inside that is ink


def _sides(ink: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    return horizontal, vertical


def _has_frame(h: np.ndarray, v: np.ndarray, box: Box) -> bool:
    """All four sides of the square drawn (each mostly covered along its length)."""
    x0, y0, x1, y1 = box
    band = max(2, (x1 - x0) // 6)
    top = (h[y0 : y0 + band, x0:x1] > 0).any(axis=0).mean()
    bottom = (h[y1 - band : y1, x0:x1] > 0).any(axis=0).mean()
    left = (v[y0:y1, x0 : x0 + band] > 0).any(axis=1).mean()
    right = (v[y0:y1, x1 - band : x1] > 0).any(axis=1).mean()
    if min(top, bottom, left, right) < 0.7:
        return False
    # and square corners: a round letter (o, O, D, 0) opened the same way has none
    frame = cv2.bitwise_or(h, v)
    corners = (
        frame[y0 : y0 + band, x0 : x0 + band],
        frame[y0 : y0 + band, x1 - band : x1],
        frame[y1 - band : y1, x0 : x0 + band],
        frame[y1 - band : y1, x1 - band : x1],
    )
    return all((corner > 0).mean() >= 0.25 for corner in corners)


def find_tick_boxes(grey: np.ndarray, ink: np.ndarray, px_per_mm: float, ruled: np.ndarray) -> list[TickBox]:
    """Every printed tick box on the page, with its mark. `ruled`: the table ruling lines (a
    table's cells are not tick boxes)."""
    small, large = BOX_MIN_MM * px_per_mm, BOX_MAX_MM * px_per_mm
    length = max(5, int(small * 0.7))
    free = cv2.subtract(ink, cv2.dilate(ruled, np.ones((3, 3), np.uint8)))
    h, v = _sides(free, length)
    frames = cv2.bitwise_or(h, v)
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(frames)
    boxes = []
    for i in range(1, count):
        x, y, w, hh, _area = stats[i]
        if not (small <= w <= large and small <= hh <= large and 0.75 <= w / hh <= 1.33):
            continue
        box = (int(x), int(y), int(x + w), int(y + hh))
        if _has_frame(h, v, box):
            boxes.append(TickBox(box, *judge_box(grey, box)))
    return boxes


def _paper_level(grey: np.ndarray, box: Box, margin: int) -> float:
    x0, y0, x1, y1 = box
    around = grey[max(0, y0 - margin) : y1 + margin, max(0, x0 - margin) : x1 + margin]
    return float(np.percentile(around, 90))


def judge_box(grey: np.ndarray, box: Box) -> tuple[Mark, float]:
    """Ticked when ink covers a fair share of the inside of the box (its frame and the white
    gap inside the frame left out); unsure for a faint or tiny mark."""
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
    if faint_share >= 0.04 or share >= 0.015:
        return Mark.UNSURE, share
    return Mark.UNTICKED, share


def ink_area_mm2(grey: np.ndarray, px_per_mm: float) -> float:
    """The area of ink in a cell (borders already painted out), specks left out."""
    if grey.size == 0:
        return 0.0
    paper = float(np.percentile(grey, 90))
    dark = (grey < min(paper - INK_DARKNESS, 170)).astype(np.uint8)
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    speck_px = SPECK_MM2 * px_per_mm**2
    areas = stats[1:count, cv2.CC_STAT_AREA]
    return float(areas[areas >= speck_px].sum() / px_per_mm**2)


def is_mark(area_mm2: float) -> bool:
    return area_mm2 >= MARK_MM2
