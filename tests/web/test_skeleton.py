"""The review desk's frame: signing in lands each role on its page; every response carries the
security headers; a page needs a session."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.web.conftest import signed_in


def test_each_role_lands_on_its_own_page(web_app):
    for name, home in (("admin-user", "/queue"), ("finance-user", "/finance"), ("viewer-user", "/summary")):
        client = signed_in(web_app, name)
        assert client.get("/").headers["location"] == home


def test_a_page_without_a_session_goes_to_sign_in_and_back(web_app):
    client = TestClient(web_app, base_url="https://testserver", follow_redirects=False)
    answer = client.get("/summary")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=%2Fsummary"


def test_every_response_has_the_security_headers(web_app):
    client = TestClient(web_app, base_url="https://testserver")
    answer = client.get("/login")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["x-content-type-options"] == "nosniff"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
