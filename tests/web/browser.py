"""The review desk in a real browser: the app served by uvicorn on a free port of 127.0.0.1, and
the system's Chromium driven by Playwright (no browser is downloaded: `executable_path`)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from pipeline.settings import Settings
from pipeline.web.serving import server_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(app, settings: Settings | None = None) -> Iterator[str]:
    """The app served for real (the same ASGI server and configuration as `coforms web`); yields its base URL."""
    port = _free_port()
    settings = (settings or Settings()).model_copy(update={"web_host": "127.0.0.1"})
    server = uvicorn.Server(server_config(app, settings, port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review desk did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: the tests may run as root in a container, where Chromium's sandbox cannot start
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page, base_url: str, name: str, password: str) -> None:
    """Through the sign-in page, with the keyboard, as a person would."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_load_state()


def serious_violations(page) -> list[dict]:
    """axe-core's violations of impact serious or critical on the page as it is now (WCAG 2.2 AA rules)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
    results = Axe().run(page, options=options)
    return [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
