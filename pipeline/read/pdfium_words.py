"""Characters into words, as pdfplumber's `extract_words` makes them with the reader's settings
(x and y tolerance 3, blank characters split words, no text flow, a change of font size ends a
word), about five times faster: pdfplumber's WordExtractor is general (any direction, any
settings) and builds a dict per word; a form page asks for the words of every cell.

Upright text is handled here; a run of turned characters goes to pdfplumber itself.
tests/read/test_pdfium_words.py checks the words equal pdfplumber's on every sample page.
"""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter

from pdfplumber.utils import extract_words
from pdfplumber.utils.text import LIGATURES

from pipeline.read.pdfium_page import CHAR_KEYS, Char

TOLERANCE = 3  # points: pdfplumber's default x and y tolerance

Word = tuple[str, float, float, float, float, float]  # text, x0, x1, top, bottom, font size


_same_run = itemgetter(5, 6)  # (a run of characters: upright or not, one font size)
_top = itemgetter(3)
_x0 = itemgetter(1)


def words(chars: list[Char]) -> list[Word]:
    """The words of `chars` (in the page's order; text, x0, x1, top, bottom, upright, size as
    pdfium_page.CHAR_KEYS), in pdfplumber's order."""
    out: list[Word] = []
    for (upright, _size), run in groupby(chars, key=_same_run):
        run = list(run)
        if upright:
            _upright_words(run, out)
        else:
            out += [
                (w["text"], w["x0"], w["x1"], w["top"], w["bottom"], w["size"])
                for w in extract_words(
                    [{**dict(zip(CHAR_KEYS, c, strict=True)), "doctop": c[3]} for c in run],  # (and a doctop)
                    keep_blank_chars=False,
                    use_text_flow=False,
                    extra_attrs=("size",),
                )
            ]
    return out


def _lines(run: list[Char]) -> list[list[Char]]:
    """Characters clustered into lines by their tops (each within TOLERANCE of the one before, in
    sorted order), lines top to bottom, characters in the page's order within each."""
    tops = set(map(_top, run))
    if max(tops) - min(tops) <= TOLERANCE:  # one line (a cell's text, mostly): no top is far from the one before
        return [run]
    line_of: dict[float, int] = {}
    last = None
    n = 0
    for top in sorted(tops):
        if last is not None and top > last + TOLERANCE:
            n += 1
        line_of[top] = n
        last = top
    lines: list[list[Char]] = [[] for _ in range(n + 1)]
    for char in run:
        lines[line_of[char[3]]].append(char)
    return lines


def _upright_words(run: list[Char], out: list[Word]) -> None:
    # (one pass over each line, the word's measures kept at hand as it grows: a form page asks
    # for the words of each cell and column, so this runs over every character a few times)
    append = out.append
    for line in _lines(run):
        line.sort(key=_x0)
        texts: list[str] | None = None  # the word's characters so far
        x0 = x1 = top = bottom = size = 0.0  # the word's box and its first character's size
        last_x0 = last_x1 = last_top = 0.0  # its last character's
        for text, c_x0, c_x1, c_top, c_bottom, _upright, c_size in line:
            if text.isspace() or not text:
                if texts is not None:
                    append(_word(texts, x0, x1, top, bottom, size))
                    texts = None
                if not text:  # (pdfplumber splits at "punctuation", which is "": an empty character is its own word)
                    append(("", c_x0, c_x1, c_top, c_bottom, c_size))
                continue
            if texts is not None and (
                c_x0 < last_x0 or c_x0 > last_x1 + TOLERANCE or abs(c_top - last_top) > TOLERANCE
            ):
                append(_word(texts, x0, x1, top, bottom, size))
                texts = None
            if texts is None:
                texts = [text]
                x0, x1, top, bottom, size = c_x0, c_x1, c_top, c_bottom, c_size
            else:
                texts.append(text)  # (its x0 is not below the word's first: the line is sorted by x0)
                if c_x1 > x1:
                    x1 = c_x1
                if c_top < top:
                    top = c_top
                if c_bottom > bottom:
                    bottom = c_bottom
            last_x0, last_x1, last_top = c_x0, c_x1, c_top
        if texts is not None:
            append(_word(texts, x0, x1, top, bottom, size))


def _word(texts: list[str], x0: float, x1: float, top: float, bottom: float, size: float) -> Word:
    text = "".join(texts)
    if not text.isascii():  # a ligature glyph (ﬁ, ﬂ...) is spelled out, as pdfplumber does
        text = "".join([LIGATURES.get(t, t) for t in texts])
    return (text, x0, x1, top, bottom, size)
