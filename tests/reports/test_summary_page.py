"""summary.html: one self-contained page, checked as a reader sees it, in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from PIL import Image
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.reports.summary_page import GROUP_LABELS, PageData, build_page, page_data
from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse
from tests.conftest import copy_samples

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("summary")
    copy_samples(workdir / "inbox")
    result = CliRunner().invoke(app, ["run", "--inbox", str(workdir / "inbox"), "--outputs", str(workdir / "out")])
    assert result.exit_code == 0, result.output
    return workdir / "out" / "summary.html"


def _chromium(page, *args: str, cwd) -> subprocess.CompletedProcess:
    profile = cwd / "profile"
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            # the page must show everything with the network cut off
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_the_page_needs_nothing_from_a_network(page):
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "@import" not in html
    fetched = re.findall(r"""(?:src|href)\s*=\s*["']([^"'#][^"']*)""", html)
    assert fetched == [], fetched  # only in-page references (#id) are allowed


@needs_chromium
def test_chromium_shows_every_section_with_its_figures(page, tmp_path):
    dom = _chromium(page, "--dump-dom", cwd=tmp_path).stdout
    for heading in (
        "Evaluation: how each principle was scored",
        "Good Life Camden themes",
        "Vouchers claimed by month",
        "Who takes part, and who is missing",
        "Open exceptions by problem",
    ):
        assert heading in dom
    # four charts: the sample's three monitoring forms are fewer than 5, so 'Who takes part' shows no chart
    assert dom.count("<svg") == 4 and "Fewer than 5 monitoring forms are loaded" in dom
    assert "£153.00 to 7 people" in dom  # the sample inbox's loaded vouchers, £82.50 of them scanned
    assert "<td>2025-05</td><td>£70.50</td>" in dom and "<td>2025-09</td><td>£82.50</td>" in dom


@needs_chromium
def test_chromium_draws_the_charts(page, tmp_path):
    shot = tmp_path / "page.png"
    _chromium(page, "--window-size=1200,4200", "--hide-scrollbars", f"--screenshot={shot}", cwd=tmp_path)
    image = Image.open(shot).convert("RGB")
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 20)}

    def pixels(rgb: tuple[int, int, int]) -> int:
        return next((n for n, colour in image.getcolors(maxcolors=1 << 20) if colour == rgb), 0)

    assert (0x1F, 0x4E, 0x78) in colours and pixels((0x1F, 0x4E, 0x78)) > 20_000  # the bars
    for score_colour in ((0xB2, 0x18, 0x2B), (0x21, 0x66, 0xAC)):  # strongly disagree / agree segments
        assert pixels(score_colour) > 1_000


def _participation(html: str) -> dict[str, list[str]]:
    """The figures of 'Who takes part', by group, as the page's table shows them."""
    import lxml.html

    section = next(sec for sec in lxml.html.fromstring(html).iter("section") if "Who takes part" in sec.findtext("h2"))
    rows = [[td.text_content() for td in tr.iter("td")] for tr in section.iter("tr")]
    return {row[0]: row[1:] for row in rows if row}


def test_no_count_of_fewer_than_five_people_is_shown_from_the_monitoring_forms(page):
    html = page.read_text(encoding="utf-8")
    # the sample inbox's three monitoring forms, one of them Roma (was "1 of 3, 33.3%"): with fewer
    # forms than the threshold, even "fewer than 5 of fewer than 5" says too much, so nothing is shown
    assert _participation(html) == {}
    section = next(part for part in html.split("<section>") if "Who takes part" in part)
    assert "Fewer than 5 monitoring forms are loaded" in section
    assert "33.3%" not in html and "66.7%" not in html and "<svg" not in section


def test_a_question_fewer_than_five_answered_shows_no_count_not_even_a_zero():
    # ten forms, three answered the dementia question, none of them living with dementia: "0 of fewer
    # than 5" would say that of each of the three
    page = build_page(_page_data({"dementia": (3, 0), "carer_flag": (10, 5)}, forms=10))
    chart = next(c for c in page.charts if c.title.startswith("Who takes part"))
    rows = {row[0]: row[1:4] for row in chart.rows}
    assert rows["Living with dementia"] == ["not shown", "fewer than 5", "not shown"]
    assert rows["Unpaid carers"] == ["5", "10", "50.0%"]


def _page_data(answers: dict[str, tuple[int, int]], forms: int, threshold: int = 5) -> PageData:
    row = [forms]
    for group in GROUP_LABELS:
        row += answers.get(group, (0, 0))
    return PageData("29/11/2026 09:00", [], [], [], [], tuple(row), [], {}, threshold)


def test_a_count_that_subtraction_would_reveal_is_not_shown_either():
    # 8 of 10 Roma would say that 2 who answered are not: neither count nor the share is shown
    page = build_page(_page_data({"gypsy_roma_traveller": (10, 8), "carer_flag": (10, 5)}, forms=10))
    chart = next(c for c in page.charts if c.title.startswith("Who takes part"))
    rows = {row[0]: row[1:4] for row in chart.rows}
    assert rows["Gypsy, Roma or Traveller"] == ["not shown", "10", "not shown"]
    assert rows["Unpaid carers"] == ["5", "10", "50.0%"]


def test_the_threshold_is_the_setting(page):
    with Warehouse(page.parent / "warehouse.duckdb", read_only=True) as warehouse:
        data = page_data(warehouse, Settings(outputs=page.parent, small_number_threshold=1))
    chart = next(c for c in build_page(data).charts if c.title.startswith("Who takes part"))
    assert {row[0]: row[1:4] for row in chart.rows}["Gypsy, Roma or Traveller"] == ["1", "3", "33.3%"]


def test_vouchers_are_called_claimed_and_paid_only_as_far_as_the_ledger_shows(page, tmp_path):
    html = page.read_text(encoding="utf-8")
    assert "Vouchers claimed (loaded sheets)" in html and "Vouchers claimed by month" in html
    assert "Vouchers paid" not in html and "£ paid" not in html and "Of which paid" not in html  # no ledger here
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("Date,Recipient,Amount\n06/05/2025,Grace Adeyemi,20.00\n", encoding="utf-8")
    with Warehouse(page.parent / "warehouse.duckdb", read_only=True) as warehouse:
        data = page_data(warehouse, Settings(outputs=page.parent, ledger_path=ledger))
    headline = dict(data.headline)
    assert headline["Vouchers claimed (loaded sheets)"] == "£153.00 to 7 people"
    assert headline["Of which paid (finance ledger)"] == "£20.00"


def test_a_file_that_is_not_a_form_is_not_counted_as_a_form_to_correct(page):
    with Warehouse(page.parent / "warehouse.duckdb", read_only=True) as warehouse:
        headline = dict(page_data(warehouse, Settings(outputs=page.parent)).headline)
    # the sample inbox: two held forms and a scan with warnings; "Meeting notes.docx" is not a form
    assert headline["Open exceptions"] == "12 on 2 forms to correct, 1 form to check and 1 file not read as a form"


def test_a_form_with_only_warnings_is_to_check_not_to_correct():
    from pipeline.reports.summary_page import _open_exceptions

    assert _open_exceptions(3, 0, 1, 0) == "3 on 0 forms to correct and 1 form to check"
    assert _open_exceptions(5, 1, 0, 2) == "5 on 1 form to correct and 2 files not read as forms"


def test_the_same_figures_draw_the_same_page():
    # pygal gives each chart a random id and writes today's date in a comment: both are taken out,
    # so that a page only changes when its figures do
    data = PageData(
        "29/11/2026 09:00", [], [("relationships", 4, 3), ("relationships", 5, 1)], [("housing", 2)], [], (0,), [], {}
    )
    first, second = (b"".join(chart.svg.encode() for chart in build_page(data).charts) for _ in range(2))
    assert first == second and b"<!--" not in first and b"chart-evaluation-how-each-principle-was-scored" in first


def test_a_chart_s_value_axis_has_round_steps_past_its_largest_value():
    from pipeline.reports.summary_page import _ticks

    assert _ticks(3, whole=True) == [0, 1, 2, 3, 4]  # counts: whole numbers, never 0.5 of a form
    assert _ticks(82.5, whole=False) == [0, 20, 40, 60, 80, 100]
    assert _ticks(0.5, whole=False) == [0, 0.2, 0.4, 0.6]  # not 0.6000000000000001
    assert _ticks(0, whole=True) == [0, 1]
