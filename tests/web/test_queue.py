"""The queue: open problems grouped by form, newest first, with counts; filters narrow it in SQL
and a value that is not valid is left out with a message; files not read as forms apart."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest

from pipeline.store.warehouse import Warehouse
from pipeline.web.reads import QueueFilter, open_queue
from tests.web.conftest import signed_in
from tests.web.review_forms import review_app, review_outputs, submission_of


@pytest.fixture(scope="module")
def admin():
    return signed_in(review_app(), "admin-user")


def _form_links(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a class="govuk-link" href="/forms/(\d+)">', html)]


def test_the_queue_lists_the_held_forms_with_their_problems_and_counts(admin):
    page = admin.get("/queue")
    assert page.status_code == 200
    held = submission_of("Vouchers workshop 3.docx")
    assert f'href="/forms/{held}"' in page.text
    assert "Row 1: Voucher Amount Received: &#39;£ten&#39; is not an amount of money in pounds." in page.text
    # where in words, as on the form
    assert "voucher table, row 1, Voucher Amount Received" in page.text
    # 4 forms (docx, xlsx, pdf held; the scan loaded with warnings); 4 + 1 + 4 + 2 problems
    assert re.search(r"<strong>4</strong> forms with open problems,\s*<strong>11</strong> problems", page.text)
    assert re.search(r"A voucher amount is above the usual limit for one line\.</a></td>\s*<td[^>]*>2</td>", page.text)


def test_the_newest_form_comes_first(admin):
    links = _form_links(admin.get("/queue").text.split('id="not-read"')[0])
    expected = [
        submission_of(name) for name in ("Vouchers workshop 3.docx", "Vouchers printed.pdf", "Vouchers May.xlsx")
    ]
    assert links[:3] == expected


def test_files_not_read_as_forms_are_apart_from_the_forms(admin):
    page = admin.get("/queue").text
    forms, not_read = page.split('id="not-read"')
    notes = submission_of("Meeting notes.docx")
    assert f'href="/forms/{notes}"' in not_read and f'href="/forms/{notes}"' not in forms


def test_filters_narrow_the_queue(admin):
    by_code = admin.get("/queue", params={"code": "total_mismatch"}).text
    assert _form_links(by_code.split('id="not-read"')[0]) == [submission_of("Vouchers May.xlsx")]
    assert re.search(r"<strong>1</strong> form with open problems,\s*<strong>1</strong> problem ", by_code)
    by_form = admin.get("/queue", params={"form_type": "planning"}).text
    assert "No form with open problems matches these filters." in by_form
    by_sender = admin.get("/queue", params={"sender": "someone@example.org"}).text
    assert "No form with open problems matches these filters." in by_sender
    # arrivals at noon: the xlsx on 5 November 2025, the pdf on the 6th, the docx on the 7th
    by_date = admin.get("/queue", params={"received_from": "6/11/2025", "received_to": "2025-11-06"}).text
    assert _form_links(by_date.split('id="not-read"')[0]) == [submission_of("Vouchers printed.pdf")]


def test_a_filter_value_that_is_not_valid_is_left_out_with_a_message(admin):
    page = admin.get("/queue", params={"code": "no_such_problem", "received_from": "31/02/2025", "form_type": "x"})
    assert page.status_code == 200
    assert "There is no problem called “no_such_problem”: the problem filter was left out." in page.text
    assert "“31/02/2025” is not a date" in page.text
    assert "There is no form called “x”" in page.text
    assert re.search(r"<strong>4</strong> forms with open problems", page.text)  # nothing filtered


def test_a_sender_filter_is_part_of_the_address_as_text_not_a_pattern(tmp_path):
    shutil.copyfile(review_outputs() / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    with Warehouse(tmp_path / "warehouse.duckdb") as warehouse:
        with warehouse.transaction():
            warehouse.execute(
                "UPDATE store.submissions SET sender = 'Lead_Officer@Camden.example' WHERE submission_id = :sid",
                sid=submission_of("Vouchers May.xlsx"),
            )
        assert [f.submission_id for f in open_queue(warehouse, QueueFilter(sender="camden")).forms] == [
            submission_of("Vouchers May.xlsx")
        ]
        assert open_queue(warehouse, QueueFilter(sender="lead_officer")).form_count == 1
        assert open_queue(warehouse, QueueFilter(sender="lead%officer")).form_count == 0  # % is a character here
        assert open_queue(warehouse, QueueFilter(sender="leadXofficer")).form_count == 0  # and so is _


def test_the_queue_is_paged():
    with Warehouse(review_outputs() / "warehouse.duckdb", read_only=True) as warehouse:
        first = open_queue(warehouse, QueueFilter(), page=1, page_size=3)
        second = open_queue(warehouse, QueueFilter(), page=2, page_size=3)
        beyond = open_queue(warehouse, QueueFilter(), page=9, page_size=3)
    assert (first.pages, len(first.forms), len(second.forms)) == (2, 3, 1)
    assert {f.submission_id for f in first.forms}.isdisjoint(f.submission_id for f in second.forms)
    assert beyond.page == 2  # a page past the last shows the last
    assert first.form_count == second.form_count == 4


def test_only_admins_see_the_queue():
    app = review_app()
    assert signed_in(app, "finance-user").get("/queue").status_code == 403
    assert signed_in(app, "viewer-user").get("/queue").status_code == 403


def test_the_queue_and_a_form_read_the_same_on_postgresql(postgres_database, tmp_path):
    from pipeline.runtime.run import run_pipeline
    from pipeline.settings import Settings
    from pipeline.web.reads import form_version, stored_form
    from tests.web.review_forms import FILES

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for source, name, _day in FILES:
        if not name.endswith(".png"):  # no scan: OCR is not what this is about
            shutil.copyfile(source, inbox / name)
    settings = Settings(inbox=inbox, outputs=tmp_path / "outputs", settle_seconds=0, warehouse_url=postgres_database)
    run_pipeline(settings)
    with Warehouse(postgres_database, read_only=True) as warehouse:
        queue = open_queue(warehouse, QueueFilter())
        assert (queue.form_count, queue.problem_count, queue.not_read_count) == (3, 9, 1)
        assert open_queue(warehouse, QueueFilter(code="total_mismatch")).form_count == 1
        assert open_queue(warehouse, QueueFilter(sender="a%b")).form_count == 0
        wide = QueueFilter(received_from=dt.date(2000, 1, 1), received_to=dt.date(2200, 1, 1), form_type="voucher")
        assert open_queue(warehouse, wide, page_size=2).pages == 2
        held = queue.forms[0].submission_id
        form = stored_form(warehouse, held)
        assert form.lines and form.open_problems and form.places
        assert form_version(warehouse, held) == form_version(warehouse, held)
