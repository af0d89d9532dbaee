"""Where a text names a person, compared as the pipeline compares names.

A person is looked for by their name key (pipeline.validate.names): the words of the name in a
row, with case, spacing, punctuation, invisible characters and look-alike letters ignored. So
"MARGARET HUGHES", "Margaret  Hughes", "margaret_hughes.docx" and "Row 3: Margaret Hughes, 06/05"
all name Margaret Hughes; "Margaret Hughes-Smith" names her too (her words are in it, in a row), and
"Margaret" alone does not. An email address is looked for as it is written (case ignored).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from pipeline.validate.names import text_key


def _in_word(ch: str) -> bool:
    # letters, digits and marks make words; invisible format characters (a zero-width space) are
    # inside a word, as the name key removes them before cutting words
    category = unicodedata.category(ch)
    return category[0] in "LNM" or category == "Cf"


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, key) of each word of the text."""
    tokens, start = [], None
    for i, ch in enumerate(text + " "):
        if i < len(text) and _in_word(ch):
            if start is None:
                start = i
        elif start is not None:
            key = text_key(text[start:i]).replace(" ", "")
            if key:
                tokens.append((start, i, key))
            start = None
    return tokens


@dataclass(frozen=True)
class Person:
    """Who is looked for: the words of each name (a name and its pseudonym), and email addresses."""

    names: tuple[tuple[str, ...], ...]
    emails: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, names: list[str], emails: list[str] = ()) -> Person:
        words = tuple(dict.fromkeys(tuple(text_key(n).split()) for n in names if text_key(n).split()))
        return cls(words, tuple(dict.fromkeys(e.strip().casefold() for e in emails if e.strip())))

    def _spans(self, text: str) -> list[tuple[int, int]]:
        spans = []
        if self.names:
            tokens = _tokens(text)
            keys = [key for _, _, key in tokens]
            for words in self.names:
                n = len(words)
                for i in range(len(keys) - n + 1):
                    if tuple(keys[i : i + n]) == words:
                        spans.append((tokens[i][0], tokens[i + n - 1][1]))
        folded = text.casefold()
        for email in self.emails:
            spans.extend((m.start(), m.end()) for m in re.finditer(re.escape(email), folded))
        return spans

    def named_in(self, text: str | None) -> bool:
        return bool(text) and bool(self._spans(text))

    def replaced(self, text: str, replacement: str) -> str:
        """The text with each mention of the person replaced (the rest as it was)."""
        merged: list[list[int]] = []
        for start, end in sorted(self._spans(text)):
            if merged and start <= merged[-1][1]:  # overlapping (a name inside an email address): one
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        out, at = [], 0
        for start, end in merged:
            out.append(text[at:start])
            out.append(replacement)
            at = end
        out.append(text[at:])
        return "".join(out)
