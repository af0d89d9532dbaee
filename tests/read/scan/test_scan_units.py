"""The scan reader's image steps on small pictures made here (no OCR: each OCR page costs seconds)."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.problems import ProblemCode
from pipeline.read.errors import UnreadableFile
from pipeline.read.scan import grid, images, ink, page
from pipeline.read.sniff import Format, sniff

PPM = page.WORKING_DPI / page.MM_PER_INCH  # pixels per mm at the working scale


def _encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def _paper(w: int = 600, h: int = 400) -> np.ndarray:
    return np.full((h, w), 255, np.uint8)


def _box(img: np.ndarray, x: int, y: int, side: int = 24) -> tuple[int, int, int, int]:
    cv2.rectangle(img, (x, y), (x + side - 1, y + side - 1), 0, 2)
    return x, y, x + side, y + side


# ---------------------------------------------------------------- decoding


@pytest.mark.parametrize(
    ("fmt", "kind", "kwargs"),
    [("JPEG", Format.JPEG, {}), ("PNG", Format.PNG, {}), ("TIFF", Format.TIFF, {}), ("BMP", Format.BMP, {})],
)
def test_picture_formats_are_sniffed_from_their_bytes(fmt, kind, kwargs):
    assert sniff(_encode(Image.new("L", (20, 20), 255), fmt, **kwargs)) is kind


def test_heic_is_sniffed_and_decoded():
    import pillow_heif

    pillow_heif.register_heif_opener()
    data = _encode(Image.new("RGB", (64, 48), (250, 250, 250)), "HEIF")
    assert sniff(data) is Format.HEIC
    pages = images.decode_pages(data, 40)
    assert len(pages) == 1 and pages[0].mode == "L" and pages[0].size == (64, 48)


def test_multi_page_fax_tiff_gives_every_page():
    frames = [Image.new("1", (80, 100), 1) for _ in range(3)]
    data = _encode(frames[0], "TIFF", save_all=True, append_images=frames[1:], compression="group4")
    pages = images.decode_pages(data, 40)
    assert len(pages) == 3 and all(p.mode == "L" for p in pages)


def test_tiff_with_more_pages_than_allowed_is_too_large():
    frames = [Image.new("L", (10, 10), 255) for _ in range(3)]
    data = _encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    with pytest.raises(UnreadableFile) as caught:
        images.decode_pages(data, 2)
    assert caught.value.code is ProblemCode.TOO_LARGE


def test_exif_orientation_is_applied():
    image = Image.new("L", (40, 20), 255)
    exif = image.getexif()
    exif[0x0112] = 6  # turned 90 degrees when taken
    pages = images.decode_pages(_encode(image, "JPEG", exif=exif), 40)
    assert pages[0].size == (20, 40)


def test_decompression_bomb_is_too_large():
    # a few KB of PNG that would expand to 100 million pixels: refused from its header
    bomb = _encode(Image.new("1", (10_000, 10_000), 1), "PNG")
    assert len(bomb) < 100_000
    with pytest.raises(UnreadableFile) as caught:
        images.decode_pages(bomb, 40)
    assert caught.value.code is ProblemCode.TOO_LARGE


def test_damaged_jpeg_is_corrupt_file():
    data = _encode(Image.new("L", (200, 200), 128), "JPEG")
    with pytest.raises(UnreadableFile) as caught:
        images.decode_pages(data[: len(data) // 3], 40)
    assert caught.value.code is ProblemCode.CORRUPT_FILE


# ---------------------------------------------------------------- page clean-up


def _lines_page() -> np.ndarray:
    img = _paper(1000, 700)
    for y in range(100, 600, 60):
        cv2.line(img, (100, y), (900, y), 0, 3)
    return img


def test_rotated_page_is_straightened():
    turned = page.rotate(_lines_page(), 6.0)
    lines = grid.find_lines(grid.ink_mask(turned, PPM), PPM)
    assert lines.horizontal.sum() == 0  # no long horizontal run while skewed
    fixed = page.rotate(turned, -6.0)
    assert grid.find_lines(grid.ink_mask(fixed, PPM), PPM).horizontal.sum() > 0


def test_perspective_table_border_is_rectified():
    img = _paper(1200, 1000)
    cv2.rectangle(img, (200, 200), (1000, 800), 0, 3)
    for x in (400, 600, 800):
        cv2.line(img, (x, 200), (x, 800), 0, 3)
    for y in (400, 600):
        cv2.line(img, (200, y), (1000, y), 0, 3)
    src = np.float32([[200, 200], [1000, 200], [1000, 800], [200, 800]])
    dst = np.float32([[230, 210], [980, 190], [1010, 820], [190, 790]])
    warped = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (1200, 1000), borderValue=255)
    squared, changed = page.square_table(warped, PPM)
    assert changed
    corners = grid.outer_quad(grid.find_lines(grid.ink_mask(squared, PPM), PPM), PPM)
    tl, tr, br, bl = corners
    assert abs(tl[1] - tr[1]) <= 3 and abs(bl[1] - br[1]) <= 3 and abs(tl[0] - bl[0]) <= 3


def test_sheet_in_a_photo_is_found():
    photo = np.full((1000, 800), 60, np.uint8)
    cv2.fillConvexPoly(photo, np.int32([[150, 100], [650, 130], [700, 900], [100, 870]]), 235)
    corners = page.find_sheet(photo)
    assert corners is not None
    assert np.abs(corners - np.float32([[150, 100], [650, 130], [700, 900], [100, 870]])).max() < 15


def test_shadow_is_evened_out():
    img = _paper(400, 300)
    img[:, :200] = 150  # a shadow over the left half
    cv2.putText(img, "ink", (50, 150), cv2.FONT_HERSHEY_SIMPLEX, 2, 20, 4)
    even = page.even_light(img, PPM)
    assert even[10, 10] > 230 and even[100:150, 50:200].min() < 100


# ---------------------------------------------------------------- grid


def test_grid_of_a_table_is_found_with_merged_cell():
    img = _paper(900, 500)
    cv2.rectangle(img, (100, 100), (800, 400), 0, 2)
    cv2.line(img, (100, 200), (800, 200), 0, 2)
    cv2.line(img, (100, 300), (800, 300), 0, 2)
    cv2.line(img, (400, 200), (400, 400), 0, 2)  # the top row spans both columns
    lines = grid.find_lines(grid.ink_mask(img, PPM), PPM)
    tables = grid.find_tables(lines, PPM)
    assert len(tables) == 1
    cells = {(c.row, c.col) for c in tables[0].cells}
    assert cells == {(1, 1), (2, 1), (2, 2), (3, 1), (3, 2)}


def test_letters_are_not_ruling_lines():
    img = _paper(900, 300)
    cv2.putText(img, "Little tall letters", (50, 150), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
    lines = grid.find_lines(grid.ink_mask(img, PPM), PPM)
    assert lines.both.sum() == 0


# ---------------------------------------------------------------- tick boxes and ink


def _marked(draw) -> ink.TickBox:
    img = _paper(300, 200)
    box = _box(img, 100, 80)
    draw(img, box)
    found = ink.find_tick_boxes(img, grid.ink_mask(img, PPM), PPM, np.zeros_like(img))
    assert len(found) == 1, found
    return found[0]


def test_empty_box_is_unticked():
    assert _marked(lambda img, b: None).mark is ink.Mark.UNTICKED


def test_blob_tick_and_cross_are_ticked():
    def blob(img, b):
        cv2.rectangle(img, (b[0] + 4, b[1] + 4), (b[2] - 5, b[3] - 5), 0, -1)

    def tick(img, b):
        cv2.line(img, (b[0] + 4, b[1] + 12), (b[0] + 10, b[3] - 4), 30, 3)
        cv2.line(img, (b[0] + 10, b[3] - 4), (b[2] + 6, b[1] - 8), 30, 3)

    def cross(img, b):
        cv2.line(img, (b[0] + 3, b[1] + 3), (b[2] - 4, b[3] - 4), 30, 3)
        cv2.line(img, (b[2] - 4, b[1] + 3), (b[0] + 3, b[3] - 4), 30, 3)

    for draw in (blob, tick, cross):
        assert _marked(draw).mark is ink.Mark.TICKED, draw.__name__


def test_faint_mark_is_unsure():
    def faint(img, b):
        cv2.line(img, (b[0] + 4, b[1] + 4), (b[2] - 5, b[3] - 5), 200, 3)
        cv2.line(img, (b[2] - 5, b[1] + 4), (b[0] + 4, b[3] - 5), 200, 3)

    assert _marked(faint).mark is ink.Mark.UNSURE


def test_signature_ink_specks_and_empty_cell():
    empty = _paper(200, 60)
    specks = empty.copy()
    for x in range(20, 180, 30):
        specks[30, x] = 0  # single dots of dust
    signed = empty.copy()
    cv2.polylines(signed, [np.int32([[20, 40], [50, 15], [70, 45], [100, 20], [140, 40]])], False, 20, 3)
    whole = (0, 0, 200, 60)
    assert ink.cell_ink_mm2(empty, whole, PPM) == 0
    assert not ink.is_mark(ink.cell_ink_mm2(specks, whole, PPM))
    assert ink.is_mark(ink.cell_ink_mm2(signed, whole, PPM))


def test_signature_crossing_a_row_line_signs_only_the_row_holding_most_of_it():
    img = _paper(300, 200)
    # a signature in the row above y=100, its underline drawn over the (painted-out) row line
    cv2.polylines(img, [np.int32([[40, 80], [70, 50], [90, 85], [120, 55], [160, 85]])], False, 20, 3)
    cv2.polylines(img, [np.int32([[40, 92], [100, 96], [170, 108]])], False, 20, 3)
    img[98:102, :] = 255  # the row line, painted out as the reader does
    inset = 3
    above = ink.cell_ink_mm2(img, (0 + inset, 0 + inset, 300 - inset, 100 - inset), PPM)
    below = ink.cell_ink_mm2(img, (0 + inset, 100 + inset, 300 - inset, 200 - inset), PPM)
    assert ink.is_mark(above)
    assert below == 0


def test_sheet_half_in_shadow_is_found_whole():
    # the shadowed half is darker than Otsu's cut between paper and background: the sheet is
    # still the whole bright quad, not its sunny half
    photo = np.full((1000, 800), 40, np.uint8)
    corners = np.int32([[150, 100], [650, 110], [700, 900], [100, 880]])
    cv2.fillConvexPoly(photo, corners, 235)
    photo[:, :380] = np.where(photo[:, :380] > 100, 120, 30)  # a shadow over the left part
    found = page.find_sheet(photo)
    assert found is not None
    assert np.abs(found - corners.astype(np.float32)).max() < 15


# ---------------------------------------------------------------- letters that look like boxes


def _square_then(img: np.ndarray, x: int, y: int, gap: int) -> tuple[int, int, int, int]:
    """A square frame and a blob of 'letters' `gap` pixels after it, in the lower part of its height."""
    box = _box(img, x, y, 20)
    cv2.rectangle(img, (box[2] + gap, y + 8), (box[2] + gap + 60, y + 19), 0, -1)
    return box


def _kept(img: np.ndarray, squares: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    from pipeline.read.scan.reader import without_capitals

    boxes = [ink.TickBox(b, ink.Mark.UNTICKED, 0.0) for b in squares]
    return [b.box for b in without_capitals(boxes, grid.ink_mask(img, PPM))]


def test_lone_square_glued_to_the_next_letters_is_a_capital():
    img = _paper(400, 200)
    capital = _square_then(img, 50, 80, gap=1)  # "D" + "ate:"
    assert _kept(img, [capital]) == []


def test_square_a_word_space_before_its_text_is_a_box():
    img = _paper(400, 200)
    box = _square_then(img, 50, 80, gap=9)  # "☐ Yes"
    assert _kept(img, [box]) == [box]


def test_boxes_of_one_list_are_boxes_even_with_ink_right_after():
    # a tick's stroke may run on into the option's text; the box below it says it is a list
    img = _paper(400, 200)
    first = _square_then(img, 50, 50, gap=1)
    second = _square_then(img, 50, 85, gap=9)
    assert _kept(img, [first, second]) == [first, second]


# ---------------------------------------------------------------- paragraphs re-joined


def _printed(text: str, top: int, height: int, right: int, left: int = 100):
    from pipeline.read.scan.layout import Token

    return [Token(text, (left, top, right, top + height))]


def _texts(lines) -> list[str]:
    return [" ".join(t.text for t in line) for line in lines]


def test_line_wrapped_at_the_margin_continues_its_paragraph():
    from pipeline.read.scan.layout import _rejoined

    lines = [
        _printed("Wider Learning: (include suggestions which could inform", 100, 30, 1500),
        _printed("future co-production)", 132, 30, 625),
        _printed("Something else printed to the margin, a paragraph of its own", 220, 30, 1500),
    ]
    assert (
        _texts(_rejoined(lines))[0] == "Wider Learning: (include suggestions which could inform future co-production)"
    )


def test_title_in_larger_print_and_a_label_line_are_never_joined():
    from pipeline.read.scan.layout import _rejoined

    title = _printed("Co-production Attendance and Voucher Collection", 100, 40, 1500)
    smaller = _printed("smaller print right under it, as a wrapped line would stand", 142, 30, 1100)
    # a label line in the same print after a full-width line does not continue it either
    full = _printed("A long line of text that runs all the way to the right margin of", 200, 30, 1500)
    label_after = _printed("Completed by: Daniel Mensah", 232, 30, 700)
    assert len(_rejoined([title, smaller])) == 2
    assert len(_rejoined([full, label_after])) == 2


# ---------------------------------------------------------------- marks over or across a box

DATA = Path(__file__).parent / "data"


def _marks_in(name: str) -> list[ink.Mark]:
    """The marks of the boxes in a crop of a golden fax (three options of one list, at the working scale)."""
    img = cv2.imread(str(DATA / name), cv2.IMREAD_GRAYSCALE)
    found = ink.find_tick_boxes(img, grid.ink_mask(img, PPM), PPM, np.zeros_like(img))
    return [b.mark for b in sorted(found, key=lambda b: b.box[1])]


def test_tick_overflowing_its_box_in_a_list_is_found_and_ticked():
    # a large tick whose stroke runs far over the paper round its box, on a 1-bit fax
    assert _marks_in("overflow_tick_list.png") == [ink.Mark.UNTICKED, ink.Mark.TICKED, ink.Mark.UNTICKED]


def test_heavy_cross_filling_its_box_in_a_list_is_ticked():
    assert _marks_in("heavy_cross_list.png") == [ink.Mark.UNTICKED, ink.Mark.TICKED, ink.Mark.UNTICKED]


def test_wrapped_line_after_a_taller_bold_label_continues_it():
    # boxes measured on the golden fax: the detector's box round a bold label is taller than
    # round the plain words of its continuation, in the same size of print
    from pipeline.read.scan.layout import Token, _rejoined

    above = [Token("What's worked well?: (include successes or strengths and what", (243, 661, 1267, 706))]
    below = [Token("contributed to these)", (247, 706, 581, 743))]
    assert len(_rejoined([above, below])) == 1


def test_letters_tr_at_a_line_start_are_not_a_box():
    # the "tr" of "training" on the golden planning scan makes a square (t's bar, r's stem); alone
    # of its size, with the r's arm in the paper round it, it is letters
    img = cv2.imread(str(DATA / "training_tr.png"), cv2.IMREAD_GRAYSCALE)
    assert _kept(img, [(16, 14, 33, 31)]) == []


# ---------------------------------------------------------------- isolation


def test_picture_read_outside_a_run_goes_through_the_isolated_worker(monkeypatch):
    import pipeline.read.isolated as isolated
    from pipeline.document import Document
    from pipeline.read import read_document
    from pipeline.read.scan import reader

    calls = []

    def fake_isolated(read, data, seconds, memory_bytes=isolated.MEMORY_BYTES):
        calls.append((read, seconds))
        return Document(format="scan")

    monkeypatch.setattr(isolated, "read_isolated", fake_isolated)
    read_document(_encode(Image.new("L", (20, 20), 255), "JPEG"))
    read_document(_encode(Image.new("L", (20, 20), 255), "TIFF"))
    (jpeg_reader, jpeg_seconds), (_, tiff_seconds) = calls
    assert jpeg_reader is reader.read_image
    # a JPEG is one page; a TIFF may hold many, each with its OCR allowance
    assert isolated.SECONDS < jpeg_seconds < tiff_seconds


# ---------------------------------------------------------------- words broken at a cell's edge


def _cell_text(rows: list[tuple[str, tuple[int, int, int, int]]], inside=(233, 698, 427, 800)) -> str:
    from pipeline.read.scan.layout import Token, _broken_words, _join, _with_words_mended, lines_of

    printed = lines_of([Token(text, box) for text, box in rows])
    return _with_words_mended([_join(line) for line in printed], _broken_words(printed, inside))


def test_word_wider_than_its_cell_is_mended():
    # measured on the golden grey scan: "Papadopoul" fills the cell to its margin, "os" runs on
    rows = [("Eleni", (237, 695, 322, 731)), ("Papadopoul", (237, 723, 409, 765)), ("os", (239, 757, 282, 788))]
    assert _cell_text(rows) == "Eleni\nPapadopoulos"
    # alone on its line, a final s is read as a capital: the shapes are the same
    rows[1:] = [("Papadopoulo", (237, 723, 409, 765)), ("S", (239, 757, 262, 788))]
    assert _cell_text(rows) == "Eleni\nPapadopoulos"


def test_date_broken_at_the_cell_edge_is_one_date():
    assert _cell_text([("26/10/202", (237, 700, 415, 735)), ("5", (237, 735, 255, 770))]) == "26/10/2025"


def test_words_wrapped_at_a_space_stay_two_lines():
    # "Interview" does not reach the cell's right margin: the line broke at a space
    assert _cell_text([("Interview", (237, 700, 370, 735)), ("panel", (237, 735, 320, 770))]) == "Interview\npanel"
    # two words on the line above: a wrap at a space, however full the line
    assert _cell_text([("Focus gr", (237, 700, 415, 735)), ("ou", (237, 735, 270, 770))]) == "Focus gr\nou"


def test_boxes_are_found_once_across_the_bands_the_page_is_searched_in():
    # the search goes a band of rows at a time: a box straddling two bands is found once, and
    # blank bands in between are skipped without losing the boxes after them
    img = _paper(300, ink.BAND_ROWS * 3)
    tops = [ink.BAND_ROWS - 10, ink.BAND_ROWS - 10 + 40, ink.BAND_ROWS * 3 - 60]
    boxes = [_box(img, 100, y, 22) for y in tops]
    found = ink.find_tick_boxes(img, grid.ink_mask(img, PPM), PPM, np.zeros_like(img))
    found_tops = sorted(b.box[1] for b in found)
    assert len(found_tops) == len(boxes)
    assert all(abs(got - want[1]) <= 2 for got, want in zip(found_tops, boxes, strict=True))


def test_an_icon_or_a_thin_strip_is_not_taken_for_a_page_to_read():
    from PIL import Image

    from pipeline.problems import ProblemCode
    from pipeline.read.errors import UnreadableFile
    from pipeline.read.scan.reader import read_page_images

    for size in ((32, 32), (590, 88)):
        with pytest.raises(UnreadableFile) as refused:
            read_page_images([Image.new("L", size, 255)], [1])
        assert refused.value.code is ProblemCode.SCANNED_DOCUMENT and f"{size[0]} x {size[1]}" in refused.value.message
