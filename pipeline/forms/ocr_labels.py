"""OCR'd labels and headings snapped to the specs' own words.

Text recognition misreads a letter here and there ("Voucher Amount Recelved", "Projec/Service
Name"), and label matching is exact on words. Before a scanned Document is identified and
extracted, the start of each OCR'd cell that is close to one of the specs' labels, headings,
options or titles is rewritten as that label, so everything after runs unchanged. Only the
words a label covers are touched: the value after it is never changed (a misread amount must be
caught by the second reading, not hidden by a guess). Short labels ("Date", "Name", "Age") are
never snapped: too many real words are one letter away from them.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache

from rapidfuzz import fuzz

from pipeline.document import Cell, Document, Line
from pipeline.forms.labels import label_tokens
from pipeline.forms.spec import FormSpec, all_specs

MIN_LETTERS = 7  # labels shorter than this must be read exactly
# how alike (0-100, rapidfuzz's normalised Indel similarity of the letters) a label must be
SIMILARITY_SHORT = 90  # 7 to 14 letters: one misread letter
SIMILARITY_LONG = 86  # 15 letters and more: a few misread letters
SIMILARITY_FIRST_WORD = 75  # and the first word of the text must be (a misreading of) the label's first
_WORD = re.compile(r"[^\W_]+|&", re.UNICODE)


def _spec_vocabulary(spec: FormSpec) -> list[str]:
    words: list[str] = [*spec.titles, *spec.total_labels, *spec.ignored_labels]
    words += [label for f in spec.header for label in f.labels]
    words += [label for s in spec.sections for label in s.labels] + [s.prompt for s in spec.sections if s.prompt]
    words += [label for q in spec.questions for label in q.labels]
    words += [o for q in spec.questions for option in spec.question_options(q) for o in option.labels]
    words += [o for option in spec.likert_options for o in option.labels]
    words += [p.heading for p in spec.principles] + [st for p in spec.principles for st in p.statements]
    words += [label for c in spec.columns for label in c.labels]
    if spec.feedback_label:
        words.append(spec.feedback_label)
    return words


@lru_cache(maxsize=1)
def vocabulary() -> tuple[tuple[str, int, str, str], ...]:
    """Every label of every form, as (label, its word count, its letters, its first word), longest first."""
    seen: dict[str, tuple[str, int, str, str]] = {}
    for spec in all_specs().values():
        for label in _spec_vocabulary(spec):
            tokens = label_tokens(label)
            letters = "".join(tokens)
            if len(letters) >= MIN_LETTERS and letters not in seen:
                seen[letters] = (label, len(tokens), letters, tokens[0])
    return tuple(sorted(seen.values(), key=lambda v: -len(v[2])))


def _best_prefix(words: list[re.Match], letters: str, count: int, first: str) -> tuple[int, float] | None:
    """How many of the text's first words best spell a label of `count` words and these letters
    (one word more or fewer: OCR loses or adds a space), and how alike they are (0-100). The
    first word must be alike too: a long label must not swallow another label before it."""
    norm = ["and" if w.group() == "&" else w.group().casefold() for w in words]
    if not norm or fuzz.ratio(norm[0][: len(first)], first) < SIMILARITY_FIRST_WORD:
        return None
    best = None
    for n in (count, count - 1, count + 1):
        if n < 1 or n > len(words):
            continue
        candidate = "".join(norm[:n])
        if abs(len(candidate) - len(letters)) > max(2, len(letters) // 8):
            continue
        alike = 100.0 if candidate == letters else fuzz.ratio(candidate, letters)
        if best is None or alike > best[1]:
            best = (n, alike)
    return best


def snap_text(text: str) -> str:
    """`text` with its first words replaced by the label they misread, if any is close enough."""
    words = list(_WORD.finditer(text))
    if not words:
        return text
    for label, count, letters, first in vocabulary():
        best = _best_prefix(words, letters, count, first)
        if best is None:
            continue
        n, alike = best
        if alike == 100 and n == count:
            return text  # already the label, word for word
        if alike >= (SIMILARITY_LONG if len(letters) >= 15 else SIMILARITY_SHORT):
            return text[: words[0].start()] + label + text[words[n - 1].end() :]
    return text


def misread_prefix_end(text: str, label: str) -> int | None:
    """Where `label` ends in `text` if the text starts with a misreading of it (a long prompt
    read with a letter or a word wrong), else None."""
    words = list(_WORD.finditer(text))
    want = label_tokens(label)
    best = _best_prefix(words, "".join(want), len(want), want[0]) if want else None
    if best is not None and best[1] >= SIMILARITY_LONG:
        return words[best[0] - 1].end()
    return None


def snap_ocr_labels(doc: Document) -> Document:
    """The Document with each OCR'd cell's leading label snapped (see the module's docstring)."""
    if not any(cell.source == "ocr" for line in doc.lines for cell in line.cells):
        return doc
    lines = []
    for line in doc.lines:
        cells = tuple(_snapped(cell) for cell in line.cells)
        lines.append(line if cells == line.cells else Line(line.kind, cells, line.table))
    return dataclasses.replace(doc, lines=lines)


def _snapped(cell: Cell) -> Cell:
    if cell.source != "ocr" or not cell.text.strip():
        return cell
    # a tick box read from the picture stays in front of its option ("☒ Stongly Agree")
    lead = len(cell.text) - len(cell.text.lstrip("☒☐ \t"))
    text = cell.text[:lead] + snap_text(cell.text[lead:])
    return cell if text == cell.text else dataclasses.replace(cell, text=text)
