"""OCR'd labels are snapped to the specs' own words before identification and extraction."""

from __future__ import annotations

from pipeline.document import Cell, Document, Line, Location, Reading
from pipeline.forms.identify import identify_form
from pipeline.forms.ocr_labels import snap_ocr_labels, snap_text


def _doc(texts: list[str], source: str = "ocr") -> Document:
    doc = Document(format="scan")
    for n, text in enumerate(texts, start=1):
        reading = Reading("rapidocr", text) if source == "ocr" else None
        doc.lines.append(
            Line("paragraph", (Cell(text, Location(page=1, paragraph=n), source=source, reading=reading),))
        )
    return doc


def test_a_label_with_a_misread_letter_becomes_the_label_and_its_value_is_untouched():
    assert snap_text("Projec/Service Narne: Carers Week") == "Project/Service Name: Carers Week"
    assert snap_text("Voucher Amount Recelved") == "Voucher Amount Received"


def test_a_misread_title_is_recognised_as_its_form():
    doc = _doc(["Co-productlon Attendance and Voucher Co11ection", "Completed by: Tom"])
    assert identify_form(doc) is None
    assert identify_form(snap_ocr_labels(doc)) == "voucher"


def test_a_tick_box_stays_in_front_of_its_snapped_option():
    assert snap_ocr_labels(_doc(["☒ Stongly Agree"])).lines[0].text == "☒ Strongly Agree"


def test_short_labels_and_ordinary_words_are_never_snapped():
    for text in ("Dale: 12/05/2025", "Nane", "Grace Adeyemi", "Workshop 1", "Communication was great"):
        assert snap_text(text) == text


def test_text_typed_in_a_file_is_never_changed():
    doc = _doc(["Projec/Service Narne: Carers Week"], source="text")
    assert snap_ocr_labels(doc) is doc


def test_a_label_read_with_a_space_lost_is_snapped():
    assert snap_text("Project/ServiceName: Carers Week") == "Project/Service Name: Carers Week"


def test_a_long_prompt_never_swallows_the_heading_before_it():
    heading_and_prompt = (
        "Resources and Support: What resources will you need for your project? E.g., budget, meeting space, "
        "technology and materials. Are there any training or support needs identified for staff and residents?"
    )
    assert snap_text(heading_and_prompt) == heading_and_prompt
