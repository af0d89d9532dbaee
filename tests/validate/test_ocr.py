"""Values read from a picture are trusted only when checked (pipeline.validate.ocr).

The Documents here are built as the scan reader builds them (every cell `source="ocr"` with both
engines' readings), so each rule is tested on exactly the readings it must catch; the reader
itself is tested on real scans in tests/read/scan and tests/test_golden_scans.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.document import HANDWRITTEN, TICKED, UNTICKED, Cell, Document, Line, Location, Reading
from pipeline.forms.extract import extract
from pipeline.forms.spec import all_specs
from pipeline.problems import ProblemCode, Severity
from pipeline.validate.form import validate_form

HEADER = ("Name", "Date", "Activity", "Time Spent", "Voucher Amount Received", "Signed by recipient")
LINES = [
    ("Grace Adeyemi", "06/05/2025", "Workshop 1", "2 hours", "£20.00", ""),
    ("Peter Novak", "06/05/2025", "Workshop 1", "90 mins", "£15.00", ""),
]


def _ocr_cell(text: str, loc: Location, *, second: str | None = None, **reading) -> Cell:
    crop = f"p1-t{loc.table}-r{loc.row}-c{loc.col}.png" if loc.table else f"p1-l{loc.paragraph}.png"
    has_image = reading.pop("has_image", False)
    return Cell(
        text,
        loc,
        loc.col or 0,
        has_image=has_image,
        source="ocr",
        reading=Reading("rapidocr", text, "tesseract", text if second is None else second, crop, **reading),
    )


def _voucher_scan(
    lines=LINES, total: str | None = "£35.00", seconds: dict | None = None, signed=(True, True), marks=None
) -> Document:
    """A scanned voucher sheet: `seconds` maps (row, col) to what the second engine read instead."""
    seconds = seconds or {}
    doc = Document(format="scan")
    title = "Co-production Attendance and Voucher Collection"
    doc.lines.append(Line("paragraph", (_ocr_cell(title, Location(page=1, paragraph=1)),)))
    rows = [HEADER, *lines] + ([("Total", "", "", "", total, "")] if total is not None else [])
    for r, values in enumerate(rows, start=1):
        cells = []
        for c, text in enumerate(values, start=1):
            loc = Location(page=1, table=1, row=r, col=c)
            is_signature = c == 6 and 1 < r <= len(lines) + 1
            if is_signature and signed[r - 2]:
                cell = _ocr_cell(HANDWRITTEN, loc, handwritten=True, has_image=True)
            else:
                cell = _ocr_cell(text, loc, second=seconds.get((r, c)), **(marks or {}).get((r, c), {}))
            cells.append(cell)
        doc.lines.append(Line("row", tuple(cells), 1))
    return doc


def _validate(doc: Document, ctx):
    spec = all_specs()["voucher"]
    return validate_form(extract(doc, spec), spec, ctx, "ocr-crops/0123456789abcdef")


def _codes(validated) -> list[tuple[str, str | None]]:
    return sorted((p.code.value, p.field) for p in validated.problems)


def test_a_scan_whose_two_readings_agree_and_add_up_loads_with_the_ocr_read_warning(ctx):
    validated = _validate(_voucher_scan(), ctx)
    assert _codes(validated) == [("ocr_read", None)]
    assert [line.amount for line in validated.model.lines] == [Decimal("20.00"), Decimal("15.00")]
    assert all(line.signed for line in validated.model.lines)
    (warning,) = validated.problems
    assert warning.severity is Severity.WARNING and warning.location == "document"
    assert validated.readings["lines.1.amount"] == "rapidocr: '£20.00'; tesseract: '£20.00'"
    assert validated.crops == set()


def test_an_amount_the_second_reading_disagrees_with_holds_the_form_naming_cell_readings_and_picture(ctx):
    # row 3 of the table is the sheet's line 2; column 5 its amount: the second engine saw £16.00
    validated = _validate(_voucher_scan(seconds={(3, 5): "£16.00"}, total="£35.00"), ctx)
    held = [p for p in validated.problems if p.code is ProblemCode.OCR_UNCONFIRMED]
    assert [p.field for p in held] == ["lines.2.amount"]
    problem = held[0]
    assert problem.severity is Severity.ERROR
    assert "Row 2, voucher amount received" in problem.message
    assert "'£15.00'" in problem.message and "'£16.00'" in problem.message
    assert "ocr-crops/0123456789abcdef/p1-t1-r3-c5.png" in problem.message
    assert problem.location == "page 1, table 1, row 3, column 5"
    assert validated.crops == {"p1-t1-r3-c5.png"}


def test_readings_that_differ_only_in_how_they_are_written_agree(ctx):
    seconds = {(2, 5): "20.00", (2, 2): "6/5/2025", (2, 4): "2hrs", (3, 4): "1:30"}
    assert _codes(_validate(_voucher_scan(seconds=seconds), ctx)) == [("ocr_read", None)]


def test_a_second_reading_that_does_not_parse_holds_the_value(ctx):
    validated = _validate(_voucher_scan(seconds={(2, 2): "O6/O5/2O2S"}), ctx)
    assert ("ocr_unconfirmed", "lines.1.date") in _codes(validated)


def test_a_wrong_amount_both_engines_agree_on_is_still_caught_by_the_total(ctx):
    lines = [LINES[0], (*LINES[1][:4], "£18.00", "")]  # both engines misread £15.00 as £18.00
    codes = _codes(_validate(_voucher_scan(lines=lines, total="£35.00"), ctx))
    assert ("total_mismatch", "total") in codes


def test_a_total_the_engines_disagree_on_holds_the_form(ctx):
    codes = _codes(_validate(_voucher_scan(seconds={(4, 5): "£36.00"}), ctx))
    assert ("ocr_unconfirmed", "total") in codes


def test_a_mark_the_reader_was_unsure_of_holds_the_form_never_guessed(ctx):
    marks = {(3, 6): {"unsure": True}}
    validated = _validate(_voucher_scan(signed=(True, False), marks=marks), ctx)
    held = [p for p in validated.problems if p.code is ProblemCode.OCR_UNCONFIRMED]
    assert len(held) == 1 and "faint or unclear" in held[0].message
    assert held[0].location == "page 1, table 1, row 3, column 6"
    assert validated.crops == {"p1-t1-r3-c6.png"}


def test_a_handwritten_name_nobody_could_read_is_held_for_keying_in(ctx):
    doc = _voucher_scan()
    row = doc.lines[2]
    unreadable = _ocr_cell(HANDWRITTEN, row.cells[0].location, handwritten=True, has_image=True)
    doc.lines[2] = Line("row", (unreadable, *row.cells[1:]), 1)
    validated = _validate(doc, ctx)
    held = [p for p in validated.problems if p.code is ProblemCode.OCR_UNCONFIRMED]
    assert [p.field for p in held] == ["lines.1.name"] and "key it in" in held[0].message


def test_a_signature_is_handwriting_that_needs_no_reading(ctx):
    validated = _validate(_voucher_scan(signed=(True, False)), ctx)
    assert _codes(validated) == [("ocr_read", None), ("unsigned", "lines.2.signed")]


def test_absent_written_in_the_signature_box_is_not_a_signature_though_it_is_ink(ctx):
    doc = _voucher_scan(signed=(True, False))
    row = doc.lines[3]
    absent = _ocr_cell("absent", row.cells[5].location, has_image=True)
    doc.lines[3] = Line("row", (*row.cells[:5], absent), 1)
    assert ("unsigned", "lines.2.signed") in _codes(_validate(doc, ctx))


def test_handwritten_free_text_is_kept_as_such_and_loaded(ctx):
    spec = all_specs()["evaluation"]
    doc = Document(format="scan")
    texts = [
        "Project Evaluation Template for Adult Social Care",
        "Project/Service Name: Carers Week",
        "Date: 12/05/2025",
        "What's worked well?",
        HANDWRITTEN,
        "1. Relationships",
        "1. We have built trusting and respectful relationships within the co-production group",
        f"{UNTICKED} Strongly Disagree",
        f"{TICKED} Agree",
    ]
    for n, text in enumerate(texts, start=1):
        handwritten = text == HANDWRITTEN
        doc.lines.append(Line("paragraph", (_ocr_cell(text, Location(page=1, paragraph=n), handwritten=handwritten),)))
    validated = validate_form(extract(doc, spec), spec, ctx)
    assert validated.model.what_worked_well == HANDWRITTEN
    assert validated.model.statements["relationships.1"].answer == "Agree"
    assert not [p for p in validated.problems if p.code is ProblemCode.OCR_UNCONFIRMED]
    assert ("ocr_read", None) in _codes(validated)
    assert validated.readings["date"] == "rapidocr: '12/05/2025'; tesseract: '12/05/2025'"


def test_a_header_date_read_differently_the_second_time_is_held(ctx):
    spec = all_specs()["planning"]
    doc = Document(format="scan")
    doc.lines.append(
        Line(
            "paragraph",
            (_ocr_cell("Co-production and Engagement Project Planning Template", Location(page=1, paragraph=1)),),
        )
    )
    doc.lines.append(
        Line("paragraph", (_ocr_cell("Date: 12/05/2025", Location(page=1, paragraph=2), second="Date: 12/06/2025"),))
    )
    validated = validate_form(extract(doc, spec), spec, ctx, "ocr-crops/x")
    held = [p for p in validated.problems if p.code is ProblemCode.OCR_UNCONFIRMED]
    assert [p.field for p in held] == ["date"]
    assert "'12/05/2025'" in held[0].message and "'12/06/2025'" in held[0].message


def test_a_typed_form_has_no_ocr_problems(ctx):
    doc = _voucher_scan()
    doc.lines = [
        Line(line.kind, tuple(Cell(c.text, c.location, c.col) for c in line.cells), line.table) for line in doc.lines
    ]
    validated = _validate(doc, ctx)
    assert not [p for p in validated.problems if p.code in (ProblemCode.OCR_READ, ProblemCode.OCR_UNCONFIRMED)]
    assert validated.readings == {}


def test_a_name_the_second_reading_spells_differently_is_held(ctx):
    validated = _validate(_voucher_scan(seconds={(3, 1): "Peter Nowak"}), ctx)
    held = [p for p in validated.problems if p.code is ProblemCode.OCR_UNCONFIRMED]
    assert [p.field for p in held] == ["lines.2.name"]
    assert "'Peter Novak'" in held[0].message and "'Peter Nowak'" in held[0].message


def test_a_name_split_by_one_reading_takes_the_other_readings_spacing(ctx):
    lines = [("Eleni Papadopoul os", *LINES[0][1:]), LINES[1]]
    validated = _validate(_voucher_scan(lines=lines, seconds={(2, 1): "Eleni Papadopoulos"}), ctx)
    assert _codes(validated) == [("ocr_read", None)]
    assert validated.model.lines[0].name == "Eleni Papadopoulos"


def test_a_speck_read_beside_an_amount_is_dropped_when_the_second_reading_has_none(ctx):
    lines = [(*LINES[0][:4], ".£20.00", ""), LINES[1]]
    validated = _validate(_voucher_scan(lines=lines, seconds={(2, 5): "£20.00"}), ctx)
    assert _codes(validated) == [("ocr_read", None)]
    assert validated.model.lines[0].amount == Decimal("20.00")


def test_a_point_before_pence_and_a_minus_sign_are_never_taken_for_specks(ctx):
    lines = [(*LINES[0][:4], ".50", ""), (*LINES[1][:4], "-15.00", "")]
    validated = _validate(_voucher_scan(lines=lines, total=None, seconds={(2, 5): "50", (3, 5): "15.00"}), ctx)
    codes = _codes(validated)
    assert ("ocr_unconfirmed", "lines.1.amount") in codes  # 50p or £50? held, not guessed
    assert ("invalid_amount", "lines.2.amount") in codes  # a negative amount stays invalid
    assert validated.model.lines[1].amount is None


def test_names_both_engines_read_alike_but_for_letters_they_often_confuse_agree(ctx):
    seconds = {(2, 1): "Grace Adeyeml", (3, 1): "Peter Novak."}
    assert _codes(_validate(_voucher_scan(seconds=seconds), ctx)) == [("ocr_read", None)]


def test_a_digit_read_inside_a_word_is_not_a_letter_the_engines_confuse(ctx):
    lines = [(*LINES[0][:2], "Focus grou0", *LINES[0][3:]), LINES[1]]
    validated = _validate(_voucher_scan(lines=lines, seconds={(2, 3): "Focus crou)"}), ctx)
    assert ("ocr_unconfirmed", "lines.1.activity") in _codes(validated)


def test_a_name_nearly_the_same_as_another_on_the_sheet_is_held_as_a_misreading(ctx):
    lines = [
        LINES[0],
        ("Tomasz Wojcik", *LINES[1][1:]),
        ("Tomasz Wocik", *LINES[1][1:]),
        ("Tomasz Wojcik", *LINES[0][1:]),
    ]
    validated = _validate(_voucher_scan(lines=lines, total=None, signed=(True,) * 4), ctx)
    held = [p for p in validated.problems if p.code is ProblemCode.OCR_UNCONFIRMED]
    assert [p.field for p in held] == ["lines.3.name"]
    assert "'Tomasz Wocik'" in held[0].message and "'Tomasz Wojcik' (row 2, 4)" in held[0].message


def test_different_residents_with_alike_names_are_not_held(ctx):
    lines = [("Mei Chen", *LINES[0][1:]), ("David Levy", *LINES[1][1:]), ("Grace Adeyemi", *LINES[1][1:])]
    assert not [
        p
        for p in _validate(_voucher_scan(lines=lines, total=None, signed=(True,) * 3), ctx).problems
        if p.code is ProblemCode.OCR_UNCONFIRMED
    ]


def _evaluation_scan(options: list[str], ctx):
    """A scanned evaluation's first statement, its options read as `options`, validated."""
    spec = all_specs()["evaluation"]
    doc = Document(format="scan")
    texts = [
        "Project Evaluation Template for Adult Social Care",
        "Project/Service Name: Carers Week",
        "Date: 12/05/2025",
        "1. Relationships",
        "1. We have built trusting and respectful relationships within the co-production group",
        *options,
    ]
    for n, text in enumerate(texts, start=1):
        doc.lines.append(Line("paragraph", (_ocr_cell(text, Location(page=1, paragraph=n)),)))
    return validate_form(extract(doc, spec), spec, ctx)


def test_an_option_whose_tick_box_the_reader_did_not_find_holds_the_question(ctx):
    options = [
        f"{UNTICKED} Strongly Disagree",
        f"{UNTICKED} Disagree",
        "Neither Agree nor Disagree (Neutral)",  # its box was not found: ticked or not, nobody knows
        f"{UNTICKED} Agree",
        f"{UNTICKED} Strongly Agree",
    ]
    validated = _evaluation_scan(options, ctx)
    held = [p for p in validated.problems if p.code is ProblemCode.OCR_UNCONFIRMED]
    assert [p.field for p in held] == ["relationships.1"]
    assert "'Neither Agree nor Disagree (Neutral)'" in held[0].message
    assert validated.model.statements["relationships.1"].answer is None  # never taken as the answer


def test_a_question_with_no_box_ticked_on_a_scan_is_held_not_loaded_as_unanswered(ctx):
    options = ("Strongly Disagree", "Disagree", "Neither Agree nor Disagree (Neutral)", "Agree", "Strongly Agree")
    validated = _evaluation_scan([f"{UNTICKED} {o}" for o in options], ctx)  # a circle round "Agree" is not read
    held = [p for p in validated.problems if p.code is ProblemCode.OCR_UNCONFIRMED]
    assert [p.field for p in held] == ["relationships.1"] and "no box is ticked on the scan" in held[0].message


@pytest.mark.parametrize(
    "primary, second, held",
    [
        ("Steering group", "Steering aroup", False),  # a letter misread by the second engine
        ("Reading group", "Reading group i", False),  # a speck read as a letter of its own
        ("Focus grou0", "Focus crou)", True),  # the first reading has a digit inside a word
        ("Workshop 2", "Workshop 3", True),  # numbers must agree
        ("Workshop", "Workshop A", True),  # a word more is another activity
        ("Reading group", "Steering group", True),
    ],
)
def test_an_activity_agrees_when_the_readings_are_close_and_a_name_only_when_alike(ctx, primary, second, held):
    lines = [(LINES[0][0], LINES[0][1], primary, *LINES[0][3:]), LINES[1]]
    activity = _codes(_validate(_voucher_scan(lines=lines, seconds={(2, 3): second}), ctx))
    assert (("ocr_unconfirmed", "lines.1.activity") in activity) is held
    names = [(primary, *LINES[0][1:]), LINES[1]]
    name = _codes(_validate(_voucher_scan(lines=names, seconds={(2, 1): second}), ctx))
    assert ("ocr_unconfirmed", "lines.1.name") in name  # a name must be spelt alike by both
