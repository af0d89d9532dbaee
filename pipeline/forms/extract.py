"""Label-anchored extraction: one generic walk of a Document, driven by a FormSpec.

The Document is read as a stream of cells in reading order. Cells that begin with a label
or heading of the spec are anchors; everything between one anchor and the next belongs to
the first. Header fields take the rest of their cell, else the next cell, else the next
line; sections take all of it; questions and statements read tick marks from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.document import TICKED, UNTICKED, Cell, Document, Line
from pipeline.forms.labels import (
    clean_value,
    label_tokens,
    leading_token,
    match_label,
    same_text,
)
from pipeline.forms.ocr_labels import misread_prefix_end
from pipeline.forms.raw import DisputedTick, RawChoice, RawForm, RawRow, RawValue, Tick
from pipeline.forms.spec import FormSpec, Option
from pipeline.read.ticks import mark_state

STATEMENT_LOOSE_TOKENS = 6
MIN_HEADER_COLUMNS = 3


@dataclass(frozen=True)
class _Seg:
    line_no: int
    cell_no: int
    cell: Cell
    line: Line


@dataclass(frozen=True)
class _Anchor:
    kind: str  # header, section, question, principle, statement, feedback, ignored, template, title, grid
    name: str
    seg: int  # index into the segment stream
    rest: str  # the cell's text after the label
    label: str = ""  # the label (or alias) as the spec writes it
    prompt: str = ""  # a section's prompt, which may follow its label


def _segments(lines: list[Line]) -> list[_Seg]:
    return [_Seg(li, ci, cell, line) for li, line in enumerate(lines) for ci, cell in enumerate(line.cells)]


# ---------------------------------------------------------------- tick marks

_GLYPH_SPLIT = re.compile(f"([{TICKED}{UNTICKED}])")
_TYPED_MARK_BEFORE = re.compile(r"^\s*[\[(]?\s*[xX]\s*[\])]?\s+(?=\S)")
_TYPED_MARK_AFTER = re.compile(r"(?<=\S)\s+[-–:]?\s*[\[(]?\s*[xX]\s*[\])]?\s*$")


def match_option(text: str, options: tuple[Option, ...]) -> tuple[Option, str] | None:
    """The option a piece of text names (and any free text after it), or None."""
    return OptionMatcher(options).match(text)


class OptionMatcher:
    """match_option for one set of options, asked many times (a form's cells are matched against
    every question's options, a few hundred times a form): the options' labels are indexed once,
    so that a cell costs one look-up rather than a comparison with each option."""

    def __init__(self, options: tuple[Option, ...]):
        self.options = options
        self.by_tokens, self.by_letters = _options_index(tuple(option.labels for option in options))

    def match(self, text: str) -> tuple[Option, str] | None:
        text = clean_value(text)
        if not text:
            return None
        tokens = label_tokens(text)
        # the first option whose labels are the text (labels.same_text): the same words, or the
        # same letters where a word is split over two lines of a narrow cell
        found = self.by_tokens.get(tokens)
        if "\n" in text:
            split = self.by_letters.get("".join(tokens))
            if split is not None and (found is None or split < found):
                found = split
        if found is not None:
            return self.options[found], ""
        best = None
        for option in self.options:
            if not option.free_text:
                continue
            for label in option.labels:
                want = label_tokens(label)
                if tokens[: len(want)] == want and (best is None or len(want) > best[0]):
                    m = match_label(text, (label,))
                    best = (len(want), option, clean_value(text[m.end :]) if m else "")
        return (best[1], best[2]) if best else None


@lru_cache(maxsize=256)
def _options_index(labels_of_each: tuple[tuple[str, ...], ...]) -> tuple[dict, dict]:
    """Each label's tokens, and its letters only, -> the first option with that label."""
    by_tokens: dict[tuple[str, ...], int] = {}
    by_letters: dict[str, int] = {}
    for i, labels in enumerate(labels_of_each):
        for label in labels:
            by_tokens.setdefault(label_tokens(label), i)
            by_letters.setdefault("".join(label_tokens(label)), i)
    return by_tokens, by_letters


def _count_boxes(text: str) -> int:
    return text.count(TICKED) + text.count(UNTICKED)


def _strip_typed_mark(text: str) -> tuple[str, bool]:
    for pattern in (_TYPED_MARK_BEFORE, _TYPED_MARK_AFTER):
        stripped = pattern.sub("", text, count=1)
        if stripped != text:
            return stripped, True
    return text, False


class _TickReader:
    """Reads which options are ticked in a run of segments, whatever the layout."""

    def __init__(self, options: tuple[Option, ...], grid: dict[int, list[tuple[int, dict[int, Option]]]]):
        self.options = options
        self.matcher = OptionMatcher(options)
        self.grid = grid  # table -> [(line_no, {col: option})] of option header rows

    def _is_option_cell(self, cell: Cell) -> bool:
        return self.matcher.match(_strip_typed_mark(cell.text)[0]) is not None

    def _marks_lead(self, line: Line) -> bool:
        """In this row, does each mark sit before (left of) its option?"""
        for cell in line.cells:
            if self._is_option_cell(cell):
                return False
            if mark_state(cell.text, cell.value) is not None:
                return True
        return False

    def _neighbour_mark(self, seg: _Seg) -> tuple[bool | None, Cell | None]:
        """The mark in the cell beside an option, and that cell."""
        want = seg.cell.col - 1 if self._marks_lead(seg.line) else seg.cell.col + 1
        for cell in seg.line.cells:
            if cell.col == want:
                return mark_state(cell.text, cell.value), cell
        return None, None

    def _grid_option(self, seg: _Seg) -> Option | None:
        """The option named above this mark's column: in its own table, else (a grid that a page
        break split into a new table) the nearest option header above it."""
        rows = self.grid.get(seg.line.table, []) if seg.line.table is not None else []
        if not rows:
            rows = sorted((r for table_rows in self.grid.values() for r in table_rows), key=lambda r: r[0])
        for line_no, columns in reversed(rows):
            if line_no < seg.line_no:
                return columns.get(seg.cell.col)
        return None

    def read(self, segs: list[tuple[_Seg, str]]) -> tuple[list[Tick], int, list[str], list[DisputedTick]]:
        """Ticked options, how many options were seen, the options read from a picture with no box
        beside them, and the options whose Word box shows other than it records. Where there is
        no tick box or mark at all and exactly one option is written (a drop-down answer in a
        sheet, or the answer typed on its own), that option is the answer."""
        ticks: list[Tick] = []
        disputed: list[DisputedTick] = []
        written: list[Tick] = []
        unboxed: list[str] = []  # options read from a picture with no tick box found beside them
        marks = 0
        seen = 0
        for seg, text in segs:
            loc = seg.cell.location
            if TICKED in text or UNTICKED in text:
                marks += 1
                parts = _GLYPH_SPLIT.split(text)
                glyph_first = not parts[0].strip()
                pairs = []
                if glyph_first:  # "☐ Agree ☒ Disagree"
                    pairs = [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]
                else:  # "Agree ☐ Disagree ☒"
                    pairs = [(parts[i + 1], parts[i]) for i in range(0, len(parts) - 1, 2)]
                # each pair holds one box, in order; `text` may be the end of its cell (after a
                # label), so its boxes are the cell's last ones
                first_box = _count_boxes(seg.cell.text) - _count_boxes(text)
                for box_no, (glyph, label) in enumerate(pairs, start=first_box):
                    option = None
                    if label.strip():
                        found = self.matcher.match(label)
                        if found:
                            seen += 1
                            option = found[0]
                            if glyph == TICKED:
                                ticks.append(Tick(found[0].value, loc, found[1]))
                    elif glyph == TICKED:
                        option = self._lone_mark(seg, ticks)
                    elif (option := self._grid_option(seg)) is not None:
                        seen += 1
                    if option is not None and box_no in seg.cell.disputed_ticks:
                        disputed.append(DisputedTick(option.value, loc, glyph == TICKED))
                continue
            stripped, typed = _strip_typed_mark(text)
            found = self.matcher.match(stripped)
            if found:
                seen += 1
                beside, mark_cell = self._neighbour_mark(seg)
                marks += typed or beside is not None
                if typed or beside:
                    ticks.append(Tick(found[0].value, loc, found[1]))
                if beside is not None and mark_cell.disputed_ticks:
                    disputed.append(DisputedTick(found[0].value, mark_cell.location, beside))
                else:
                    written.append(Tick(found[0].value, loc, found[1]))
                    if seg.cell.source == "ocr" and beside is None:
                        unboxed.append(found[0].value)
            elif mark_state(text, seg.cell.value) is not None:
                marks += 1
                if mark_state(text, seg.cell.value):
                    self._lone_mark(seg, ticks)
        if not ticks and not marks and len(written) == 1 and not unboxed:
            ticks = written
        return ticks, seen, unboxed, disputed

    def _lone_mark(self, seg: _Seg, ticks: list[Tick]) -> Option | None:
        """A mark with no option text of its own: its option is beside it, or above it in a grid
        (the option ticked here is returned)."""
        lead = self._marks_lead(seg.line)
        beside = seg.cell.col + 1 if lead else seg.cell.col - 1
        for cell in seg.line.cells:
            if cell.col == beside and self._is_option_cell(cell):
                return None  # counted when that option cell is read
        option = self._grid_option(seg)
        if option is not None:
            ticks.append(Tick(option.value, seg.cell.location))
        return option


def _grid_headers(lines: list[Line], options: tuple[Option, ...]) -> dict[int, list[tuple[int, dict[int, Option]]]]:
    """Rows whose cells are option names (a Likert grid's header), per table."""
    grid: dict[int, list[tuple[int, dict[int, Option]]]] = {}
    matcher = OptionMatcher(options)
    for line_no, line in enumerate(lines):
        if line.kind != "row" or line.table is None:
            continue
        columns = {}
        for cell in line.cells:
            if TICKED in cell.text or UNTICKED in cell.text:
                columns = {}
                break
            found = matcher.match(cell.text)
            if found and not found[1]:
                columns[cell.col] = found[0]
        if len(columns) >= 2:
            grid.setdefault(line.table, []).append((line_no, columns))
    return grid


# ---------------------------------------------------------------- anchors


@dataclass(frozen=True)
class _Label:
    """Something a cell may start with that makes it an anchor."""

    kind: str
    name: str
    labels: tuple[str, ...]
    need_end: bool = True  # the label must be followed by a separator or the end of the cell
    loose: int | None = None  # see match_label's loose_tokens
    prompt: str | None = None  # a section's prompt, which may follow its label


class _SpecLabels:
    """A spec's labels in the order _find_anchors tries them, and indexed by their first token:
    trying every label (up to 45 on a form) on every cell of a document was half the time of
    extraction, but a cell on one line can only start with the labels that share its first
    token (pipeline.forms.labels.leading_token)."""

    def __init__(self, spec: FormSpec):
        statements = [(f"{p.name}.{i}", st) for p in spec.principles for i, st in enumerate(p.statements, start=1)]
        self.all: tuple[_Label, ...] = (
            *(_Label("header", f.name, f.labels) for f in spec.header),
            *(_Label("ignored", "", (label,)) for label in spec.ignored_labels),
            *(_Label("template", "", (line,), False, STATEMENT_LOOSE_TOKENS) for line in spec.template_text),
            *(_Label("section", s.name, s.labels, prompt=s.prompt) for s in spec.sections),
            *(_Label("question", q.name, q.labels) for q in spec.questions),
            *(_Label("principle", p.name, (p.heading,)) for p in spec.principles),
            *(_Label("statement", key, (st,), False, STATEMENT_LOOSE_TOKENS) for key, st in statements),
            *((_Label("feedback", "", (spec.feedback_label,)),) if spec.feedback_label else ()),
        )
        by_first: dict[str, list[_Label]] = {}
        for label in self.all:  # in order, so each list keeps the order of trying
            for first in {tokens[0] for tokens in map(label_tokens, label.labels) if tokens}:
                by_first.setdefault(first, []).append(label)
        self._by_first = {first: tuple(labels) for first, labels in by_first.items()}

    def worth_trying(self, text: str) -> tuple[_Label, ...]:
        if "\n" in text:  # a word split over two lines may still match letter for letter: try all
            return self.all
        return self._by_first.get(leading_token(text), ())


_SPEC_LABELS: dict[int, tuple[FormSpec, _SpecLabels]] = {}  # by id(spec); the spec kept so its id stays its own


def _spec_labels(spec: FormSpec) -> _SpecLabels:
    found = _SPEC_LABELS.get(id(spec))
    if found is None or found[0] is not spec:
        found = _SPEC_LABELS[id(spec)] = (spec, _SpecLabels(spec))
    return found[1]


def _find_anchors(spec: FormSpec, segs: list[_Seg], grid_lines: set[int], stop: int) -> list[_Anchor]:
    anchors: list[_Anchor] = []
    labels = _spec_labels(spec)
    for i, seg in enumerate(segs[:stop]):
        text = seg.cell.text
        if not text.strip():
            continue
        if seg.line_no in grid_lines:
            if seg.cell_no == 0:
                anchors.append(_Anchor("grid", "", i, ""))
            continue
        candidates: list[tuple[int, _Anchor]] = []
        for t in spec.titles:
            if same_text(text, (t,)):
                candidates.append((len(text), _Anchor("title", "", i, "")))
        for label in labels.worth_trying(text):
            m = match_label(text, label.labels, loose_tokens=label.loose)
            if not m:
                continue
            if label.kind == "section":
                rest = m.rest(text)
                after_prompt = match_label(rest, (label.prompt,)) if label.prompt else None
                if after_prompt:
                    rest = after_prompt.rest(rest)
                elif label.prompt and seg.cell.source == "ocr":
                    end = misread_prefix_end(rest, label.prompt)
                    if end is not None:
                        after_prompt, rest = True, clean_value(rest[end:])
                if m.exact_end or after_prompt:
                    prompt = "" if after_prompt else label.prompt or ""
                    candidates.append((m.end, _Anchor("section", label.name, i, rest, m.label, prompt)))
            elif label.kind == "principle":
                if m.exact_end and not m.rest(text):
                    candidates.append((m.end, _Anchor("principle", label.name, i, "")))
            elif m.exact_end or not label.need_end:
                candidates.append((m.end, _Anchor(label.kind, label.name, i, m.rest(text), m.label)))
        if candidates:
            anchors.append(max(candidates, key=lambda c: c[0])[1])
    return anchors


def _span(segs: list[_Seg], anchors: list[_Anchor], k: int, stop: int) -> list[_Seg]:
    end = anchors[k + 1].seg if k + 1 < len(anchors) else stop
    return segs[anchors[k].seg + 1 : end]


def _cell_value(cell: Cell, text: str, label: str | None = None) -> RawValue:
    """A value taken from a cell: the cell's text (or, after `label`, the rest of it), with the
    cell's typed value, picture, and how OCR read it. The second OCR reading is cut the same way."""
    second = cell.reading.second_text if cell.reading else None
    if second is not None:
        if label:
            m = match_label(second, (label,))
            second = m.rest(second) if m else second.partition(":")[2] or second
        second = clean_value(second)
    value = cell.value if label is None else None
    return RawValue(text, cell.location, value, cell.has_image and label is None, cell.source, cell.reading, second)


def _header_value(anchor: _Anchor, seg: _Seg, span: list[_Seg]) -> RawValue:
    if anchor.rest:
        return _cell_value(seg.cell, anchor.rest, anchor.label)
    for nxt in span:
        if nxt.line_no == seg.line_no or (nxt.line_no == seg.line_no + 1 and nxt.cell_no == 0):
            if not nxt.cell.is_blank:
                return _cell_value(nxt.cell, clean_value(nxt.cell.text))
        else:
            break
    return RawValue("", seg.cell.location)


def _text_value(anchor: _Anchor, seg: _Seg, span: list[_Seg]) -> RawValue:
    parts = [anchor.rest] if anchor.rest else []
    location = seg.cell.location
    first = seg.cell
    for n, nxt in enumerate(span):
        text = clean_value(nxt.cell.text)
        if n == 0 and not parts and anchor.prompt:
            # the template's question printed on its own line after the heading (a scan's lines)
            after = match_label(text, (anchor.prompt,))
            if after:
                text = after.rest(text)
            elif nxt.cell.source == "ocr" and (end := misread_prefix_end(text, anchor.prompt)) is not None:
                text = clean_value(text[end:])
        if text:
            if not parts:
                location, first = nxt.cell.location, nxt.cell
            parts.append(text)
    # free text is not read twice: where it came from (and the first spot's picture) is kept
    return RawValue("\n".join(parts), location, source=first.source, reading=first.reading)


# ---------------------------------------------------------------- voucher table


def _column_of(spec: FormSpec, text: str) -> str | None:
    for column in spec.columns:
        if same_text(text, column.labels):
            return column.name
    return None


def _is_total(spec: FormSpec, text: str) -> str | None:
    """The rest of the text if it starts with a total label, else None."""
    m = match_label(text, spec.total_labels)
    if m and m.exact_end:
        return m.rest(text)
    return None


def _total_label(spec: FormSpec, text: str) -> str | None:
    m = match_label(text, spec.total_labels)
    return m.label if m else None


def _extract_table(spec: FormSpec, lines: list[Line], form: RawForm) -> int:
    """Fill form.rows and form.total; return the line number of the header row (or len(lines))."""
    header_no = None
    columns: dict[int, str] = {}
    for line_no, line in enumerate(lines):
        if line.kind != "row":
            continue
        found = {c.col: _column_of(spec, c.text) for c in line.cells}
        found = {col: name for col, name in found.items() if name}
        if len(set(found.values())) >= MIN_HEADER_COLUMNS:
            header_no, columns = line_no, found
            break
    if header_no is None:
        return len(lines)

    cols_sorted = sorted(columns)

    def column_for(col: int) -> str | None:
        if col in columns:
            return columns[col]
        left = [c for c in cols_sorted if c <= col]
        return columns[left[-1]] if left else None

    table = lines[header_no].table
    text_between = False
    for line in lines[header_no + 1 :]:
        if line.kind == "paragraph":
            text = line.text.strip()
            if not text:
                continue
            rest = _is_total(spec, text)
            if rest is not None:
                form.total = _cell_value(line.cells[0], rest, _total_label(spec, text))
                break
            text_between = True
            continue
        if line.table != table:
            if text_between:
                break  # another table after the voucher table has ended
            table = line.table  # the table continues (a page break, or a second sheet block)
        texts = [c.text for c in line.cells]
        if sum(1 for t in texts if _column_of(spec, t)) >= MIN_HEADER_COLUMNS:
            continue  # the header repeated on a new page
        total_cell = next((c for c in line.cells if _is_total(spec, c.text) is not None), None)
        if total_cell is not None:
            amount = next((c for c in line.cells if column_for(c.col) == "amount" and c is not total_cell), None)
            if amount is None:
                rest = _is_total(spec, total_cell.text)
                form.total = _cell_value(total_cell, rest or "", _total_label(spec, total_cell.text))
            else:
                form.total = _cell_value(amount, amount.text)
            break
        cells: dict[str, RawValue] = {}
        for c in line.cells:
            name = column_for(c.col)
            if name and name not in cells:
                cells[name] = _cell_value(c, c.text.strip())
        if any(not v.is_blank for v in cells.values()):
            first = line.cells[0].location
            blank_places = {
                name: place
                for col, name in sorted(columns.items(), reverse=True)  # a merged heading: its first column wins
                if name not in cells and (place := first.in_column(col)) is not None
            }
            form.rows.append(RawRow(len(form.rows) + 1, cells, line.location, blank_places))
    return header_no


# ---------------------------------------------------------------- the whole form


def extract(doc: Document, spec: FormSpec) -> RawForm:
    form = RawForm(spec.form_type)
    lines = doc.lines
    stop_line = _extract_table(spec, lines, form) if spec.columns else len(lines)
    segs = _segments(lines)
    stop = next((i for i, s in enumerate(segs) if s.line_no >= stop_line), len(segs))

    likert_grid = _grid_headers(lines, spec.likert_options) if spec.likert_options else {}
    grid_lines = {ln for rows in likert_grid.values() for ln, _ in rows}
    anchors = _find_anchors(spec, segs, grid_lines, stop)
    questions = {q.name: q for q in spec.questions}
    current_principle: str | None = None

    for k, anchor in enumerate(anchors):
        seg = segs[anchor.seg]
        span = _span(segs, anchors, k, stop)
        if anchor.kind == "header" and anchor.name not in form.fields:
            form.fields[anchor.name] = _header_value(anchor, seg, span)
        elif anchor.kind == "section" and anchor.name not in form.fields:
            form.fields[anchor.name] = _text_value(anchor, seg, span)
        elif anchor.kind == "principle":
            current_principle = anchor.name
        elif anchor.kind == "feedback" and current_principle:
            key = f"feedback.{current_principle}"
            if key not in form.fields:
                form.fields[key] = _text_value(anchor, seg, span)
        elif anchor.kind == "statement":
            current_principle = anchor.name.split(".")[0]
            reader = _TickReader(spec.likert_options, likert_grid)
            _add_choice(form, anchor, seg, span, reader)
        elif anchor.kind == "question":
            question = questions[anchor.name]
            options = spec.question_options(question)
            reader = _TickReader(options, _grid_headers(lines, options))
            _add_choice(form, anchor, seg, span, reader)
    _note_ocr(doc, form)
    return form


def _note_ocr(doc: Document, form: RawForm) -> None:
    """Whether any of the form was read from a picture, and the marks its reader could not decide."""
    for line in doc.lines:
        for cell in line.cells:
            if cell.source == "ocr":
                form.read_by_ocr = True
                if cell.reading is not None and cell.reading.unsure:
                    form.unsure_marks.append(_cell_value(cell, cell.text))


def _add_choice(form: RawForm, anchor: _Anchor, seg: _Seg, span: list[_Seg], reader: _TickReader) -> None:
    # the anchor's own cell may carry options after the label ("Age ☐ 18-24 ☒ 25-34")
    items = ([(seg, anchor.rest)] if anchor.rest else []) + [(s, s.cell.text) for s in span]
    ticks, seen, unboxed, disputed = reader.read(items)
    choice = form.choices.setdefault(anchor.name, RawChoice(location=seg.cell.location))
    choice.ticks.extend(ticks)
    choice.options_seen += seen
    choice.unboxed.extend(unboxed)
    choice.disputed.extend(disputed)
