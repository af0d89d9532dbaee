"""Every way a tick box can be written, reduced to ticked / unticked / not a tick.

Readers use this to turn glyphs, symbol-font characters and form controls into the two
canonical characters of pipeline.document; extraction uses `mark_state` for the cell beside
an option in a table or sheet.
"""

from __future__ import annotations

import re

from pipeline.document import TICKED, UNTICKED

# Ticks as they are typed, pasted or chosen as a Word checkbox's "checked symbol": ballot boxes
# (☒ ☑, ⌧ X in a rectangle, 🗹 🗷 🗸 ⮽ of Unicode's Wingdings blocks), ticks and crosses, and the
# filled shapes of a radio button or a shaded box.
TICKED_GLYPHS = frozenset("☒☑✓✔✗✘■●⊠⌧🗹🗷🗸⮽✅❎")
UNTICKED_GLYPHS = frozenset("☐□○❑❒▢◻⬜❏❐")

# Symbol fonts: (font family lower-case, code point) as Word stores them in w:sym, and the
# same code points as private-use characters after a LibreOffice round-trip.
_SYMBOL_TICKED = {0xF0FE, 0xF0FD, 0xF0FC, 0xF0FB, 0xF078, 0xF0D0}
_SYMBOL_UNTICKED = {0xF0A8, 0xF06F, 0xF0A3, 0xF071, 0xF0A1}
_WINGDINGS2_TICKED = {0xF052, 0xF053, 0xF050, 0xF054, 0xF04F, 0xF051}
_WINGDINGS2_UNTICKED = {0xF0A3, 0xF02A}


_MAYBE_A_BOX = re.compile("[" + re.escape("".join(sorted(TICKED_GLYPHS | UNTICKED_GLYPHS))) + "\uf000-\uf0ff]")


def symbol_char_state(font: str | None, code: int) -> bool | None:
    """True/False for a ticked/empty box written in a symbol font, None if not a box."""
    font = (font or "").lower()
    if code < 0xF000 and code <= 0xFF:
        code += 0xF000  # w:sym may store "FE" as well as "F0FE"
    if not font or "opensymbol" in font:
        # the symbol font is not known (a PDF printed by LibreOffice draws both Wingdings sets
        # with its OpenSymbol font): a box code of either set is a box
        if code in _SYMBOL_TICKED or code in _WINGDINGS2_TICKED:
            return True
        if code in _SYMBOL_UNTICKED or code in _WINGDINGS2_UNTICKED:
            return False
        return glyph_state(chr(code))
    if "wingdings 2" in font:
        if code in _WINGDINGS2_TICKED:
            return True
        if code in _WINGDINGS2_UNTICKED:
            return False
        return None
    if code in _SYMBOL_TICKED:
        return True
    if code in _SYMBOL_UNTICKED:
        return False
    # Segoe UI Symbol / MS Gothic store the real Unicode character.
    return glyph_state(chr(code))


def glyph_state(char: str) -> bool | None:
    if char in TICKED_GLYPHS:
        return True
    if char in UNTICKED_GLYPHS:
        return False
    return None


def normalise_glyphs(text: str, font: str | None = None) -> str:
    """Replace every tick-like character (including private-use symbol-font ones) with ☒/☐."""
    if not _MAYBE_A_BOX.search(text):
        return text  # nearly all text: a regex pass instead of a look-up per character
    out = []
    for ch in text:
        state = glyph_state(ch)
        if state is None and 0xF000 <= ord(ch) <= 0xF0FF:
            state = symbol_char_state(font, ord(ch))
        out.append(ch if state is None else (TICKED if state else UNTICKED))
    return "".join(out)


# What counts as a mark in the cell beside an option (Excel and table layouts).
_TEXT_MARKS = {"x", "✓", "✔", "true", "yes", "y", TICKED, "☑", "■", "●", "✗", "✘", "[x]", "(x)"}
_EMPTY_MARKS = {"", UNTICKED, "false", "no", "[ ]", "( )", "-"}


def mark_state(text: str, value: object | None = None) -> bool | None:
    """True if a cell holds a tick, False if it is an empty box, None if it is something else."""
    if isinstance(value, bool):
        return value
    t = normalise_glyphs(text.strip()).lower()
    if t in _TEXT_MARKS:
        return True
    if t in _EMPTY_MARKS:
        return False
    return None
