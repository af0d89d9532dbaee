"""A page's characters, ruling lines, boxes, curves and pictures read by pdfium, as the pdfplumber
page the PDF reader works on: the same dicts pdfplumber builds from pdfminer's layout, with the
same keys and (for the text forms are made of) the same values, so that pdfplumber's own word
and table finding run on them unchanged.

pdfminer interprets each page's content in Python (about 70 ms a form page, most of a PDF's
reading); pdfium parses it in C++ (well under a millisecond). What is taken from pdfium:

- characters: each printed character's text, its baseline origin, its loose box (the advance
  and the glyph together), its font size and its matrix (upright or turned). pdfminer's box
  is the advance across, from the font's declared descent to a font size above it; pdfium's
  measures the font file. The box built here is pdfminer's: the advance from the origin to
  the loose box's right edge (or to the next letter's origin, where the glyph overhangs), the
  descent the font declares (`declared_descents`), so lines and cells are cut as before.
  Characters pdfium adds itself (a space between words where the file has none, line ends)
  are left out, as pdfminer never sees them; a ligature read as two letters is one character.
- paths (FPDF_PAGEOBJ_PATH, in drawings too): split at each move into sub-paths, and each
  classified as pdfminer does: a straight segment is a line, a closed four-sided rectilinear
  one a box, anything else a curve (its points its segments' ends).
- pictures (FPDF_PAGEOBJ_IMAGE): their box on the page.

Coordinates follow pdfminer's turn of the page (its /Rotate) and pdfplumber's flip (top
measured down from the top of the page), so overlays, tables and cells line up as before.
"""

from __future__ import annotations

import ctypes
import re

import pypdfium2.raw as pdfium_c
import pypdfium2_raw.bindings as bindings
from pdfminer.fontmetrics import FONT_METRICS
from pdfplumber.page import Page

_SEGMENT_MOVE = pdfium_c.FPDF_SEGMENT_MOVETO
_SEGMENT_BEZIER = pdfium_c.FPDF_SEGMENT_BEZIERTO
_GENERATED_TEXT = frozenset("\r\n \x02\ufffe")  # what pdfium may add between words and lines, and its soft hyphens
_TEXT_FONT = bindings._libs["pdfium"]["FPDFTextObj_GetFont"]  # (an address as a plain int, for a font cache)
_TEXT_FONT.argtypes = [ctypes.c_void_p]
_TEXT_FONT.restype = ctypes.c_void_p
# The calls made for every character, bound afresh without argument types: ctypes then passes
# the arguments as they are (the text page as a c_void_p, the index as an int, the outputs by
# reference made once), which halves the cost of each call against pypdfium2's checked bindings.
_PDFIUM = bindings._libs["pdfium"]
_CHAR_OBJECT = _PDFIUM["FPDFText_GetTextObject"]
_CHAR_OBJECT.restype = ctypes.c_void_p  # (the object's address as a plain int: a key for the font cache)
_LOOSE_BOX = _PDFIUM["FPDFText_GetLooseCharBox"]
_LOOSE_BOX.restype = ctypes.c_int
_CHAR_ORIGIN = _PDFIUM["FPDFText_GetCharOrigin"]
_CHAR_ORIGIN.restype = ctypes.c_int
_IS_GENERATED = _PDFIUM["FPDFText_IsGenerated"]
_IS_GENERATED.restype = ctypes.c_int
_GLYPH_BOX = _PDFIUM["FPDFText_GetCharBox"]  # (where a letter starts inside the last one's box)
_GLYPH_BOX.restype = ctypes.c_int
_OBJECT_FONT_SIZE = _PDFIUM["FPDFTextObj_GetFontSize"]  # (once a text object)
_OBJECT_FONT_SIZE.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
_OBJECT_FONT_SIZE.restype = ctypes.c_int
_CHAR_MATRIX = _PDFIUM["FPDFText_GetMatrix"]  # (once a text object)
_CHAR_MATRIX.restype = ctypes.c_int
# (and those made for every segment of a path: a drawn curve or a chart has hundreds)
_PATH_SEGMENT = _PDFIUM["FPDFPath_GetPathSegment"]
_PATH_SEGMENT.restype = ctypes.c_void_p
_SEGMENT_POINT = _PDFIUM["FPDFPathSegment_GetPoint"]
_SEGMENT_POINT.restype = ctypes.c_int
_SEGMENT_TYPE = _PDFIUM["FPDFPathSegment_GetType"]
_SEGMENT_TYPE.restype = ctypes.c_int
_SEGMENT_CLOSES = _PDFIUM["FPDFPathSegment_GetClose"]
_SEGMENT_CLOSES.restype = ctypes.c_int
# (and those made for every object of a page, text objects being most: the objects' addresses as
# plain ints, with no ctypes pointer made for each, as ctypes.cast would, each a reference cycle)
_PAGE_OBJECT = _PDFIUM["FPDFPage_GetObject"]
_PAGE_OBJECT.argtypes = [ctypes.c_void_p, ctypes.c_int]
_PAGE_OBJECT.restype = ctypes.c_void_p
_FORM_OBJECT = _PDFIUM["FPDFFormObj_GetObject"]
_FORM_OBJECT.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
_FORM_OBJECT.restype = ctypes.c_void_p
_OBJECT_TYPE = _PDFIUM["FPDFPageObj_GetType"]
_OBJECT_TYPE.argtypes = [ctypes.c_void_p]
_OBJECT_TYPE.restype = ctypes.c_int
_DESCENT = re.compile(rb"/Descent\s+(-?\d+(?:\.\d*)?|-?\.\d+)")


# A character as the reader works on it: a tuple (a dict a character, as pdfplumber makes them,
# cost the reader a fifth of its time). `PdfiumPage.chars` gives pdfplumber's dicts, when asked.
CHAR_KEYS = ("text", "x0", "x1", "top", "bottom", "upright", "size")
Char = tuple[str, float, float, float, float, bool, float]


class PdfiumPage(Page):
    """A pdfplumber Page whose objects come from pdfium (no pdfminer page behind it). Its
    characters are `char_rows` (CHAR_KEYS); pdfplumber's dicts of them are made only if asked
    for (`chars`, `objects`)."""

    def __init__(self, pdf_page, page_number: int, descents: dict[str, float], textpage=None, text: str | None = None):
        """`textpage` and `text`: the page's text page (raw) and its text, if already at hand."""

        self.pdf = _NoPdf
        self.page_obj = None
        self.page_number = page_number
        self.initial_doctop = 0
        raw = pdf_page.raw
        self.rotation = (pdfium_c.FPDFPage_GetRotation(raw) * 90) % 360
        box = _media_box(raw)
        x0, x1 = sorted((box[0], box[2]))
        y0, y1 = sorted((box[1], box[3]))
        self._raw_box = (x0, y0, x1, y1)
        normal = (y0, x0, y1, x1) if self.rotation in (90, 270) else (x0, y0, x1, y1)
        height = normal[3] - normal[1]
        self.mediabox = (normal[0], height - normal[3], normal[2], height - normal[1])
        self.cropbox = self.mediabox
        self.bbox = self.mediabox
        self._objects, self.char_rows = _PageReader(pdf_page, self, descents).objects(textpage, text)
        self._char_dicts: list[dict] | None = None

    @property
    def annots(self):  # widgets are read by the reader itself (pdf._first_pass)
        return []

    @property
    def chars(self) -> list[dict]:
        if self._char_dicts is None:
            self._char_dicts = [dict(zip(CHAR_KEYS, row, strict=True)) for row in self.char_rows]
        return self._char_dicts

    @property
    def objects(self) -> dict[str, list[dict]]:
        if self.char_rows and "char" not in self._objects:
            self._objects["char"] = self.chars
        return self._objects

    # (a page's drawings, without making its characters' dicts, as pdfplumber's would through `objects`)
    @property
    def rects(self) -> list[dict]:
        return self._objects.get("rect", [])

    @property
    def lines(self) -> list[dict]:
        return self._objects.get("line", [])

    @property
    def curves(self) -> list[dict]:
        return self._objects.get("curve", [])

    @property
    def images(self) -> list[dict]:
        return self._objects.get("image", [])

    # (pdfplumber's Page keeps itself as its root page and its text map cache as a bound method:
    # two cycles, which left every page, its characters and all, for the cycle collector; these
    # say the same without holding the page)
    @property
    def root_page(self):
        return self

    def get_textmap(self, **kwargs):
        return self._get_textmap(**kwargs)


class _NoPdf:
    """What pdfplumber's Page asks of its PDF on the paths the reader takes."""

    laparams = None
    unicode_norm = None


def _media_box(raw) -> tuple[float, float, float, float]:
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    if pdfium_c.FPDFPage_GetMediaBox(raw, left, bottom, right, top):
        return (left.value, bottom.value, right.value, top.value)
    return (0.0, 0.0, pdfium_c.FPDF_GetPageWidthF(raw), pdfium_c.FPDF_GetPageHeightF(raw))


def declared_descents(data: bytes) -> dict[str, float]:
    """Each font's declared /Descent by its /FontName, as written in `data`: the file's bytes,
    and its object streams decompressed after them where it has any (pdf._with_object_streams;
    Word writes its font descriptors there). pdfminer uses the declared value, 0 if absent;
    LibreOffice declares 0 for every font. A font not found here falls back to pdfium's measure."""
    found: dict[str, float] = {}
    names = list(re.finditer(rb"/FontName\s*/([^\s/\[\]()<>{}%]+)", data))
    for n, match in enumerate(names):
        # the descriptor around the name: within its object, and not into the next descriptor
        # (objects in an object stream are not marked off by obj ... endobj)
        start = max(data.rfind(b"obj", 0, match.start()), names[n - 1].end() if n else 0)
        end = data.find(b"endobj", match.end())
        end = min(end if end > 0 else match.end() + 2000, names[n + 1].start() if n + 1 < len(names) else len(data))
        descent = _DESCENT.search(data, start, end)
        name = match.group(1).decode("latin-1").split("+", 1)[-1]  # pdfium names a font without its subset tag
        value = float(descent.group(1)) if descent else 0.0
        found.setdefault(name, -abs(value) / 1000)
    return found


class _PageReader:
    def __init__(self, pdf_page, page: PdfiumPage, descents: dict[str, float]):
        self.raw = pdf_page.raw
        self.pdf_page = pdf_page
        self.page = page
        self.descents = descents
        self.font_descents: dict[int | None, float] = {}  # a font's descent, by its address
        x0, y0, x1, y1 = page._raw_box
        self.ctm = {
            90: (0, -1, 1, 0, -y0, x1),
            180: (-1, 0, 0, -1, x1, y1),
            270: (0, 1, -1, 0, y1, -x0),
        }.get(page.rotation, (1, 0, 0, 1, -x0, -y0))
        self.x_shift = page.mediabox[0]
        self.top_of = page.height + page.mediabox[1]

    def objects(self, textpage=None, text: str | None = None) -> tuple[dict[str, list[dict]], list[Char]]:
        """The page's drawings and pictures as pdfplumber's objects, and its characters."""
        objects: dict[str, list[dict]] = {}
        self.text_order: dict[int, int] = {}  # a text object's place in the page's content
        self.walk(self.raw, False, (1, 0, 0, 1, 0, 0), objects, 0)
        return objects, self._chars(textpage, text) if textpage else self.chars()

    # ------------------------------------------------------------ geometry

    def to_page(self, x: float, y: float) -> tuple[float, float]:
        a, b, c, d, e, f = self.ctm
        return a * x + c * y + e, b * x + d * y + f

    def placed(self, obj: dict, x0: float, y0: float, x1: float, y1: float) -> dict:
        """pdfplumber's keys for a box given in pdfminer's (turned) coordinates."""
        top = self.top_of - y1
        obj.update(
            x0=x0 + self.x_shift,
            y0=y0,
            x1=x1 + self.x_shift,
            y1=y1,
            width=x1 - x0,
            height=y1 - y0,
            top=top,
            bottom=self.top_of - y0,
            doctop=top,
            page_number=self.page.page_number,
        )
        return obj

    # ------------------------------------------------------------ characters

    def chars(self) -> list[Char]:
        textpage = pdfium_c.FPDFText_LoadPage(self.raw)
        if not textpage:
            return []
        try:
            return self._chars(textpage)
        finally:
            pdfium_c.FPDFText_ClosePage(textpage)

    def _chars(self, textpage, text: str | None = None) -> list[Char]:
        count = pdfium_c.FPDFText_CountChars(textpage)
        if count <= 0:
            return []
        if text is None:
            buffer = ctypes.create_string_buffer((count + 1) * 2)
            pdfium_c.FPDFText_GetText(textpage, 0, count, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)))
            text = buffer.raw[: count * 2].decode("utf-16-le", "replace")
        if len(text) != count:  # characters outside the BMP: one by one
            text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i)) for i in range(count))
        box = pdfium_c.FS_RECTF()
        ox, oy = ctypes.c_double(), ctypes.c_double()
        g_left, g_right, g_bottom, g_top = (ctypes.c_double() for _ in range(4))
        matrix = pdfium_c.FS_MATRIX()
        # (the calls made for every character, bound once, their arguments made once: a
        # character costs a few of them)
        page_ref = ctypes.c_void_p(ctypes.cast(textpage, ctypes.c_void_p).value)
        box_ref, ox_ref, oy_ref = ctypes.byref(box), ctypes.byref(ox), ctypes.byref(oy)
        text_object, loose_box, char_box = _CHAR_OBJECT, _LOOSE_BOX, _GLYPH_BOX
        glyph_refs = [ctypes.byref(v) for v in (g_left, g_right, g_bottom, g_top)]
        char_origin, is_generated = _CHAR_ORIGIN, _IS_GENERATED
        a_, b_, c_, d_, e_, f_ = self.ctm
        x_shift, top_of = self.x_shift, self.top_of
        turned = self.page.rotation != 0
        fonts: dict[int, tuple] = {}  # text object -> its font's measures
        object_size = ctypes.c_float()
        self._style_calls = (page_ref, ctypes.byref(matrix), object_size, ctypes.byref(object_size))
        self._styles: dict[tuple, tuple] = {}  # (font, size, matrix) -> the measures they make
        self._text_order = getattr(self, "text_order", {})
        chars: list[Char] = []
        # where each run of characters from text objects in the same place in the content starts
        # (the index of its first character), and that place
        runs: list[tuple[int, int]] = []
        run_order = None
        # the last character: its index, origin and loose right (its origin, where it is not
        # straight on its line); its text object is style_key
        last_i, last_x, last_y, last_right = -1, 0.0, 0.0, 0.0
        chars_append = chars.append
        style_key = object()  # the text object whose measures are at hand (a character's is mostly its neighbour's)
        size = descent = 0.0
        upright = straight = plain = False
        top = bottom = height = 0.0  # (a plain character's, the same along its text object's baseline)
        order = 0
        generated_text = _GENERATED_TEXT
        for i, letter in enumerate(text):
            if letter in generated_text:
                if letter in "\x02\ufffe":
                    letter = "-"  # a hyphen that ends a line, marked so by pdfium (FPDFText_IsHyphen)
                elif is_generated(page_ref, i):
                    continue
            key = text_object(page_ref, i)
            loose_box(page_ref, i, box_ref)
            char_origin(page_ref, i, ox_ref, oy_ref)
            x = ox.value
            y = oy.value
            if key == style_key and y == last_y:  # (the last character's text object, on its line)
                if x == last_x:
                    ligature = chars[-1]  # a ligature's next letter (pdfium spells it out)
                    chars[-1] = (ligature[0] + letter, *ligature[1:])
                    continue
                if last_x < x < last_right:  # (never where not straight: there last_right is last_x)
                    # pdfminer's box: the advance across, from the declared descent to a font
                    # size above it. The loose box is the advance and the glyph together: where
                    # this character starts inside the last one's loose box, either the last
                    # glyph overhangs its advance (an italic f), which then ends here, or the
                    # text was kerned closer (the advance is the loose box). (The same text
                    # object: the last character's size and descent are this one's.)
                    char_box(page_ref, last_i, *glyph_refs)
                    if g_right.value >= last_right - 0.001:
                        last_base = last_y + descent
                        chars[-1] = self._placed(chars[-1], last_x, last_base, x, last_base + size)
            else:
                if key != style_key:
                    style = fonts.get(key)
                    if style is None:
                        style = fonts[key] = self._style(textpage, i, key, matrix)
                    size, descent, upright, straight, order = style
                    plain = straight and not turned
                    style_key = key
                    if order != run_order:
                        runs.append((len(chars), order))
                        run_order = order
                if plain:
                    base = y + descent
                    y0, y1 = base + f_, base + size + f_
                    top, bottom, height = top_of - y1, top_of - y0, y1 - y0
            right = box.right
            last_i, last_x, last_y = i, x, y
            if plain:  # (most pages: the box as it is, moved by the media box's corner)
                last_right = right
                chars_append((letter, x + e_ + x_shift, right + e_ + x_shift, top, bottom, upright, height))
                continue
            if straight:
                base = y + descent
                last_right = right
                ax, ay, bx, by = x, base, right, base + size
            else:
                last_right = x  # (no advance to mend)
                ax, ay, bx, by = box.left, box.bottom, right, box.top
            if turned:
                ax, ay = a_ * ax + c_ * ay + e_, b_ * ax + d_ * ay + f_
                bx, by = a_ * bx + c_ * by + e_, b_ * bx + d_ * by + f_
            else:
                ax, ay, bx, by = ax + e_, ay + f_, bx + e_, by + f_
            x0, x1 = (ax, bx) if ax <= bx else (bx, ax)
            y0, y1 = (ay, by) if ay <= by else (by, ay)
            # (what the reader and word finding use; pdfplumber's other keys are not needed)
            chars_append((letter, x0 + x_shift, x1 + x_shift, top_of - y1, top_of - y0, upright, y1 - y0))
        if any(a[1] > b[1] for a, b in zip(runs, runs[1:], strict=False)):
            # pdfium orders a page's text as it reads (on a turned page, as the page is shown);
            # pdfminer, and so the reader's layout, as the content draws it
            ends = [start for start, _ in runs[1:]] + [len(chars)]
            orders = [order for (start, order), end in zip(runs, ends, strict=True) for _ in range(end - start)]
            chars = [char for _, char in sorted(zip(orders, chars, strict=True), key=_first)]
        return chars

    def _placed(self, char: Char, left: float, bottom: float, right: float, top: float) -> Char:
        """The character with its box set from its corners in pdfium's (unturned) space."""
        ax, ay = self.to_page(left, bottom)
        bx, by = self.to_page(right, top)
        x0, x1 = sorted((ax, bx))
        y0, y1 = sorted((ay, by))
        return (char[0], x0 + self.x_shift, x1 + self.x_shift, self.top_of - y1, self.top_of - y0, char[5], y1 - y0)

    def _style(self, textpage, i: int, key, matrix) -> tuple:
        """(font size across the line, declared descent, upright, straight) of a text object's
        characters; straight: upright and neither turned nor slanted, so the box is pdfminer's."""
        page_ref, matrix_ref, object_size, size_ref = self._style_calls
        _CHAR_MATRIX(page_ref, i, matrix_ref)
        a, b, c, d = matrix.a, matrix.b, matrix.c, matrix.d
        if key and _OBJECT_FONT_SIZE(key, size_ref):
            size_in_text = object_size.value
        else:
            size_in_text = pdfium_c.FPDFText_GetFontSize(textpage, i)
        font = _TEXT_FONT(key) if key else None
        # (a page's text objects mostly share a few fonts, sizes and matrices: measured once each)
        measures = (font, size_in_text, a, b, c, d)
        style = self._styles.get(measures)
        if style is None:
            declared = self.font_descents.get(font)
            if declared is None:
                font_handle = ctypes.cast(font, pdfium_c.FPDF_FONT) if font else None
                declared = self.font_descents[font] = self._descent(font_handle)
            size = abs(size_in_text * (d if d else 1.0))
            # upright as pdfminer sees it: on the page turned by its /Rotate
            ta, tb, tc, td, _, _ = _multiply((a, b, c, d, 0, 0), self.ctm)
            upright = ta * td > 0 and tb * tc <= 0
            straight = a > 0 and d > 0 and b == 0 and c == 0  # (a page turned by /Rotate is turned after)
            style = self._styles[measures] = (size, declared * size_in_text * d, upright, straight)
        return (*style, self._text_order.get(key, 0))

    def _descent(self, font) -> float:
        """The font's descent (a fraction of its size, negative) as pdfminer takes it: the one its
        descriptor declares, a standard font's published one, else pdfium's measure."""
        fontname = _font_name(font) if font else ""
        declared = self.descents.get(fontname)
        if declared is None and fontname in FONT_METRICS:  # the standard 14 fonts, undescribed in the file
            declared = -abs(FONT_METRICS[fontname][0].get("Descent", 0)) / 1000
        if declared is None and font:
            measured = ctypes.c_float()
            pdfium_c.FPDFFont_GetDescent(font, ctypes.c_float(1.0), measured)
            declared = measured.value
        return declared or 0.0

    # ------------------------------------------------------------ paths and pictures

    def walk(self, holder, in_form: bool, matrix, objects: dict[str, list[dict]], depth: int) -> None:
        """The objects of a page, or of a drawing (`in_form`) on it, and of the drawings in those."""
        if in_form:
            count, address_of, get = (
                pdfium_c.FPDFFormObj_CountObjects(holder),
                _FORM_OBJECT,
                pdfium_c.FPDFFormObj_GetObject,
            )
        else:
            count, address_of, get = pdfium_c.FPDFPage_CountObjects(holder), _PAGE_OBJECT, pdfium_c.FPDFPage_GetObject
        holder_ref = ctypes.c_void_p(ctypes.cast(holder, ctypes.c_void_p).value)
        text_order = self.text_order
        for i in range(count):
            address = address_of(holder_ref, i)
            if not address:
                continue
            kind = _OBJECT_TYPE(address)
            if kind == _TEXT_OBJECT:
                text_order[address] = len(text_order)
                continue
            obj = get(holder, i)  # (pypdfium2's own pointer, for the few objects that are not text)
            if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                own = _matrix_of(obj)
                self.path(obj, _multiply(own, matrix), objects)
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                self.image(obj, matrix, objects)
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < 40:
                inner = _multiply(_matrix_of(obj), matrix)
                self.walk(obj, True, inner, objects, depth + 1)

    def image(self, obj, matrix, objects) -> None:
        left, bottom, right, top = (ctypes.c_float() for _ in range(4))
        if not pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            return
        # bounds are in the enclosing drawing's space: place the corners on the page
        corners = [_apply(matrix, x, y) for x in (left.value, right.value) for y in (bottom.value, top.value)]
        points = [self.to_page(x, y) for x, y in corners]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        image = {"object_type": "image", "name": "", "srcsize": (0, 0), "imagemask": None, "bits": 0}
        objects.setdefault("image", []).append(self.placed(image, min(xs), min(ys), max(xs), max(ys)))

    def path(self, obj, matrix, objects) -> None:
        fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
        if not pdfium_c.FPDFPath_GetDrawMode(obj, fill_mode, stroke):
            return
        width = ctypes.c_float()
        pdfium_c.FPDFPageObj_GetStrokeWidth(obj, width)
        segments = []  # (kind, x, y, closes)
        x, y = ctypes.c_float(), ctypes.c_float()
        x_ref, y_ref = ctypes.byref(x), ctypes.byref(y)
        path_ref = ctypes.c_void_p(ctypes.cast(obj, ctypes.c_void_p).value)
        for k in range(pdfium_c.FPDFPath_CountSegments(obj)):
            segment = ctypes.c_void_p(_PATH_SEGMENT(path_ref, k))
            _SEGMENT_POINT(segment, x_ref, y_ref)
            px, py = self.to_page(*_apply(matrix, x.value, y.value))
            segments.append((_SEGMENT_TYPE(segment), px, py, bool(_SEGMENT_CLOSES(segment))))
        style = {
            "linewidth": width.value,
            "stroke": bool(stroke.value),
            "fill": fill_mode.value != pdfium_c.FPDF_FILLMODE_NONE,
            "evenodd": fill_mode.value == pdfium_c.FPDF_FILLMODE_ALTERNATE,
        }
        start = 0
        for k in range(1, len(segments) + 1):
            if k == len(segments) or segments[k][0] == _SEGMENT_MOVE:
                if k - start > 1:
                    self.subpath(segments[start:k], style, objects)
                start = k

    def subpath(self, segments, style: dict, objects) -> None:
        """One sub-path as pdfminer makes it: its shape spelled m/l/c/h, its points the segments' ends."""
        shape, pts = "", []
        first = (segments[0][1], segments[0][2])
        k = 0
        while k < len(segments):
            kind, px, py, closes = segments[k]
            if kind == _SEGMENT_BEZIER:
                kind, px, py, closes = segments[min(k + 2, len(segments) - 1)]
                shape += "c"
                k += 3
            else:
                shape += "m" if k == 0 else "l"
                k += 1
            pts.append((px, py))
            if closes and k > 1:
                if (px, py) == first and shape[-1] == "l":
                    shape = shape[:-1] + "h"  # pdfium adds the closing line as a point; pdfminer's h
                else:
                    shape += "h"
                    pts.append(first)
        if shape in ("mlh", "ml"):
            self.add("line", pts[:2], style, objects)
        elif shape in ("mlllh", "mllll"):
            (x0, y0), (x1, y1), (x2, y2), (x3, y3), _ = pts
            square = (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (
                y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0
            )
            self.add(
                "rect" if pts[0] == pts[4] and square else "curve",
                pts if not square else [pts[0], pts[2]],
                style,
                objects,
                pts,
            )
        else:
            self.add("curve", pts, style, objects)

    def add(self, kind: str, pts, style: dict, objects, all_pts=None) -> None:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        obj = {"object_type": kind, **style, "stroking_color": None, "non_stroking_color": None, "dash": None}
        self.placed(obj, min(xs), min(ys), max(xs), max(ys))
        if kind != "rect":
            obj["pts"] = [(x + self.x_shift, self.top_of - y) for x, y in (all_pts or pts)]
        objects.setdefault(kind, []).append(obj)


_TEXT_OBJECT = pdfium_c.FPDF_PAGEOBJ_TEXT


def _first(pair: tuple):
    return pair[0]


_NAME_BUFFER = ctypes.c_char * 256


def _font_name(font) -> str:
    size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
    if size <= 1:
        return ""
    # (a buffer of one size for every name: ctypes makes a new array type for each new size, a
    # costly type that only the cycle collector frees)
    buffer = _NAME_BUFFER() if size <= ctypes.sizeof(_NAME_BUFFER) else ctypes.create_string_buffer(size)
    pdfium_c.FPDFFont_GetBaseFontName(font, buffer, size)
    return buffer.value.decode("utf-8", "replace")


def _matrix_of(obj) -> tuple[float, ...]:
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, m):
        return (1, 0, 0, 1, 0, 0)
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _multiply(m, n) -> tuple[float, ...]:
    """m then n (pdfminer's mult_matrix order)."""
    a1, b1, c1, d1, e1, f1 = m
    a0, b0, c0, d0, e0, f0 = n
    return (
        a0 * a1 + c0 * b1,
        b0 * a1 + d0 * b1,
        a0 * c1 + c0 * d1,
        b0 * c1 + d0 * d1,
        a0 * e1 + c0 * f1 + e0,
        b0 * e1 + d0 * f1 + f0,
    )


def _apply(m, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f
