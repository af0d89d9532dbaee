"""The original beside the values: a PDF's page as a picture with the problem's cell boxed where the
value is; Word and Excel as HTML with the problem's cell marked; a scan's page; served to admins
only, found by the submission, never by a path from the request."""

from __future__ import annotations

import io
import re
import shutil

import numpy
import pytest
from PIL import Image

from pipeline.web.originals import MARK_COLOUR, cache_dir, original_of
from tests.web.conftest import signed_in
from tests.web.review_forms import review_app, review_outputs, submission_of


@pytest.fixture(scope="module")
def app():
    return review_app()


@pytest.fixture(scope="module")
def admin(app):
    return signed_in(app, "admin-user")


def _sha256_of(client, sid: int) -> str:
    import duckdb

    con = duckdb.connect(str(review_outputs() / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("SELECT sha256 FROM store.submissions WHERE submission_id = ?", [sid]).fetchone()[0]
    finally:
        con.close()


def _is_mark(pixel) -> bool:
    return all(abs(a - b) < 30 for a, b in zip(pixel[:3], MARK_COLOUR, strict=True))


def test_a_pdf_page_is_a_png_with_the_problem_boxed_where_its_value_is(admin):
    sid = submission_of("Vouchers printed.pdf")
    admin.get(f"/forms/{sid}")  # the page works out the original's rendering
    answer = admin.get(f"/forms/{sid}/original/1.png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    page = Image.open(io.BytesIO(answer.content)).convert("RGB")
    boxes = original_of(review_outputs(), _sha256_of(admin, sid)).boxes
    # '£ten' in row 1 of the lines (the table's row 2), column 5: its cell is boxed, on all four sides
    x0, top, x1, bottom = boxes["page 1, table 1, row 2, column 5"][1:]
    middle_x, middle_y = round((x0 + x1) / 2), round((top + bottom) / 2)
    for x, y in (
        (round(x0) - 1, middle_y),
        (round(x1) + 1, middle_y),
        (middle_x, round(top) - 1),
        (middle_x, round(bottom) + 1),
    ):
        assert _is_mark(page.getpixel((x, y))), (x, y)
    # and the words of the cell are still readable inside the box: dark text, no red over it
    inside = numpy.asarray(page.crop((round(x0) + 4, round(top) + 4, round(x1) - 4, round(bottom) - 4)))
    assert inside.min() < 80
    assert not (numpy.abs(inside.astype(int) - MARK_COLOUR) < 30).all(axis=2).any()
    # a cell without a problem (row 2 of the lines: '20') is not boxed
    x0, top, x1, bottom = boxes["page 1, table 1, row 3, column 5"][1:]
    assert not _is_mark(page.getpixel((round(x0) + 1, round((top + bottom) / 2))))


def test_the_page_of_the_original_shows_where_the_box_is(admin):
    page = admin.get(f"/forms/{submission_of('Vouchers printed.pdf')}").text
    assert re.search(r'<figure class="app-page" id="page-1">\s*<img [^>]*src="/forms/\d+/original/1\.png"', page)
    assert "problems 1, 2, 3, 4 boxed in red and numbered" in page
    assert 'href="#page-1"' in page  # each problem links to its page


def test_an_excel_sheet_is_a_grid_with_the_problem_cell_marked(admin):
    page = admin.get(f"/forms/{submission_of('Vouchers May.xlsx')}").text
    assert re.search(r"<caption[^>]*>Sheet Vouchers</caption>", page)
    cell = re.search(r'<td class="govuk-table__cell app-mark" id="place-1">(.*?)</td>', page, re.S)
    assert cell and "Problem 1" in cell.group(1) and "35.5" in cell.group(1)
    assert re.search(r'<th scope="row" class="govuk-table__header app-sheet__heading">10</th>', page)


def test_a_word_table_cell_is_marked_when_worked_out_and_when_kept(admin):
    sid = submission_of("Vouchers workshop 3.docx")
    shutil.rmtree(cache_dir(review_outputs(), _sha256_of(admin, sid)), ignore_errors=True)
    for _ in ("worked out", "kept"):
        page = admin.get(f"/forms/{sid}").text
        cell = re.search(r'<td class="govuk-table__cell app-mark" id="place-1">(.*?)</td>', page, re.S)
        assert cell and "Problem 1" in cell.group(1) and "£ten" in cell.group(1)
        assert "Project Name: Carers Week Co-design Group" in page  # the paragraphs too, in order


def test_a_file_not_read_as_a_form_is_shown_too(admin):
    page = admin.get(f"/forms/{submission_of('Meeting notes.docx')}").text
    assert 'id="original-heading"' in page and '<div class="app-doc"' in page
    assert "This file was not read as a form" in page


def test_a_scan_is_shown_straightened_with_the_problem_boxed(admin):
    sid = submission_of("Vouchers September (scanned).png")
    assert "/original/1.png" in admin.get(f"/forms/{sid}").text
    answer = admin.get(f"/forms/{sid}/original/1.png")
    assert answer.status_code == 200
    page = Image.open(io.BytesIO(answer.content)).convert("RGB")
    # row 6 of the lines is not signed ('N/A' in the table's row 7, column 6): its cell is boxed
    x0, top, x1, bottom = original_of(review_outputs(), _sha256_of(admin, sid)).boxes[
        "page 1, table 1, row 7, column 6"
    ][1:]
    middle_y = round((top + bottom) / 2)
    assert _is_mark(page.getpixel((round(x0) - 1, middle_y))) and _is_mark(page.getpixel((round(x1) + 1, middle_y)))
    # the name on row 5 of the lines, just above, is not
    x0, top, x1, bottom = original_of(review_outputs(), _sha256_of(admin, sid)).boxes[
        "page 1, table 1, row 6, column 1"
    ][1:]
    assert not _is_mark(page.getpixel((round(x0) + 1, round((top + bottom) / 2))))


def test_the_rendering_is_worked_out_once_and_kept(admin):
    sid = submission_of("Vouchers May.xlsx")
    admin.get(f"/forms/{sid}")
    kept = cache_dir(review_outputs(), _sha256_of(admin, sid)) / "view.json"
    assert kept.is_file()
    kept.write_text(kept.read_text().replace("Vouchers!", "Kept!"))
    try:
        assert "Kept!" in str(original_of(review_outputs(), _sha256_of(admin, sid)).sheets)
    finally:
        kept.unlink()  # worked out again on the next use


def test_originals_are_served_to_admins_only(app):
    sid = submission_of("Vouchers printed.pdf")
    assert signed_in(app, "finance-user").get(f"/forms/{sid}/original/1.png").status_code == 403
    assert signed_in(app, "viewer-user").get(f"/forms/{sid}/original/1.png").status_code == 403


def test_a_page_or_form_that_does_not_exist_is_not_found(admin):
    sid = submission_of("Vouchers printed.pdf")
    assert admin.get(f"/forms/{sid}/original/9.png").status_code == 404
    assert admin.get(f"/forms/{sid}/original/0.png").status_code == 404
    assert admin.get("/forms/987654/original/1.png").status_code == 404


def test_a_picture_of_a_spot_is_served_only_by_a_name_in_its_own_folder(admin):
    sid = submission_of("Vouchers September (scanned).png")
    folder = review_outputs() / "ocr-crops" / _sha256_of(admin, sid)[:16]
    folder.mkdir(parents=True, exist_ok=True)
    picture = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(picture, format="PNG")
    (folder / "lines-3-amount.png").write_bytes(picture.getvalue())
    assert admin.get(f"/forms/{sid}/crop/lines-3-amount.png").content == picture.getvalue()
    for name in ("..%2F..%2Fwarehouse.duckdb", "..%2Fx.png", "missing.png", "lines-3-amount.PNG"):
        assert admin.get(f"/forms/{sid}/crop/{name}").status_code == 404, name
    other = submission_of("Vouchers May.xlsx")  # another form's folder does not hold it
    assert admin.get(f"/forms/{other}/crop/lines-3-amount.png").status_code == 404
