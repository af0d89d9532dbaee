"""The review desk under test: an app on a temporary outputs folder, with one account per role,
and a client per role signed in through the real sign-in form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pipeline.settings import Settings
from pipeline.web.app import accounts_for, create_app
from pipeline.web.roles import Role

PASSWORD = "correct horse battery staple"


def signed_in(app, name: str, password: str = PASSWORD) -> TestClient:
    # https: the session cookie is Secure, as in production
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = client.post("/login", data={"csrf": token, "name": name, "password": password})
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(page_html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page_html).group(1)


@pytest.fixture
def web_outputs(tmp_path: Path) -> Path:
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    return outputs


@pytest.fixture
def web_settings(web_outputs: Path) -> Settings:
    return Settings(outputs=web_outputs, inbox=web_outputs.parent / "inbox")


@pytest.fixture
def web_app(web_settings: Settings):
    accounts = accounts_for(web_settings)
    for role in Role:
        accounts.add_user(f"{role.value}-user", role, PASSWORD)
    return create_app(web_settings)
