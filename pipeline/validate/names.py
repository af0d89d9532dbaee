"""One person, one key: the names on voucher sheets compared as a reader would see them.

A name typed on a sheet can look the same as another and still differ in its characters: a
Cyrillic "а" for a Latin "a", full-width letters, a no-break space, an invisible zero-width
space or joiner pasted from a web page. For double claims, the £500-in-12-months list and the
totals "By recipient" those must be one person, so names (and activities) are compared by a key:

1. Unicode NFKC (full-width and compatibility letters become plain ones, a no-break space a space);
2. format characters (category Cf: zero-width space and joiners, soft hyphen, direction marks) and
   the other invisible ones (variation selectors, the combining grapheme joiner, Hangul fillers)
   removed;
3. case folded;
4. the confusable skeleton of Unicode TR39 (ICU's SpoofChecker), so characters that look alike
   map to one prototype (Cyrillic "а" -> "a", "0" -> "O", "1" -> "l");
5. case folded again (a prototype may be a capital), and cut into words at anything that is not a
   letter, digit or mark, so spaces and punctuation count only as breaks between words ("&" is
   "and", as in the form labels).

The key is for comparing only: forms and reports still show the name as it was written.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from functools import cache, lru_cache

# Invisible but not of category Cf: the combining grapheme joiner, variation selectors, Hangul
# fillers, the Mongolian free variation selectors.
_INVISIBLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, *range(0x180B, 0x1810), *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]
)


@cache
def _spoof_checker():
    """ICU loads on first use (a twentieth of a second), not when the pipeline is imported."""
    import icu

    return icu.SpoofChecker()


def _visible(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf" and ord(ch) not in _INVISIBLE)


def _skeleton(text: str) -> str:
    return _spoof_checker().getSkeleton(0, text)


def _words(text: str) -> list[str]:
    """Runs of letters, digits and marks; "&" is a word of its own ("and")."""
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if unicodedata.category(ch)[0] in "LNM":
            current.append(ch)
            continue
        if current:
            words.append("".join(current))
            current = []
        if ch == "&":
            words.append("and")
    if current:
        words.append("".join(current))
    return words


@lru_cache(maxsize=65536)
def text_key(text: str) -> str:
    """What two spellings of one name (or activity) have in common: equal keys look the same."""
    folded = _visible(unicodedata.normalize("NFKC", text)).casefold()
    return " ".join(_words(_skeleton(folded).casefold()))


def person_key(name: str) -> str:
    """The key a recipient is known by across forms and reports."""
    return text_key(name)


def claim_key(name: str | None, date: dt.date | None, activity: str | None) -> str | None:
    """One claim: the same person, on the same date, for the same activity. None while any of
    the three is missing (such a line cannot be a double claim)."""
    if not (name and date and activity):
        return None
    return f"{person_key(name)}|{date.isoformat()}|{text_key(activity)}"


def first_spellings(names_in_order) -> dict[str, str]:
    """Person key -> the first spelling seen of that person, in the order given."""
    first: dict[str, str] = {}
    for name in names_in_order:
        if name:
            first.setdefault(person_key(name), name)
    return first
