"""What extraction hands to validation: raw text (or typed cell values) with their Locations."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.document import Location, Reading, Source


@dataclass(frozen=True)
class RawValue:
    text: str
    location: Location | None = None
    value: object | None = None  # typed value from the source (an Excel date or number)
    has_image: bool = False
    source: Source = "text"
    reading: Reading | None = None  # how OCR read the spot (source "ocr")
    # the second OCR engine's reading of this value (the label cut off as from `text`)
    second_text: str | None = None

    @property
    def is_blank(self) -> bool:
        return not self.text.strip() and not self.has_image and self.value in (None, "")


@dataclass(frozen=True)
class Tick:
    option: str  # the option's canonical text from the spec
    location: Location
    free_text: str = ""


@dataclass(frozen=True)
class DisputedTick:
    """A Word tick box whose glyph and recorded state disagree: it was read as its glyph shows
    (`shows_tick`), and validation warns naming the question and this option."""

    option: str  # the option's canonical text from the spec
    location: Location
    shows_tick: bool


@dataclass
class RawChoice:
    ticks: list[Tick] = field(default_factory=list)
    location: Location | None = None  # where the question (or statement) was found
    options_seen: int = 0  # how many of its options were on the form
    # on a scan: options whose tick box was not found (so whether they are ticked is not known)
    unboxed: list[str] = field(default_factory=list)
    # options whose Word tick box shows one thing and records another (read as shown)
    disputed: list[DisputedTick] = field(default_factory=list)


@dataclass(frozen=True)
class RawRow:
    row_no: int  # 1-based among the data rows of the table
    cells: dict[str, RawValue]
    location: Location
    # where the row's blank cells are, by column (no reader keeps a blank cell): a problem about
    # one ("not signed") points at its own cell, not at the row's first
    blank_places: dict[str, Location] = field(default_factory=dict)


@dataclass
class RawForm:
    form_type: str
    fields: dict[str, RawValue] = field(default_factory=dict)
    choices: dict[str, RawChoice] = field(default_factory=dict)
    rows: list[RawRow] = field(default_factory=list)
    total: RawValue | None = None
    # marks on a scan the reader could not decide (a faint tick, a speck or a signature?)
    unsure_marks: list[RawValue] = field(default_factory=list)
    read_by_ocr: bool = False

    def text(self, name: str) -> str:
        raw = self.fields.get(name)
        return raw.text if raw else ""

    def location_of(self, name: str) -> Location | None:
        raw = self.fields.get(name)
        if raw is not None:
            return raw.location
        choice = self.choices.get(name)
        return choice.location if choice else None
