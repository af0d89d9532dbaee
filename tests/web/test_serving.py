"""`coforms web` behind the council's reverse proxy: the client's address comes from the
X-Forwarded-For header of a trusted proxy only (sign-in throttling counts failures per address)."""

from __future__ import annotations

import httpx
import pytest

from pipeline.web.app import accounts_for, create_app
from pipeline.web.signin import ATTEMPT_WINDOW_SECONDS
from tests.web.browser import serving
from tests.web.conftest import csrf_of


def _failed_sign_in(base_url: str, forwarded_for: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        token = csrf_of(client.get("/login").text)
        answer = client.post(
            "/login",
            data={"csrf": token, "name": "admin-user", "password": "not the password"},
            headers={"X-Forwarded-For": forwarded_for},
        )
        assert answer.status_code == 400


@pytest.mark.parametrize(
    ("trusted_proxies", "counted_as"),
    [(["127.0.0.1"], "203.0.113.7"), (["10.0.0.0/8"], "127.0.0.1"), ([], "127.0.0.1")],
    ids=["from-a-trusted-proxy", "from-an-untrusted-address", "no-proxy-trusted"],
)
def test_the_client_address_comes_from_a_trusted_proxy_only(web_settings, trusted_proxies, counted_as):
    settings = web_settings.model_copy(update={"web_trusted_proxies": trusted_proxies, "web_secure_cookies": False})
    with serving(create_app(settings), settings) as base_url:
        _failed_sign_in(base_url, "203.0.113.7")
    accounts = accounts_for(settings)
    assert accounts.failed_attempts(f"address:{counted_as}", ATTEMPT_WINDOW_SECONDS) == 1
    other = "127.0.0.1" if counted_as != "127.0.0.1" else "203.0.113.7"
    assert accounts.failed_attempts(f"address:{other}", ATTEMPT_WINDOW_SECONDS) == 0
