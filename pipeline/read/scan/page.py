"""Straighten and clean one page before it is read.

In order: bring the page to the working scale (about 200 dpi), find the sheet of paper in a
phone photo and flatten it (one homography), even out the light (a shadow, grey paper), turn
the page upright (0/90/180/270 degrees, from the shape and direction of its text lines),
undo the scanner's small skew, and finally rectify the largest table's outer border to a
true rectangle (what is left of a photo's perspective).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from pipeline.read.scan import grid, ocr

WORKING_DPI = 200
A4_SHORT_INCHES = 8.27
A4_RATIO = 297 / 210
MM_PER_INCH = 25.4


@dataclass
class CleanPage:
    grey: np.ndarray  # upright, straight, even light; uint8
    px_per_mm: float
    steps: list[str]  # what was done, for the Document's notes


def to_working_scale(image: Image.Image) -> np.ndarray:
    """Resample so that the page's short side is an A4 sheet's at WORKING_DPI. A photo whose
    sheet fills only part of the frame comes out a little small; the sheet is found next."""
    short = min(image.size)
    scale = WORKING_DPI * A4_SHORT_INCHES / short
    if abs(scale - 1) > 0.05:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.uint8)


def find_sheet(grey: np.ndarray) -> np.ndarray | None:
    """The corners of a sheet of paper lying on a darker background (a phone photo), or None
    for a scan, where the paper fills the picture. A shadow across the sheet can make its dark
    part fall below Otsu's threshold (the bright part alone looks like the sheet), so the
    threshold between the background and the shadowed paper is tried too, and the largest
    sheet found wins."""
    small_scale = 600 / max(grey.shape)
    small = cv2.resize(grey, None, fx=small_scale, fy=small_scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    otsu, _ = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    levels = [otsu]
    darker = small[small < otsu]
    if darker.size > 100:
        lower, _ = cv2.threshold(darker.reshape(1, -1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        levels.append(lower)
    found = [q for q in (_sheet_at(small, level) for level in levels) if q is not None]
    if not found:
        return None
    best = max(found, key=lambda q: cv2.contourArea(q))
    return grid.order_corners(best.reshape(4, 2).astype(np.float32) / small_scale)


def _sheet_at(small: np.ndarray, level: float) -> np.ndarray | None:
    """The sheet's quad (in the small copy's pixels) when the paper is what is brighter than `level`."""
    bright = np.where(small > level, 255, 0).astype(np.uint8)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    biggest = max(contours, key=cv2.contourArea)
    share = cv2.contourArea(biggest) / bright.size
    if not 0.2 <= share <= 0.93:
        return None
    hull = cv2.convexHull(biggest)
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(quad) != 4:
        return None
    # the background must be clearly darker than the sheet, or this is a page's own border
    inside = np.zeros_like(small)
    cv2.fillConvexPoly(inside, quad.reshape(4, 2), 255)
    if np.median(small[inside == 0]) > np.median(small[inside > 0]) - 40:
        return None
    return quad


def flatten_sheet(grey: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The sheet inside `corners` mapped to an upright A4 rectangle at the working scale."""
    tl, tr, br, bl = corners
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    short_px = WORKING_DPI * A4_SHORT_INCHES
    if height >= width:
        size = (round(short_px), round(short_px * A4_RATIO))
    else:
        size = (round(short_px * A4_RATIO), round(short_px))
    target = np.array([[0, 0], [size[0] - 1, 0], [size[0] - 1, size[1] - 1], [0, size[1] - 1]], np.float32)
    matrix = cv2.getPerspectiveTransform(corners, target)
    return cv2.warpPerspective(grey, matrix, size, flags=cv2.INTER_CUBIC, borderValue=255)


def even_light(grey: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Divide by the paper's own brightness round each spot: a shadow or grey paper turns
    white, and ink stays as dark against it as it was."""
    scale = 0.25
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    size = int(px_per_mm * scale * 6) | 1
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
    paper = cv2.medianBlur(paper, max(3, (size * 2) | 1) if size * 2 < 255 else 255)
    paper = cv2.resize(paper, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
    out = grey.astype(np.float32) * 255.0 / np.maximum(paper.astype(np.float32), 1.0)
    return np.clip(out, 0, 255).astype(np.uint8)


def _turn(grey: np.ndarray, degrees: int) -> np.ndarray:
    """Turn counter-clockwise by a multiple of 90 degrees."""
    return np.ascontiguousarray(np.rot90(grey, degrees // 90))


def _line_crops(grey: np.ndarray, found: list[ocr.Detected], limit: int) -> list[np.ndarray]:
    wide = sorted(found, key=lambda d: d.box[2] - d.box[0], reverse=True)[:limit]
    crops = []
    for d in wide:
        x0, y0, x1, y1 = d.box
        crop = grey[max(0, y0) : y1, max(0, x0) : x1]
        if crop.size:
            crops.append(crop)
    return crops


def upright(grey: np.ndarray) -> tuple[np.ndarray, int, list[ocr.Detected]]:
    """The page turned so its text reads left to right, the turn made (degrees counter-clockwise),
    and the text lines found on a small copy (in the small copy's pixels, scaled back)."""
    scale = 1000 / max(grey.shape)
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = ocr.detect(small)
    long_lines = [d for d in found if max(_size(d)) > 3 * min(_size(d))]
    tall = sum(1 for d in long_lines if _size(d)[1] > _size(d)[0])
    turn = 0
    if long_lines and tall > len(long_lines) / 2:
        turn = 90
        small = _turn(small, 90)
        found = ocr.detect(small)
    if ocr.upside_down_share(_line_crops(small, found, 15)) > 0.5:
        turn = (turn + 180) % 360
        small = _turn(small, 180)
        found = ocr.detect(small)
    if turn:
        grey = _turn(grey, turn)
    return grey, turn, [ocr.Detected(d.quad / scale) for d in found]


def _size(d: ocr.Detected) -> tuple[float, float]:
    x0, y0, x1, y1 = d.box
    return x1 - x0, y1 - y0


def skew_of(found: list[ocr.Detected]) -> float:
    """The page's skew in degrees, from the slope of its long text lines."""
    angles = [d.angle for d in found if _size(d)[0] > 4 * _size(d)[1]]
    angles = [a for a in angles if abs(a) < 20]
    return float(np.median(angles)) if len(angles) >= 3 else 0.0


def rotate(grey: np.ndarray, degrees: float) -> np.ndarray:
    h, w = grey.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(grey, matrix, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)


def square_table(grey: np.ndarray, px_per_mm: float) -> tuple[np.ndarray, bool]:
    """Map the largest table's outer border onto a true rectangle of the same size (the whole
    page moves with it); returns the page and whether it was changed."""
    lines = grid.find_lines(grid.ink_mask(grey, px_per_mm), px_per_mm)
    corners = grid.outer_quad(lines, px_per_mm)
    if corners is None:
        return grey, False
    tl, tr, br, bl = corners
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    target = np.array([tl, tl + [width, 0], tl + [width, height], tl + [0, height]], np.float32)
    if np.abs(corners - target).max() < px_per_mm * 0.4:
        return grey, False
    matrix = cv2.getPerspectiveTransform(corners, target)
    h, w = grey.shape
    return cv2.warpPerspective(grey, matrix, (w, h), flags=cv2.INTER_CUBIC, borderValue=255), True


def clean(image: Image.Image) -> CleanPage:
    grey = to_working_scale(image)
    px_per_mm = WORKING_DPI / MM_PER_INCH
    steps = []
    sheet = find_sheet(grey)
    if sheet is not None:
        grey = flatten_sheet(grey, sheet)
        steps.append("sheet found in the photo and flattened")
    grey = even_light(grey, px_per_mm)
    grey, turned, found = upright(grey)
    if turned:
        steps.append(f"turned {turned} degrees")
    skew = skew_of(found)
    if abs(skew) > 0.15:
        grey = rotate(grey, skew)
        steps.append(f"straightened by {skew:.1f} degrees")
    grey, squared = square_table(grey, px_per_mm)
    if squared:
        steps.append("table border squared")
    return CleanPage(grey, px_per_mm, steps)
