"""summary.html: one self-contained page, checked as a reader sees it, in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from PIL import Image
from typer.testing import CliRunner

from pipeline.cli import app
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
        "Evaluation: how residents scored each principle",
        "Good Life Camden themes",
        "Vouchers paid by month",
        "Who takes part, and who is missing",
        "Open exceptions by problem",
    ):
        assert heading in dom
    assert dom.count("<svg") == 5
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
    assert pixels((0xBD, 0xBD, 0xBD)) > 500  # the borough baseline bars
