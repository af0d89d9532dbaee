"""The review desk in Chromium: signing in with the keyboard, and axe-core over each page."""

from __future__ import annotations

import pytest

from tests.web.browser import chromium, needs_chromium, serious_violations, serving, sign_in
from tests.web.conftest import PASSWORD

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


def test_the_sign_in_page_has_no_serious_accessibility_problem(web_app, browser):
    with serving(web_app) as base_url:
        page = browser.new_page()
        page.goto(f"{base_url}/login")
        assert serious_violations(page) == []


def test_a_viewer_signs_in_with_the_keyboard_and_reaches_the_summary(web_app, browser):
    with serving(web_app) as base_url:
        page = browser.new_page()
        sign_in(page, base_url, "viewer-user", PASSWORD)
        assert page.url.endswith("/summary")
