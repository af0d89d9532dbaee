"""Whether the values read from a scan or photo can be trusted.

A wrong amount loaded without anyone noticing is the one unacceptable outcome of reading paper,
and an OCR engine's own confidence is no guide (its wrong readings score as high as its right
ones). So a value read from a picture is trusted only when it parses and an independent second
engine read the same value; the voucher rule "the lines add up to the written Total" checks the
amounts once more (total_mismatch). Anything else holds the form with `ocr_unconfirmed`, naming
the spot, both readings and the picture of it, for the admin to confirm or correct. Marks the
reader could not decide (a faint tick, a smudge where a signature goes) are held the same way,
never guessed; handwriting no engine could read is held where the value is needed, and kept as
"(handwritten, see the original)" in free text. Every form read this way carries `ocr_read`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pipeline.document import HANDWRITTEN, Location
from pipeline.forms.raw import RawForm, RawValue
from pipeline.forms.spec import FormSpec
from pipeline.problems import ProblemCode
from schemas.values import ValueProblem, parse_duration_minutes, parse_money, parse_uk_date

# the value types read twice, and how each is parsed (the same parsers the models use)
CHECKED_TWICE: dict[str, Callable[[object], object]] = {
    "PastDate": parse_uk_date,
    "Money": parse_money,
    "Minutes": parse_duration_minutes,
}
# values that must be read as words: handwriting there holds the form
NEEDED_AS_WORDS = {"SingleLine", "PastDate", "Money", "Minutes"}
# names, activities, project names: where they were read twice, both readings must spell them alike
# (spaces aside: one engine often splits a long name, "Papadopoul os")
CHECKED_AS_WORDS = {"SingleLine"}


@dataclass(frozen=True)
class ReadValue:
    path: str  # the field's path, as problems name it ("lines.3.amount")
    type_name: str  # its type in the spec
    raw: RawValue
    agreement: str = "exact"  # for text: how alike both readings must be (Column.ocr_agreement)


def read_values(spec: FormSpec, raw: RawForm) -> Iterator[ReadValue]:
    """Every value of the form that was read from a picture, with its type."""
    typed = [(f.name, f.type, raw.fields.get(f.name), "exact") for f in spec.header]
    typed += [(s.name, s.type, raw.fields.get(s.name), "exact") for s in spec.sections]
    for row in raw.rows:
        typed += [
            (f"lines.{row.row_no}.{c.name}", c.type, row.cells.get(c.name), c.ocr_agreement) for c in spec.columns
        ]
    if raw.total is not None:
        typed.append(("total", "Money", raw.total, "exact"))
    for path, type_name, value, agreement in typed:
        if value is not None and value.source == "ocr" and not value.is_blank:
            yield ReadValue(path, type_name, value, agreement)


def describe_reading(raw: RawValue) -> str:
    """Both engines' readings, as the warehouse keeps them and the admin sees them."""
    reading = raw.reading
    if reading is None:
        return ""
    first = f"{reading.engine}: '{_one_line(raw.text)}'"
    if raw.second_text is None:
        return first
    return f"{first}; {reading.second_engine or 'second reading'}: '{_one_line(raw.second_text)}'"


def _parsed(parse: Callable[[object], object], text: str | None) -> object | None:
    text = without_specks(text or "")
    if not text:
        return None
    try:
        return parse(text)
    except ValueProblem:
        return None


def _same_value(type_name: str, raw: RawValue, agreement: str = "exact") -> bool:
    if type_name in CHECKED_AS_WORDS:
        if raw.second_text is None:
            return True
        if agreement == "close":
            return _close_words(raw.text, raw.second_text)
        return word_skeleton(raw.text) == word_skeleton(raw.second_text)
    parse = CHECKED_TWICE[type_name]
    first = _parsed(parse, raw.text)
    return first is not None and first == _parsed(parse, raw.second_text)


# Specks a scanner or a fold leaves beside a value, which OCR reads as punctuation: ".£25.00",
# "Yusuf Ali.", '102.50"'. Never inside a value ("£1,000.50" keeps its comma and point), never a
# point before a digit (".50" is 50p, not £50) and never a minus sign (a negative amount must
# stay invalid, not become a positive one).
_LEADING_SPECKS = re.compile(r"^(?:[\s'\"`‘’“”:;_~|^*•]|[.,](?!\d))+")
_TRAILING_SPECKS = re.compile(r"[\s'\"`‘’“”:;_~|^*•.,]+$")


def without_specks(text: str) -> str:
    return _TRAILING_SPECKS.sub("", _LEADING_SPECKS.sub("", " ".join(text.split())))


def _letters(text: str) -> str:
    return "".join(without_specks(text).split()).casefold()


# Letters the two engines are known to take for one another in print (Tesseract's "Woicik" for
# RapidOCR's "Wojcik", "Bequm" for "Begum"): a name both read alike but for these is the same name.
_CONFUSED = str.maketrans({"j": "i", "l": "i", "1": "i", "|": "i", "!": "i", "0": "o", "q": "g", "9": "g", "5": "s"})
_NOT_A_LETTER = re.compile(r"[^\w]+", re.UNICODE)


def word_skeleton(text: str) -> str:
    """A name or activity with spaces, punctuation and the engines' usual confusions taken out."""
    return _NOT_A_LETTER.sub("", text.casefold()).translate(_CONFUSED)


CLOSE_WORDS_SIMILARITY = 0.85
_DIGIT_IN_A_WORD = re.compile(r"(?=\w*[^\W\d_])(?=\w*\d)\w+", re.UNICODE)  # "grou0", "W0rkshop"


def _close_words(first: str, second: str) -> bool:
    """Both readings name the same thing though the second misread a letter ("Steering aroup") or
    read a speck as a letter of its own ("Reading group i"). Never when the first reading itself
    has a digit inside a word: that is a misreading of its own ("Focus grou0")."""
    from difflib import SequenceMatcher

    if _DIGIT_IN_A_WORD.search(first):
        return False
    second_words = [w for w in second.split() if len(w) > 1 or not w.islower() or w in first.split()]
    if len(second_words) != len(first.split()) or re.findall(r"\d", first) != re.findall(r"\d", second):
        return False  # a word or a number more or less ("Workshop" and "Workshop A", "Workshop 2" and "3")
    a, b = word_skeleton(first), word_skeleton(" ".join(second_words))
    return a == b or SequenceMatcher(None, a, b).ratio() >= CLOSE_WORDS_SIMILARITY


def settle_readings(raw: RawForm) -> None:
    """Where the two readings of a value differ only in ways OCR is known for, the cleaner one is
    kept: specks read as punctuation at either end (".£25.00" beside "£25.00"), and spaces (OCR
    splits a long name far more often than it joins two: "Eleni Papadopoul os")."""
    for cells in [row.cells for row in raw.rows] + [raw.fields]:
        for name, value in cells.items():
            second = value.second_text
            if value.source != "ocr" or second is None or second == value.text:
                continue
            if _letters(second) != _letters(value.text):
                continue
            text = without_specks(value.text) if "\n" not in value.text else value.text.strip()
            if len(second.split()) < len(text.split()):
                text = without_specks(second)
            if text != value.text:
                cells[name] = dataclasses.replace(value, text=text)


def picture_note(raw: RawValue, crops_folder: str) -> str:
    crop = raw.reading.crop if raw.reading else None
    return f" The picture of it: {crops_folder}/{crop}." if crop else " See the original scan."


_PICTURE_NOTE = re.compile(r" (?:The picture of it: \S+\.|See the original scan\.)$")


def without_picture_note(message: str) -> str:
    """The message without picture_note's ending: the picture is in the admin's outputs folder, a
    place the person who sent the scan cannot open (a reply to them leaves it out)."""
    return _PICTURE_NOTE.sub("", message)


@dataclass(frozen=True)
class OcrProblem:
    code: ProblemCode
    message: str
    path: str | None  # the field, where there is one
    value: str | None
    location: Location | None = None  # where there is no field: the spot on the page


@dataclass
class OcrCheck:
    """What check_ocr found: problems to add, each value's readings, and the pictures problems name."""

    problems: list[OcrProblem]
    readings: dict[str, str]  # field path -> both engines' readings
    crops: set[str]


def check_ocr(spec: FormSpec, raw: RawForm, label: Callable[[str], str], crops_folder: str) -> OcrCheck:
    """The trust rules above, for one form. `label(path)` names a field as the admin knows it;
    `crops_folder` is where the run puts the pictures (relative to the outputs folder)."""
    found = OcrCheck([], {}, set())
    if not raw.read_by_ocr:
        return found
    checked = 0
    for value in read_values(spec, raw):
        found.readings[value.path] = describe_reading(value.raw)
        where = _where(value.path, label)
        note = picture_note(value.raw, crops_folder)
        handwritten = value.raw.reading is not None and value.raw.reading.handwritten
        if handwritten and value.type_name in NEEDED_AS_WORDS:
            found.problems.append(
                OcrProblem(
                    ProblemCode.OCR_UNCONFIRMED,
                    f"{where}: handwriting that could not be read; please key it in.{note}",
                    value.path,
                    HANDWRITTEN,
                )
            )
        elif value.type_name in CHECKED_TWICE or (
            value.type_name in CHECKED_AS_WORDS and value.raw.second_text is not None
        ):
            checked += 1
            if not _same_value(value.type_name, value.raw, value.agreement):
                second = value.raw.second_text
                found.problems.append(
                    OcrProblem(
                        ProblemCode.OCR_UNCONFIRMED,
                        f"{where}: the scan reads '{_one_line(value.raw.text)}' but a second reading gives "
                        f"'{_one_line(second) if second is not None else '(nothing)'}'; please confirm or correct it."
                        f"{note}",
                        value.path,
                        describe_reading(value.raw),
                    )
                )
        else:
            continue
        if found.problems and found.problems[-1].path == value.path and value.raw.reading and value.raw.reading.crop:
            found.crops.add(value.raw.reading.crop)
    found.problems += _near_names(raw, found, crops_folder)
    found.problems += _unanswered(spec, raw, label)
    for name, choice in raw.choices.items():
        if choice.unboxed:
            options = ", ".join(f"'{o}'" for o in dict.fromkeys(choice.unboxed))
            found.problems.append(
                OcrProblem(
                    ProblemCode.OCR_UNCONFIRMED,
                    f"{label(name)}: the tick box of {options} could not be found on the scan, so whether it is "
                    "ticked is not known; please look at the original.",
                    name,
                    None,
                )
            )
    for mark in raw.unsure_marks:
        note = picture_note(mark, crops_folder)
        found.problems.append(
            OcrProblem(
                ProblemCode.OCR_UNCONFIRMED,
                f"A mark at {mark.location} is faint or unclear (a tick or a signature?); please look at it and "
                f"confirm whether it is there.{note}",
                None,
                mark.text or None,
                mark.location,
            )
        )
        if mark.reading and mark.reading.crop:
            found.crops.add(mark.reading.crop)
    found.problems.append(
        OcrProblem(
            ProblemCode.OCR_READ,
            f"Read from a scan or photo by text recognition ({checked} values read twice and found alike).",
            None,
            None,
            Location(),
        )
    )
    return found


def _unanswered(spec: FormSpec, raw: RawForm, label: Callable[[str], str]) -> list[OcrProblem]:
    """A question with no box ticked on a scan: left blank, or marked where the reader does not
    look (a circle round the answer, a tick beside the box) or too faintly to see. Which, only the
    paper tells: held for the admin rather than loaded as unanswered."""
    names = [f"{p.name}.{i}" for p in spec.principles for i in range(1, len(p.statements) + 1)]
    names += [q.name for q in spec.questions]
    held = []
    for name in names:
        choice = raw.choices.get(name)
        if choice is not None and not choice.ticks and not choice.unboxed:
            held.append(
                OcrProblem(
                    ProblemCode.OCR_UNCONFIRMED,
                    f"{label(name)}: no box is ticked on the scan; please look at the original in case it is "
                    "marked another way (a circle round the answer, a faint tick) and confirm.",
                    name,
                    None,
                )
            )
    return held


NEAR_NAME_SIMILARITY = 0.85  # two spellings this alike on one sheet are one resident misread


def _near_names(raw: RawForm, found: OcrCheck, crops_folder: str) -> list[OcrProblem]:
    """A name on a scanned sheet that is a letter or two away from another name on the same sheet
    is one resident read two ways ("Tomasz Wocik" beside "Tomasz Wojcik" twice): both engines can
    misread a letter alike, so the rarer spelling is held for the admin, with the other beside it."""
    from difflib import SequenceMatcher

    spellings: dict[str, list[int]] = {}
    for row in raw.rows:
        name = row.cells.get("name")
        if name is not None and name.source == "ocr" and name.text.strip():
            spellings.setdefault(_one_line(name.text), []).append(row.row_no)
    held = []
    for spelling, rows in spellings.items():
        for other, other_rows in spellings.items():
            alike = SequenceMatcher(None, spelling.casefold(), other.casefold()).ratio()
            if other == spelling or alike < NEAR_NAME_SIMILARITY or len(rows) > len(other_rows):
                continue
            if len(rows) == len(other_rows) and spelling < other:
                continue  # as common as each other: hold one of the two, once
            for row_no in rows:
                path = f"lines.{row_no}.name"
                if any(p.path == path for p in found.problems):
                    continue
                value = next(r.cells["name"] for r in raw.rows if r.row_no == row_no)
                listed = ", ".join(str(n) for n in other_rows)
                held.append(
                    OcrProblem(
                        ProblemCode.OCR_UNCONFIRMED,
                        f"Row {row_no}, name: the scan reads '{spelling}', which is nearly '{other}' "
                        f"(row {listed}); please confirm which is right.{picture_note(value, crops_folder)}",
                        path,
                        spelling,
                    )
                )
                if value.reading and value.reading.crop:
                    found.crops.add(value.reading.crop)
            break
    return held


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _where(path: str, label: Callable[[str], str]) -> str:
    parts = path.split(".")
    if parts[0] == "lines" and len(parts) == 3:
        return f"Row {parts[1]}, {label(path).lower()}"
    return label(path)
