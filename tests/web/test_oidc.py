"""Single sign-on against a real (local) OpenID Connect provider: the whole round trip, and every
way an answer must be refused (a spoiled ID token, no role, an answer from another browser, a
replayed answer, a name that a password account has)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from pipeline.settings import Settings
from pipeline.web.accounts import SINGLE_SIGN_ON
from pipeline.web.app import accounts_for, create_app
from pipeline.web.middleware import SESSION_COOKIE
from pipeline.web.oidc import FLOW_COOKIE, code_challenge
from pipeline.web.roles import Role
from tests.web.conftest import PASSWORD
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, TAMPERINGS, Provider


@pytest.fixture(scope="module")
def provider():
    provider = Provider().start()
    yield provider
    provider.stop()


@pytest.fixture
def sso_app(provider, tmp_path):
    provider.tamper = None
    outputs = tmp_path / "sso" / "outputs"
    outputs.mkdir(parents=True)
    settings = Settings(
        outputs=outputs,
        inbox=tmp_path / "sso" / "inbox",
        web_oidc_issuer=provider.issuer,
        web_oidc_client_id=CLIENT_ID,
        web_oidc_client_secret=CLIENT_SECRET,
    )
    accounts_for(settings).add_user("admin-user", Role.ADMIN, PASSWORD)
    return create_app(settings)


def browser(app) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def to_provider_and_back(client: TestClient, start: str = "/login/sso") -> str:
    """The browser's trip: to the provider (which approves at once) and the address it sends it back to."""
    going = client.get(start)
    assert going.status_code == 303, going.text
    answer = httpx.get(going.headers["location"], follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def sign_in(app, provider: Provider, roles, name="ada@camden.gov.uk", start="/login/sso"):
    provider.user = {"sub": "u-" + name, "preferred_username": name, "roles": roles}
    client = browser(app)
    return client, client.get(to_provider_and_back(client, start))


def test_a_council_account_signs_in_with_the_role_its_app_roles_give(sso_app, provider):
    client, answer = sign_in(sso_app, provider, ["coforms.finance"])
    assert answer.status_code == 303 and answer.headers["location"] == "/finance"
    assert SESSION_COOKIE in client.cookies and FLOW_COOKIE not in client.cookies
    assert client.get("/").headers["location"] == "/finance"
    accounts = {account.user.name: account for account in sso_app.state.accounts.users()}
    assert accounts["ada@camden.gov.uk"].signs_in_with == SINGLE_SIGN_ON
    assert accounts["ada@camden.gov.uk"].user.role == Role.FINANCE


def test_the_flow_uses_pkce_state_and_nonce(sso_app, provider):
    client = browser(sso_app)
    query = parse_qs(urlsplit(client.get("/login/sso").headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"] and query["nonce"]
    provider.user = {"sub": "u-2", "preferred_username": "bo@camden.gov.uk", "roles": ["coforms.viewer"]}
    client = browser(sso_app)
    going = client.get("/login/sso")
    challenge = parse_qs(urlsplit(going.headers["location"]).query)["code_challenge"][0]
    back = httpx.get(going.headers["location"], follow_redirects=False).headers["location"]
    assert client.get(back).status_code == 303
    verifier = provider.token_requests[-1]["code_verifier"]
    assert code_challenge(verifier) == challenge and 43 <= len(verifier) <= 128


def test_the_page_asked_for_before_signing_in_opens_after(sso_app, provider):
    _, answer = sign_in(sso_app, provider, ["coforms.admin"], start="/login/sso?next=%2Fsummary")
    assert answer.headers["location"] == "/summary"
    _, answer = sign_in(sso_app, provider, ["coforms.admin"], start="/login/sso?next=%2F%2Fevil.example")
    assert answer.headers["location"] == "/queue"


def test_the_widest_of_several_app_roles_counts_and_unknown_ones_do_not(sso_app, provider):
    _, answer = sign_in(sso_app, provider, ["coforms.viewer", "coforms.admin", "other.app"])
    assert answer.headers["location"] == "/queue"


def test_the_role_follows_the_provider_at_each_sign_in(sso_app, provider):
    sign_in(sso_app, provider, ["coforms.admin"])
    client, answer = sign_in(sso_app, provider, ["coforms.viewer"])
    assert answer.headers["location"] == "/summary"
    assert client.get("/").headers["location"] == "/summary"
    (account,) = [a for a in sso_app.state.accounts.users() if a.user.name == "ada@camden.gov.uk"]
    assert account.user.role == Role.VIEWER


@pytest.mark.parametrize("tamper", TAMPERINGS)
def test_a_spoiled_id_token_is_refused(sso_app, provider, tamper):
    provider.tamper = tamper
    client, answer = sign_in(sso_app, provider, ["coforms.admin"])
    assert answer.status_code == 403 and "could not sign in" in answer.text
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/summary").headers["location"].startswith("/login")
    assert "ada@camden.gov.uk" not in {account.user.name for account in sso_app.state.accounts.users()}


def test_a_council_account_without_a_role_is_refused_with_a_plain_page(sso_app, provider):
    for roles in ([], ["other.app"], None):
        client, answer = sign_in(sso_app, provider, roles)
        assert answer.status_code == 403
        assert "has no role in this service" in answer.text and "coforms.viewer" in answer.text
        assert SESSION_COOKIE not in client.cookies


def test_an_answer_meant_for_another_browser_is_refused(sso_app, provider):
    provider.user = {"sub": "u-m", "preferred_username": "mallory@camden.gov.uk", "roles": ["coforms.admin"]}
    back = to_provider_and_back(browser(sso_app))  # the attacker's own sign-in, fed to the victim's browser
    victim = browser(sso_app)
    answer = victim.get(back)
    assert answer.status_code == 400 and SESSION_COOKIE not in victim.cookies


def test_an_answer_is_good_once(sso_app, provider):
    provider.user = {"sub": "u-3", "preferred_username": "cy@camden.gov.uk", "roles": ["coforms.admin"]}
    client = browser(sso_app)
    back = to_provider_and_back(client)
    flow_cookie = client.cookies[FLOW_COOKIE]
    assert client.get(back).status_code == 303
    client.cookies.set(FLOW_COOKIE, flow_cookie, domain="testserver.local", path="/login/sso")
    assert client.get(back).status_code == 400


def test_a_state_that_is_not_this_sign_in_s_is_refused(sso_app, provider):
    provider.user = {"sub": "u-4", "preferred_username": "di@camden.gov.uk", "roles": ["coforms.admin"]}
    client = browser(sso_app)
    back = to_provider_and_back(client)
    query = parse_qs(urlsplit(back).query)
    answer = client.get("/login/sso/callback", params={"code": query["code"][0], "state": "forged"})
    assert answer.status_code == 400 and SESSION_COOKIE not in client.cookies


def test_the_provider_s_refusal_is_a_plain_page(sso_app, provider):
    client = browser(sso_app)
    state = parse_qs(urlsplit(client.get("/login/sso").headers["location"]).query)["state"][0]
    answer = client.get("/login/sso/callback", params={"error": "access_denied", "state": state})
    assert answer.status_code == 403 and "did not finish" in answer.text


def test_a_council_account_cannot_take_over_a_password_account_of_the_same_name(sso_app, provider):
    client, answer = sign_in(sso_app, provider, ["coforms.admin"], name="admin-user")
    assert answer.status_code == 403 and "signs in with a password" in answer.text
    assert SESSION_COOKIE not in client.cookies


def test_a_disabled_council_account_is_refused_whatever_the_provider_says(sso_app, provider):
    client, _ = sign_in(sso_app, provider, ["coforms.admin"])
    sso_app.state.accounts.disable("ada@camden.gov.uk")
    assert client.get("/summary").headers["location"].startswith("/login")  # its session ended
    _, answer = sign_in(sso_app, provider, ["coforms.admin"])
    assert answer.status_code == 403 and "disabled" in answer.text


def test_a_password_cannot_sign_in_a_council_account(sso_app, provider):
    sign_in(sso_app, provider, ["coforms.admin"])
    client = browser(sso_app)
    token = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post("/login", data={"csrf": token, "name": "ada@camden.gov.uk", "password": ""})
    assert answer.status_code == 400


def test_a_new_key_of_the_provider_is_fetched(sso_app, provider):
    from joserfc.jwk import RSAKey

    sign_in(sso_app, provider, ["coforms.admin"])  # the keys are read and kept
    old = provider.key
    provider.key = RSAKey.generate_key(2048, parameters={"kid": "key-2"})
    try:
        _, answer = sign_in(sso_app, provider, ["coforms.admin"])
    finally:
        provider.key = old
    assert answer.status_code == 303


def test_the_sign_in_page_offers_the_council_account_only_when_set(sso_app, web_app):
    page = browser(sso_app).get("/login?next=%2Fsummary").text
    assert "Sign in with your council account" in page and 'href="/login/sso?next=/summary"' in page
    plain = browser(web_app)
    assert "council account" not in plain.get("/login").text
    assert plain.get("/login/sso").status_code == 404
