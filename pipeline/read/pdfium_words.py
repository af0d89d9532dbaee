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

TOLERANCE = 3  # points: pdfplumber's default x and y tolerance

Word = tuple[str, float, float, float, float, float]  # text, x0, x1, top, bottom, font size


_same_run = itemgetter("upright", "size")  # (a run of characters: upright or not, one font size)


def words(chars: list[dict]) -> list[Word]:
    """The words of `chars` (in the page's order), in pdfplumber's order."""
    out: list[Word] = []
    for (upright, _size), run in groupby(chars, key=_same_run):
        run = list(run)
        if upright:
            _upright_words(run, out)
        else:
            out += [
                (w["text"], w["x0"], w["x1"], w["top"], w["bottom"], w["size"])
                for w in extract_words(
                    [{**c, "doctop": c["top"]} for c in run],  # (pdfplumber's words want a doctop)
                    keep_blank_chars=False,
                    use_text_flow=False,
                    extra_attrs=("size",),
                )
            ]
    return out


def _lines(run: list[dict]) -> list[list[dict]]:
    """Characters clustered into lines by their tops (each within TOLERANCE of the one before, in
    sorted order), lines top to bottom, characters in the page's order within each."""
    tops = sorted({c["top"] for c in run})
    if tops[-1] - tops[0] <= TOLERANCE:  # one line (a cell's text, mostly): no top is far from the one before
        return [run]
    line_of: dict[float, int] = {}
    last = None
    n = 0
    for top in tops:
        if last is not None and top > last + TOLERANCE:
            n += 1
        line_of[top] = n
        last = top
    lines: list[list[dict]] = [[] for _ in range(n + 1)]
    for char in run:
        lines[line_of[char["top"]]].append(char)
    return lines


def _upright_words(run: list[dict], out: list[Word]) -> None:
    # (one pass over each line, the word's last character and its measures kept at hand: a form
    # page asks for the words of each cell and column, so this runs over every character a few times)
    for line in _lines(run):
        line.sort(key=_x0)
        word: list[dict] = []
        last_x0 = last_x1 = last_top = 0.0
        for char in line:
            text = char["text"]
            if text.isspace():
                _flush(word, out)
                word = []
                continue
            if text == "":  # (pdfplumber splits at "punctuation", which is "": an empty character is its own word)
                _flush(word, out)
                _flush([char], out)
                word = []
                continue
            x0, top = char["x0"], char["top"]
            if word and (x0 < last_x0 or x0 > last_x1 + TOLERANCE or abs(top - last_top) > TOLERANCE):
                _flush(word, out)
                word = [char]
            else:
                word.append(char)
            last_x0, last_x1, last_top = x0, char["x1"], top
        _flush(word, out)


_x0 = itemgetter("x0")


def _flush(word: list[dict], out: list[Word]) -> None:
    if not word:
        return
    first = word[0]
    if len(word) == 1:
        text = first["text"]
        out.append((LIGATURES.get(text, text), first["x0"], first["x1"], first["top"], first["bottom"], first["size"]))
        return
    x0, x1, top, bottom = first["x0"], first["x1"], first["top"], first["bottom"]
    for c in word:
        if c["x0"] < x0:
            x0 = c["x0"]
        if c["x1"] > x1:
            x1 = c["x1"]
        if c["top"] < top:
            top = c["top"]
        if c["bottom"] > bottom:
            bottom = c["bottom"]
    text = "".join([c["text"] for c in word])
    if not text.isascii():  # a ligature glyph (ﬁ, ﬂ...) is spelled out, as pdfplumber does
        text = "".join([LIGATURES.get(c["text"], c["text"]) for c in word])
    out.append((text, x0, x1, top, bottom, first["size"]))
