"""Label matching that ignores case, punctuation and spacing, and knows where the label ends.

Matching is on word tokens: `Project/Service Name:` and `project service name` are the same
label. A match also reports the character offset just past the label, so the rest of the
cell (the value, or the template's question) can be cut out of the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"[^\W_]+|&", re.UNICODE)
_NUMBERING = re.compile(r"^\s*(?:(?:\d{1,2}|[a-hA-H]|[ivxIVX]{1,3})[.)]\s*|[-•*–·]\s+|Q\d{1,2}[.:)]?\s+)+")
# After a label, one of these (or the end of the cell) must follow, so that an answer that
# merely starts with a label's words ("Communication was great") is not taken for the label.
_LABEL_END = re.compile(r"^\s*(?:$|[:?\-–—=()]|_|\.\s*$|[☒☐])")
_LEADING_JUNK = re.compile(r"^[\s:;\-–—=?.)\]]+")
_BLANK_FILL = re.compile(r"_{2,}|\.{4,}")


def _norm_token(token: str) -> str:
    return "and" if token == "&" else token.casefold()


@lru_cache(maxsize=4096)
def label_tokens(label: str) -> tuple[str, ...]:
    return tuple(_norm_token(m.group()) for m in _TOKEN.finditer(label))


def normalise(text: str) -> str:
    return " ".join(label_tokens(text))


@dataclass(frozen=True)
class LabelMatch:
    label: str
    end: int  # offset in the original text just after the label
    exact_end: bool  # the label is followed by a separator or the end of the text

    def rest(self, text: str) -> str:
        return clean_value(text[self.end :])


def clean_value(text: str) -> str:
    """Strip the separator after a label and the blanks of an unfilled template (`_____`)."""
    text = _BLANK_FILL.sub(" ", text)
    text = _LEADING_JUNK.sub("", text)
    return "\n".join(line.strip() for line in text.strip().splitlines()).strip()


def strip_numbering(text: str) -> int:
    """Offset past list numbering or a bullet at the start ("1. ", "a) ", "• ")."""
    m = _NUMBERING.match(text)
    return m.end() if m else 0


def _compact_match(text: str, start: int, label: str) -> int | None:
    """Where `label` ends in `text` if they agree letter for letter once spaces and punctuation
    are ignored: a narrow PDF cell can split a word ("Receive" / "d")."""
    want = "".join(label_tokens(label))
    i, n = start, 0
    while i < len(text) and n < len(want):
        ch = text[i].casefold()
        if ch.isalnum():
            if ch != want[n]:
                return None
            n += 1
        elif ch == "&" and want.startswith("and", n):
            n += 3
        i += 1
    return i if n == len(want) and want else None


@lru_cache(maxsize=1024)
def _text_tokens(text: str) -> tuple[int, tuple[int, ...], tuple[str, ...]]:
    """Where the text starts after numbering, and its tokens (where each ends, normalised).
    Cached: extraction tries one cell's text against every label of a form in turn."""
    start = strip_numbering(text)
    found = list(_TOKEN.finditer(text, start))
    return start, tuple(m.end() for m in found), tuple(_norm_token(m.group()) for m in found)


def leading_token(text: str) -> str | None:
    """The token of `text` that every label match starts with (after numbering): a text on one
    line can match only the labels whose first token this is (see match_label)."""
    tokens = _text_tokens(text)[2]
    return tokens[0] if tokens else None


def match_label(text: str, labels: tuple[str, ...], *, loose_tokens: int | None = None) -> LabelMatch | None:
    """The longest of `labels` that `text` starts with (after numbering), or None.

    With loose_tokens=N, a label also matches when its first N tokens do (long statements
    that a form may reword slightly at the end).
    """
    start, ends, tokens = _text_tokens(text)
    best: LabelMatch | None = None
    best_len = 0
    for label in labels:
        want = label_tokens(label)
        # every match needs at least the first token: most labels fail here, cheaply
        if not want or not tokens or tokens[0] != want[0] or len(want) > len(tokens) and loose_tokens is None:
            continue
        n = 0
        while n < len(want) and n < len(tokens) and tokens[n] == want[n]:
            n += 1
        full = n == len(want)
        if not full and not (loose_tokens and n >= min(loose_tokens, len(want))):
            continue
        end = ends[n - 1]
        exact_end = bool(_LABEL_END.match(text[end:]))
        if n > best_len:
            best, best_len = LabelMatch(label, end, exact_end), n
    if best is None and "\n" in text:
        for label in labels:
            end = _compact_match(text, start, label)
            if end is not None and (best is None or end > best.end):
                best = LabelMatch(label, end, bool(_LABEL_END.match(text[end:])))
    return best


@lru_cache(maxsize=1024)
def _label_forms(labels: tuple[str, ...]) -> tuple[frozenset[tuple[str, ...]], frozenset[str]]:
    """Each label's tokens, and its letters only (cached: a form's labels are asked for often)."""
    tokens = [label_tokens(label) for label in labels]
    return frozenset(tokens), frozenset("".join(t) for t in tokens)


def same_text(text: str, labels: tuple[str, ...]) -> bool:
    norm = label_tokens(text)
    as_tokens, as_letters = _label_forms(labels)
    if norm in as_tokens:
        return True
    # a word split over two lines of a narrow cell: compare letters only
    return "\n" in text and "".join(norm) in as_letters
