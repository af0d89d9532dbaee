"""A pdfplumber page's objects (`page.objects`): the same dicts, built about four times faster.

pdfplumber turns each of pdfminer's layout objects into a dict through a generic resolver
(`Page.process_object`): every attribute of every character goes through a recursive
`resolve_all`, and each character's colour space is decoded afresh. A form's page has a few
thousand characters and a few dozen lines and boxes, so this conversion was ~40% of reading a
text PDF, spent resolving values a character never has (object references, PDF literals).

Characters are built here directly, with the same keys and the same values; a value that is not
a plain number, string or tuple of them still goes through pdfplumber's resolver. Every other
object (lines, boxes, curves, images) goes through pdfplumber's own `process_object`.
tests/read/test_pdf_objects.py checks the result equals `Page.parse_objects()` for every sample
PDF, so a pdfplumber upgrade that changes its dicts fails there rather than changing a reading.
"""

from __future__ import annotations

from unicodedata import normalize as normalize_unicode

from pdfminer.layout import LTChar, LTContainer
from pdfplumber.page import ALL_ATTRS, Page, fix_fontname_bytes
from pdfplumber.utils import resolve_all, resolve_and_decode

# the types of value pdfplumber's resolver returns unchanged
_PLAIN = frozenset((int, float, str, bool, type(None)))
_NO_MATRIX = object()


def _plain_attributes(char: LTChar) -> dict:
    """The character's attributes pdfplumber keeps (ALL_ATTRS), as `resolve_all` leaves them:
    as they are when every value is plain (the matrix a tuple of numbers), resolved otherwise."""
    attr = {key: value for key, value in char.__dict__.items() if key in ALL_ATTRS}
    matrix = attr.pop("matrix", _NO_MATRIX)
    if not _PLAIN.issuperset(map(type, attr.values())):
        attr = {key: resolve_all(value) for key, value in attr.items()}
    if matrix is not _NO_MATRIX:
        plain = type(matrix) is tuple and _PLAIN.issuperset(map(type, matrix))
        attr["matrix"] = matrix if plain else resolve_all(matrix)
    return attr


class _CharMaker:
    """Builds pdfplumber's dict for one page's LTChars."""

    def __init__(self, page: Page):
        mb_x0, mb_top = page.mediabox[:2]
        self.x_shift = mb_x0
        self.top_of = page.height + mb_top  # top = height - y1 + mb_top
        self.doctop = page.initial_doctop
        self.page_number = page.page_number
        self.unicode_norm = page.pdf.unicode_norm
        self.colour_spaces: dict[str, str] = {}  # a colour space's name, decoded once

    def colour_space(self, name) -> str:
        decoded = self.colour_spaces.get(name)
        if decoded is None:
            decoded = self.colour_spaces[name] = resolve_and_decode(name)
        return decoded

    def __call__(self, char: LTChar) -> dict:
        attr = _plain_attributes(char)
        attr["object_type"] = "char"
        attr["page_number"] = self.page_number
        own = char.__dict__  # (hasattr on an attribute a char lacks costs an exception)
        for cs in ("ncs", "scs"):
            if cs in own:
                attr[cs] = self.colour_space(own[cs].name)
        text = char.get_text()
        attr["text"] = text if self.unicode_norm is None else normalize_unicode(self.unicode_norm, text)
        state = char.graphicstate
        scolor, ncolor = state.scolor, state.ncolor
        attr["stroking_color"] = scolor if isinstance(scolor, tuple) else (scolor,)
        attr["non_stroking_color"] = ncolor if isinstance(ncolor, tuple) else (ncolor,)
        if isinstance(attr["fontname"], bytes):
            attr["fontname"] = fix_fontname_bytes(attr["fontname"])
        top = attr["top"] = self.top_of - attr["y1"]
        attr["bottom"] = self.top_of - attr["y0"]
        attr["doctop"] = self.doctop + top
        if self.x_shift != 0:
            attr["x0"] = attr["x0"] + self.x_shift
            attr["x1"] = attr["x1"] + self.x_shift
        return attr


def page_objects(page: Page) -> dict[str, list[dict]]:
    """What `page.parse_objects()` returns, with the characters built directly."""
    if page.pdf.laparams is not None:  # layout analysis adds text boxes and lines: pdfplumber's own way
        return page.parse_objects()
    make_char = _CharMaker(page)
    objects: dict[str, list[dict]] = {}

    def visit(items) -> None:
        for item in items:
            if isinstance(item, LTContainer):  # a figure (Form XObject): without laparams only its contents
                visit(item._objs)
                continue
            obj = make_char(item) if type(item) is LTChar else page.process_object(item)
            kind = obj["object_type"]
            if kind != "anno":
                objects.setdefault(kind, []).append(obj)

    visit(page.layout._objs)
    return objects


def use_fast_objects(page: Page) -> Page:
    """The page, its objects built by page_objects (pdfplumber builds them lazily, once, into
    `_objects`; a cropped or filtered page derives its own from this one's)."""
    page._objects = page_objects(page)
    return page
