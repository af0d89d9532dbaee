"""Entry points: a picture file, or the image-only pages of a PDF, -> Document (format "scan")."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from pipeline.document import Document
from pipeline.problems import ProblemCode
from pipeline.read.errors import UnreadableFile
from pipeline.read.limits import allow_time_for_ocr_page, ocr_max_pages
from pipeline.read.scan import grid, ink, layout, ocr, page
from pipeline.read.scan.images import decode_pages

PDF_DPI = 300
LONE_BOX_RING = 0.03  # a box with no list round it has paper all round it (this much ink at most)
MIN_PIECE_MM = 1.0  # a piece of a text line narrower than this, cut at a column line, is a stray


def read_image(data: bytes) -> Document:
    """A picture file (JPEG, PNG, TIFF, HEIC, BMP, WEBP) read by OCR, every page of it."""
    images = decode_pages(data, ocr_max_pages())
    return read_page_images(images, list(range(1, len(images) + 1)))


def read_image_isolated(data: bytes) -> Document:
    """read_image with a time and a memory limit (pipeline.read.isolated), for a caller outside a
    run's parsing workers (in a worker, where the limits are already in force, it runs in place).
    The time allowed is the reader's own plus each page's OCR allowance: a JPEG, PNG, BMP or WEBP
    is one page; a TIFF or HEIC may hold up to ocr_max_pages (the count is not read here, outside
    the limits, from a file that may be hostile)."""
    from pipeline.read.isolated import SECONDS, read_isolated
    from pipeline.read.limits import ReadLimits
    from pipeline.read.sniff import Format, sniff

    pages = ocr_max_pages() if sniff(data) in (Format.TIFF, Format.HEIC) else 1
    return read_isolated(read_image, data, seconds=SECONDS + pages * ReadLimits().ocr_page_seconds)


def read_page_images(images: list[Image.Image], page_numbers: list[int]) -> Document:
    """Pages given as pictures (a PDF's pages without a text layer, numbered as in the PDF)."""
    if len(images) > ocr_max_pages():
        raise UnreadableFile(
            ProblemCode.TOO_LARGE,
            f"The scan has {len(images)} pages; at most {ocr_max_pages()} pages of a scan are read.",
        )
    doc = Document(format="scan")
    table_no = 0
    pages = [(image, page_no) for image, page_no in zip(images, page_numbers, strict=True) if _could_be_a_page(image)]
    if not pages:
        width, height = images[0].size if images else (0, 0)
        raise UnreadableFile(
            ProblemCode.SCANNED_DOCUMENT,
            f"The picture is {width} x {height} pixels: too small, or too thin, to be a scanned or photographed "
            "form (an icon or a logo?).",
        )
    for image, page_no in pages:
        allow_time_for_ocr_page()
        table_no = read_page(image, page_no, doc, table_no)
    if len(pages) < len(images):
        doc.notes.append(f"{len(images) - len(pages)} picture(s) too small or too thin to be a page: not read")
    return doc


# A scan or photo of a form page, even a poor one, is some hundreds of pixels each way and about
# as tall as wide (A4: 1.41); an icon, a logo or a strip cut from a fax is not, and enlarging one
# to a page's working size costs a full page of OCR (and, for a thin strip, a gigabyte).
MIN_PAGE_SIDE_PX = 300
MAX_PAGE_ASPECT = 4.0


def _could_be_a_page(image: Image.Image) -> bool:
    width, height = image.size
    short, long = min(width, height), max(width, height)
    return short >= MIN_PAGE_SIDE_PX and long <= MAX_PAGE_ASPECT * short


def read_scanned_pdf(data: bytes, page_numbers: list[int]) -> Document:
    """The given pages of a PDF (1-based) rendered at PDF_DPI and read by OCR. A page that is one
    full-page picture is taken at the picture's own resolution when that is lower."""
    import pypdfium2 as pdfium

    if len(page_numbers) > ocr_max_pages():
        raise UnreadableFile(
            ProblemCode.TOO_LARGE,
            f"The PDF has {len(page_numbers)} scanned pages; at most {ocr_max_pages()} pages of a scan are read.",
        )
    pdf = pdfium.PdfDocument(data)
    try:
        images = []
        for number in page_numbers:
            pdf_page = pdf[number - 1]
            width_in = pdf_page.get_width() / 72
            dpi = PDF_DPI
            pictures = [o for o in pdf_page.get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
            if len(pictures) == 1:
                pixel_width = pictures[0].get_px_size()[0]
                dpi = min(PDF_DPI, max(100, pixel_width / max(width_in, 1)))
            images.append(pdf_page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L"))
            pdf_page.close()
    finally:
        pdf.close()
    return read_page_images(images, page_numbers)


def _split_at_columns(box: grid.Box, tables: list[grid.Table], px_per_mm: float) -> list[grid.Box]:
    """A detected text line cut where it crosses a table's column lines: no word spans two cells."""
    x0, y0, x1, y1 = box
    cy = (y0 + y1) / 2
    for table in tables:
        for cell in table.cells:
            cx0, cy0, cx1, cy1 = cell.box
            if not cy0 <= cy < cy1:
                continue
            if cx0 <= x0 and x1 <= cx1:
                return [(x0, max(y0, cy0), x1, min(y1, cy1))]
    pieces = []
    for table in tables:
        for cell in table.cells:
            cx0, cy0, cx1, cy1 = cell.box
            if cy0 <= cy < cy1 and cx0 < x1 and x0 < cx1:
                left, right = max(x0, cx0), min(x1, cx1)
                if right - left >= MIN_PIECE_MM * px_per_mm:
                    pieces.append((left, max(y0, cy0), right, min(y1, cy1)))
    return pieces or [box]


def _in_a_word(box: grid.Box, lines: list[grid.Box], inked: np.ndarray, tables: list[grid.Table]) -> bool:
    """A square inside a detected line of text with text right before it (no space between):
    a letter (a bold d or n, a ligature), not a tick box, which starts its line or stands a
    space apart from the text before it."""
    x0, y0, x1, y1 = box
    side = x1 - x0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    reach = round(side * 0.4)
    for lx0, ly0, lx1, ly1 in lines:
        if not (lx0 <= cx <= lx1 and ly0 <= cy <= ly1):
            continue
        if x0 - lx0 <= side:  # at the line's start, where a pen's stroke may run on into the text
            in_table = any(t.box[0] <= cx <= t.box[2] and t.box[1] <= cy <= t.box[3] for t in tables)
            after = inked[y0:y1, x1 + 1 : x1 + 1 + reach]
            # in a table (typed values, seldom a pen's tick): a letter with the next one right after it
            if in_table and after.size and (after > 0).any(axis=1).mean() >= 0.5:
                return True
            continue
        if lx1 - x1 > side:
            return True  # text on both sides
        gap = inked[y0:y1, max(0, x0 - reach) : max(0, x0 - 1)]
        if gap.size and (gap > 0).any():
            return True
    return False


def _tight_after(box: grid.Box, inked: np.ndarray) -> bool:
    """Ink right after the square at letter spacing (not a word space) in the middle of its
    height, where the next letter of a word stands: "D" then "ate:"."""
    x0, y0, x1, y1 = box
    side = x1 - x0
    band = inked[y0 + round(side * 0.35) : y1 - round(side * 0.15), x1 + 1 : x1 + 1 + max(1, round(side * 0.2))]
    return bool(band.size) and bool((band > 0).any())


def _siblings(box: grid.Box, boxes: list[grid.Box]) -> bool:
    """Another square of the same size in the same list: below or above it with the same left
    edge (an option list), or beside it on the same line ("☐ Yes ☐ No"). A lone capital at a
    line start (the D of "Date:") has none."""
    x0, y0, x1, _ = box
    side = x1 - x0
    for other in boxes:
        if other == box or abs((other[2] - other[0]) - side) > side * 0.1 + 1:
            continue
        same_column = abs(other[0] - x0) <= side * 0.3 and abs(other[1] - y0) <= side * 8
        same_line = abs(other[1] - y0) <= side * 0.3
        if same_column or same_line:
            return True
    return False


def without_capitals(boxes: list[ink.TickBox], inked: np.ndarray) -> list[ink.TickBox]:
    """A box must be a box: a square alone of its size (no list of options round it) that is
    glued to the letters after it, or has ink in the paper just round it, is a capital or a pair
    of letters at a line's start (the D of "Date:", the "tr" of "training"), not a box."""
    squares = [b.box for b in boxes]
    return [
        b
        for b in boxes
        if _siblings(b.box, squares)
        or not (_tight_after(b.box, inked) or ink.ring_share(inked > 0, b.box) >= LONE_BOX_RING)
    ]


def _trimmed(line: grid.Box, boxes: list[grid.Box], margin: int) -> grid.Box:
    """A detected line less the tick boxes at its ends (they are read as marks, not letters)."""
    x0, y0, x1, y1 = line
    for bx0, by0, bx1, by1 in boxes:
        if bx1 <= x0 or bx0 >= x1 or not y0 <= (by0 + by1) / 2 <= y1:
            continue
        if (bx0 + bx1) / 2 < (x0 + x1) / 2:
            x0 = max(x0, bx1 + margin)
        else:
            x1 = min(x1, bx0 - margin)
    return x0, y0, x1, y1


def _words(grey: np.ndarray, found: list[grid.Box], tables: list[grid.Table], px_per_mm: float) -> list[layout.Token]:
    boxes = []
    for box in found:
        boxes.extend(_split_at_columns(box, tables, px_per_mm))
    h, w = grey.shape
    boxes = [(max(0, x0), max(0, y0), min(w, x1), min(h, y1)) for x0, y0, x1, y1 in boxes]
    boxes = [b for b in boxes if b[2] > b[0] + 2 and b[3] > b[1] + 2]
    crops = [grey[y0:y1, x0:x1] for x0, y0, x1, y1 in boxes]
    tokens = []
    for box, (text, score) in zip(boxes, ocr.recognise(crops), strict=True):
        if text and score >= layout.MIN_SCORE and not ocr.only_strays(text):
            tokens.append(layout.Token(text, box, score))
    return tokens


def read_page(image: Image.Image, page_no: int, doc: Document, table_no: int) -> int:
    cleaned = page.clean(image)
    grey, px_per_mm = cleaned.grey, cleaned.px_per_mm
    inked = grid.ink_mask(grey, px_per_mm)
    lines = grid.find_lines(inked, px_per_mm)
    tables = grid.find_tables(lines, px_per_mm)
    if not tables:  # faint dashed gridlines (a sheet printed with its gridlines) come out in pieces
        dashed = grid.find_lines(inked, px_per_mm, dashed=True)
        dashed_tables = grid.find_tables(dashed, px_per_mm)
        if dashed_tables:
            lines, tables = dashed, dashed_tables
    painted = grid.paint_out(grey, lines)
    found = [d.box for d in ocr.detect(painted)]
    boxes = [
        b
        for b in ink.find_tick_boxes(grey, inked, px_per_mm, lines.both)
        if not _in_a_word(b.box, found, inked, tables)
    ]
    boxes = without_capitals(boxes, inked)
    margin = max(2, round(px_per_mm * 0.4))
    for box in boxes:
        x0, y0, x1, y1 = box.box
        cv2.rectangle(painted, (x0 - margin, y0 - margin), (x1 + margin, y1 + margin), 255, -1)
    found = [_trimmed(line, [b.box for b in boxes], margin) for line in found]
    tokens = _words(painted, found, tables, px_per_mm)
    tokens += [layout.Token("", b.box, 1.0, b.mark) for b in boxes]
    findings = layout.PageFindings(page_no, painted, px_per_mm, tables, tokens)
    table_no = layout.add_page(findings, doc, table_no)
    steps = f"; {', '.join(cleaned.steps)}" if cleaned.steps else ""
    doc.notes.append(f"page {page_no} read by OCR (rapidocr; tesseract second reading){steps}")
    return table_no
