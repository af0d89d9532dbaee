"""The review desk's defences, each tested by the attack it stops, on a warehouse with real forms
(one of them sent by an email whose sender, subject, file name and form values are markup):

- every GET route, as each role and as nobody, against one table of who may open what (ROUTES);
- every POST route without a CSRF token, with another session's, from another site, and as a role
  that may not (role escalation): 403 and nothing changed;
- session fixation, sign-out and disabling ending sessions on the server, cookie flags, headers;
- sign-in attempts rate-limited per name and per address; no open redirect after sign-in;
- no path from the request reaches a file (ids are numbers; names are looked up, never joined);
- every value a sender controls is text on every page, never markup.

When a route is added to the app, add it to ROUTES (GET) or POSTS (POST): a test fails until it is.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from markupsafe import escape
from starlette.routing import Route
from starlette.testclient import TestClient

from pipeline.settings import Settings
from pipeline.store.warehouse import Warehouse
from pipeline.web.app import accounts_for, create_app
from pipeline.web.middleware import SESSION_COOKIE
from pipeline.web.reads import form_version
from pipeline.web.roles import Role
from pipeline.web.signin import ADDRESS_ATTEMPTS, ATTEMPTS, safe_next
from tests.fixtures.emails import XLSX, attach, message
from tests.fixtures.voucher_sheets import voucher_sheet
from tests.web.conftest import PASSWORD, csrf_of, signed_in

GOLDEN = Path(__file__).parents[1] / "golden"
ADMIN, FINANCE, VIEWER = Role.ADMIN, Role.FINANCE, Role.VIEWER
EVERYONE = frozenset(Role)
PUBLIC = None  # open without signing in

# What a sender controls, as markup: each must be shown as text wherever it appears.
SENDER_NAME = "<script>alert('sender')</script>"
SUBJECT = "<script>alert('subject')</script> forms"
FILE_NAME = "\"><img src=x onerror=alert('file')>.xlsx"
PERSON = "<img src=x onerror=alert('person')> Smith"
PROJECT = "<svg onload=alert('project')>"
COMPLETED_BY = "\"'><b onmouseover=alert('completed')>x</b>"
PAYLOADS = (SENDER_NAME, SUBJECT, FILE_NAME.removesuffix(".xlsx"), PERSON, PROJECT, COMPLETED_BY)
FILTER = "\"><script>alert('filter')</script>"  # reflected from the address of a page

# Every GET route: an example address ({held}: a held voucher sheet, {xss}: the email's form,
# {audit}: an action on it, {slug}: a sheet of finance's workbook) and the roles that may open it.
ROUTES: dict[str, tuple[str, frozenset[Role] | None]] = {
    "/": ("/", PUBLIC),
    "/login": ("/login", PUBLIC),
    "/login/sso": ("/login/sso", PUBLIC),
    "/login/sso/callback": ("/login/sso/callback", PUBLIC),
    "/summary": ("/summary", EVERYONE),
    "/queue": ("/queue", frozenset({ADMIN})),
    "/forms/{submission_id:int}": ("/forms/{held}", frozenset({ADMIN, FINANCE})),
    "/forms/{submission_id:int}/original/{page:int}.png": ("/forms/{pdf}/original/1.png", frozenset({ADMIN})),
    "/forms/{submission_id:int}/crop/{name:str}": ("/forms/{held}/crop/x.png", frozenset({ADMIN})),
    "/forms/{submission_id:int}/supersede": ("/forms/{held}/supersede", frozenset({ADMIN})),
    "/forms/{submission_id:int}/actions": ("/forms/{held}/actions", frozenset({ADMIN})),
    "/finance": ("/finance", frozenset({ADMIN, FINANCE})),
    "/finance/sheets/{slug}": ("/finance/sheets/{slug}", frozenset({ADMIN, FINANCE})),
    "/finance/download/{name}": ("/finance/download/voucher_reconciliation.xlsx", frozenset({ADMIN, FINANCE})),
    "/replies": ("/replies", frozenset({ADMIN})),
    "/replies/{name}": ("/replies/x", frozenset({ADMIN})),
    "/replies/sent/{name}": ("/replies/sent/x", frozenset({ADMIN})),
}
# Every POST route: an example address, the fields of a complete request, and the roles that may.
POSTS: dict[str, tuple[str, dict[str, str], frozenset[Role]]] = {
    "/logout": ("/logout", {}, EVERYONE),
    "/forms/{submission_id:int}/decide": (
        "/forms/{held}/decide",
        {"action": "reject", "reason": "test", "version": "{version}"},
        frozenset({ADMIN}),
    ),
    "/forms/{submission_id:int}/decide/confirm": (
        "/forms/{held}/decide/confirm",
        {"action": "reject", "reason": "test", "version": "{version}"},
        frozenset({ADMIN}),
    ),
    "/forms/{submission_id:int}/supersede": (
        "/forms/{held}/supersede",
        {"new": "{xss}", "reason": "test", "version": "{version}"},
        frozenset({ADMIN}),
    ),
    "/forms/{submission_id:int}/supersede/confirm": (
        "/forms/{held}/supersede/confirm",
        {"new": "{xss}", "reason": "test", "version": "{version}"},
        frozenset({ADMIN}),
    ),
    "/actions/{audit_id:int}/undo": ("/actions/{audit}/undo", {"reason": "test"}, frozenset({ADMIN})),
    "/actions/{audit_id:int}/undo/confirm": ("/actions/{audit}/undo/confirm", {"reason": "test"}, frozenset({ADMIN})),
    "/forms/{submission_id:int}/correct": (
        "/forms/{held}/correct",
        {"field": "lines.1.amount", "value": "20.00", "reason": "test", "version": "{version}", "step": "confirm"},
        frozenset({ADMIN}),
    ),
    "/forms/{submission_id:int}/confirm": (
        "/forms/{held}/confirm",
        {"field": "lines.1.amount", "reason": "test", "version": "{version}", "step": "confirm"},
        frozenset({ADMIN}),
    ),
    "/replies/{name}": ("/replies/x", {"body": "test"}, frozenset({ADMIN})),
    "/replies/{name}/send": ("/replies/x/send", {}, frozenset({ADMIN})),
}


def _email_with_markup() -> bytes:
    sheet = voucher_sheet(
        [(PERSON, dt.date(2025, 5, 6), "Workshop 1", Decimal("20.00"))], project=PROJECT, completed_by=COMPLETED_BY
    )
    msg = message(sender=f'"{SENDER_NAME}" <tom.okafor@camden.gov.uk>', subject=SUBJECT)
    return attach(msg, sheet, FILE_NAME, XLSX).as_bytes()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A held voucher sheet in Word, one in PDF, the email's voucher sheet, reports, an account per role."""
    from pipeline.runtime.run import run_pipeline

    root = tmp_path_factory.mktemp("security")
    inbox = root / "inbox"
    inbox.mkdir()
    shutil.copy(GOLDEN / "voucher" / "bad_amount_cap_unsigned_unit.docx", inbox / "Vouchers workshop 3.docx")
    shutil.copy(GOLDEN / "voucher" / "pdf_bad_amount_cap_unsigned_unit.pdf", inbox / "Vouchers printed.pdf")
    (inbox / "forms.eml").write_bytes(_email_with_markup())
    run_pipeline(Settings(inbox=inbox, outputs=root / "outputs", settle_seconds=0))
    accounts = accounts_for(Settings(outputs=root / "outputs"))
    for role in Role:
        accounts.add_user(f"{role.value}-user", role, PASSWORD)
    accounts.add_user("admin-two", Role.ADMIN, PASSWORD)
    return root / "outputs"


@pytest.fixture(scope="module")
def app(built):
    """The app on the built warehouse (tests that change the warehouse use `fresh_app`)."""
    return create_app(Settings(outputs=built, inbox=built.parent / "inbox"))


@pytest.fixture
def fresh_app(built, tmp_path):
    shutil.copytree(built, tmp_path / "outputs")
    return create_app(Settings(outputs=tmp_path / "outputs", inbox=tmp_path / "inbox"))


@pytest.fixture(scope="module")
def clients(app) -> dict[Role, TestClient]:
    return {role: signed_in(app, f"{role.value}-user") for role in Role}


def _warehouse(app) -> Warehouse:
    return Warehouse(app.state.settings.warehouse, read_only=True)


_KNOWN_IDS: dict[Path, dict[str, str]] = {}


def _ids(app) -> dict[str, str]:
    """The values that fill the example addresses (found once per outputs folder)."""
    outputs = app.state.settings.outputs
    if outputs not in _KNOWN_IDS:
        _KNOWN_IDS[outputs] = _found_ids(app)
    return _KNOWN_IDS[outputs]


def _found_ids(app) -> dict[str, str]:
    with _warehouse(app) as warehouse:
        by_file = dict(warehouse.rows("SELECT coalesce(container_file, source_file), submission_id FROM submissions"))
        held, pdf, xss = by_file["Vouchers workshop 3.docx"], by_file["Vouchers printed.pdf"], by_file["forms.eml"]
        version = form_version(warehouse, held)
        audit = warehouse.one("SELECT max(audit_id) FROM audit")
    slug = "control-totals"
    finance = signed_in(app, "finance-user").get("/finance")
    found = re.search(r'href="/finance/sheets/([^"?]+)"', finance.text)
    if found:
        slug = found.group(1)
    return {
        "held": str(held),
        "pdf": str(pdf),
        "xss": str(xss),
        "version": version,
        "audit": str((audit or [1])[0] or 1),
        "slug": slug,
    }


def _routes(app, method: str) -> list[str]:
    return [r.path for r in app.routes if isinstance(r, Route) and r.methods and method in r.methods]


def _status(app, submission_id: str) -> str:
    with _warehouse(app) as warehouse:
        return warehouse.one("SELECT status FROM submissions WHERE submission_id = :id", id=int(submission_id))[0]


# -- every route in the tables


def test_every_route_is_in_a_table_of_who_may_use_it(app):
    assert set(_routes(app, "GET")) - set(ROUTES) == set(), "add the new GET routes to ROUTES"
    assert set(_routes(app, "POST")) - set(POSTS) - {"/login"} == set(), "add the new POST routes to POSTS"


def test_every_get_route_opens_only_for_the_roles_it_names(app, clients):
    ids = _ids(app)
    nobody = TestClient(app, base_url="https://testserver", follow_redirects=False)
    for path in _routes(app, "GET"):
        example, allowed = ROUTES[path]
        address = example.format(**ids)
        if allowed is PUBLIC:
            assert nobody.get(address).status_code < 500, address
            continue
        answer = nobody.get(address)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next="), address
        for role, client in clients.items():
            answer = client.get(address)
            if role in allowed:
                assert answer.status_code not in (401, 403) and answer.status_code < 500, (address, role)
                assert not answer.headers.get("location", "").startswith("/login"), (address, role)
            else:
                assert answer.status_code == 403, (address, role, answer.status_code)
                assert "Not allowed" in answer.text


def test_an_admin_action_posted_by_finance_or_a_viewer_is_refused_and_changes_nothing(fresh_app):
    ids = _ids(fresh_app)
    before = _status(fresh_app, ids["held"])
    clients = {role: signed_in(fresh_app, f"{role.value}-user") for role in (FINANCE, VIEWER)}
    tokens = {role: csrf_of(client.get("/queue").text) for role, client in clients.items()}  # its sign-out form's
    for path in _routes(fresh_app, "POST"):
        if path not in POSTS:
            continue
        example, fields, allowed = POSTS[path]
        for role in {FINANCE, VIEWER} - allowed:
            client, token = clients[role], tokens[role]
            data = {name: value.format(**ids) for name, value in fields.items()} | {"csrf": token}
            answer = client.post(example.format(**ids), data=data)
            assert answer.status_code == 403, (path, role, answer.status_code)
    assert _status(fresh_app, ids["held"]) == before


def test_every_post_route_refuses_a_missing_or_another_session_s_csrf_token(fresh_app):
    ids = _ids(fresh_app)
    before = _status(fresh_app, ids["held"])
    admin = signed_in(fresh_app, "admin-user")
    others = csrf_of(signed_in(fresh_app, "admin-two").get("/queue").text)
    for path in _routes(fresh_app, "POST"):
        if path == "/login":
            continue  # its own token: test_the_sign_in_form_refuses_another_browser_s_token
        example, fields, _ = POSTS[path]
        data = {name: value.format(**ids) for name, value in fields.items()}
        for sent in (data, data | {"csrf": ""}, data | {"csrf": others}):
            answer = admin.post(example.format(**ids), data=sent)
            assert answer.status_code == 403 and "Form out of date" in answer.text, (path, sent.get("csrf"))
    assert _status(fresh_app, ids["held"]) == before
    assert admin.get("/queue").status_code == 200  # still signed in: /logout refused too


def test_a_post_from_another_site_is_refused_even_with_the_right_token(fresh_app):
    ids = _ids(fresh_app)
    admin = signed_in(fresh_app, "admin-user")
    token = csrf_of(admin.get(f"/forms/{ids['held']}").text)
    example, fields, _ = POSTS["/forms/{submission_id:int}/decide/confirm"]
    data = {name: value.format(**ids) for name, value in fields.items()} | {"csrf": token}
    for site in ("cross-site", "same-site"):
        answer = admin.post(example.format(**ids), data=data, headers={"Sec-Fetch-Site": site})
        assert answer.status_code == 403
    assert _status(fresh_app, ids["held"]) != "rejected"
    # the same post from this site acts: the refusals in these tests come from the defences, not from
    # a field missing in POSTS
    answer = admin.post(example.format(**ids), data=data, headers={"Sec-Fetch-Site": "same-origin"})
    assert answer.status_code < 400 and _status(fresh_app, ids["held"]) == "rejected"


def test_the_sign_in_form_refuses_another_browser_s_token(app):
    attacker, victim = (TestClient(app, base_url="https://testserver", follow_redirects=False) for _ in range(2))
    token = csrf_of(attacker.get("/login").text)
    victim.get("/login")
    answer = victim.post("/login", data={"csrf": token, "name": "admin-user", "password": PASSWORD})
    assert answer.status_code == 403 and SESSION_COOKIE not in victim.cookies


# -- sessions


def test_a_session_token_set_before_signing_in_is_not_the_one_after(app):
    planted = signed_in(app, "viewer-user").cookies[SESSION_COOKIE]  # the attacker's own session
    victim = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = csrf_of(victim.get("/login?next=/queue").text)
    victim.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")  # planted in the victim's browser
    victim.post("/login", data={"csrf": token, "name": "admin-user", "password": PASSWORD})
    assert victim.cookies[SESSION_COOKIE] != planted
    assert app.state.accounts.session(planted) is None  # the planted session ended: it never becomes the admin's
    assert app.state.accounts.session(victim.cookies[SESSION_COOKIE]).user.name == "admin-user"


def test_signing_out_ends_the_session_on_the_server(app):
    client = signed_in(app, "admin-user")
    token = client.cookies[SESSION_COOKIE]
    client.post("/logout", data={"csrf": csrf_of(client.get("/queue").text)})
    replay = TestClient(app, base_url="https://testserver", follow_redirects=False)
    replay.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
    assert replay.get("/queue").headers["location"].startswith("/login")


def test_a_disabled_user_s_open_session_ends_at_once(fresh_app):
    client = signed_in(fresh_app, "admin-two")
    assert client.get("/queue").status_code == 200
    fresh_app.state.accounts.disable("admin-two")
    assert client.get("/queue").headers["location"].startswith("/login")


def test_the_role_is_the_server_s_not_the_client_s(app):
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    client.cookies.set("role", "admin", domain="testserver.local")
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"csrf": token, "name": "viewer-user", "password": PASSWORD, "role": "admin"})
    assert answer.headers["location"] == "/summary"
    assert client.get("/queue", headers={"X-Role": "admin"}).status_code == 403


def test_cookies_and_headers(app, clients):
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"csrf": token, "name": "admin-user", "password": PASSWORD})
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    page = clients[ADMIN].get("/queue")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
    assert page.headers["strict-transport-security"].startswith("max-age=")


# -- sign-in attempts


def test_sign_in_attempts_are_limited_per_name_even_with_the_right_password_then(fresh_app):
    client = TestClient(fresh_app, base_url="https://testserver", follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    for _ in range(ATTEMPTS):
        answer = client.post("/login", data={"csrf": token, "name": "admin-user", "password": "guess"})
        assert answer.status_code == 400
    answer = client.post("/login", data={"csrf": token, "name": "admin-user", "password": PASSWORD})
    assert answer.status_code == 429 and "Too many attempts" in answer.text
    assert SESSION_COOKIE not in client.cookies
    fresh_app.state.accounts.clock = lambda: __import__("time").time() + 16 * 60  # the pause is over
    answer = client.post("/login", data={"csrf": token, "name": "admin-user", "password": PASSWORD})
    assert answer.status_code == 303


def test_sign_in_attempts_are_limited_per_address_across_names(fresh_app):
    client = TestClient(fresh_app, base_url="https://testserver", follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    for n in range(ATTEMPTS):  # a few names, each under its own limit
        client.post("/login", data={"csrf": token, "name": f"someone-{n}", "password": "guess"})
    assert client.post("/login", data={"csrf": token, "name": "finance-user", "password": "guess"}).status_code == 400
    for _ in range(ADDRESS_ATTEMPTS - ATTEMPTS - 1):  # the rest as if tried already (each costs a hash)
        fresh_app.state.accounts.record_failure("address:testclient")
    answer = client.post("/login", data={"csrf": token, "name": "viewer-user", "password": PASSWORD})
    assert answer.status_code == 429 and SESSION_COOKIE not in client.cookies


# -- where the browser goes after signing in


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example/",
        " //evil.example/",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\u2215evil.example",
        "",
    ],
)
def test_no_redirect_to_another_site_after_signing_in(app, target):
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page = client.get("/login", params={"next": target})
    token = csrf_of(page.text)
    assert 'name="next"' not in page.text
    answer = client.post("/login", data={"csrf": token, "name": "viewer-user", "password": PASSWORD, "next": target})
    assert answer.headers["location"] == "/summary"


def test_a_page_of_this_site_is_where_signing_in_goes_on_to(app):
    assert safe_next("/forms/2?tab=values") == "/forms/2?tab=values"
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    first = client.get("/queue?sender=x")
    page = client.get(first.headers["location"])
    answer = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "name": "admin-user", "password": PASSWORD, "next": "/queue?sender=x"},
    )
    assert answer.headers["location"] == "/queue?sender=x"


# -- paths


@pytest.mark.parametrize(
    "address",
    [
        "/forms/..%2f..%2fetc/original",
        "/forms/..%2F..%2Fwarehouse.duckdb",
        "/forms/-1",
        "/forms/1.5",
        "/forms/999999",
        "/forms/%2e%2e/original/1.png",
        "/forms/{held}/original/..%2f..%2fwarehouse.duckdb",
        "/forms/{held}/original/-1.png",
        "/forms/{held}/original/999.png",
        "/forms/{held}/crop/..%2f..%2fwarehouse.duckdb",
        "/forms/{held}/crop/..%2f..%2f..%2fweb%2faccounts.sqlite",
        "/forms/{held}/crop/%2e%2e",
        "/finance/download/..%2fwarehouse.duckdb",
        "/finance/download/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/finance/download/web%2faccounts.sqlite",
        "/finance/sheets/..%2f..%2fwarehouse.duckdb",
        "/replies/..%2f..%2fwarehouse.duckdb",
        "/replies/sent/..%2f..%2fweb%2faccounts.sqlite",
        "/static/..%2f..%2fsettings.py",
        "/static/%2e%2e/%2e%2e/settings.py",
    ],
)
def test_no_path_from_the_request_reaches_a_file(app, clients, address):
    address = address.format(**_ids(app))
    answer = clients[ADMIN].get(address)
    assert answer.status_code == 404, (address, answer.status_code)
    assert b"SQLite format" not in answer.content and b"DUCK" not in answer.content[:16]
    assert b"root:" not in answer.content and b"BaseSettings" not in answer.content


def test_originals_are_served_only_to_admins(app, clients):
    pdf = _ids(app)["pdf"]
    original = clients[ADMIN].get(f"/forms/{pdf}/original/1.png")
    assert original.status_code == 200 and original.headers["content-type"] == "image/png"
    assert original.content.startswith(b"\x89PNG")
    for role in (FINANCE, VIEWER):
        assert clients[role].get(f"/forms/{pdf}/original/1.png").status_code == 403


# -- markup from senders


def _pages(app, clients) -> dict[str, str]:
    """Every page an admin and finance can open on this warehouse, the queue filtered by markup too."""
    ids = _ids(app)
    with _warehouse(app) as warehouse:
        submissions = [row[0] for row in warehouse.rows("SELECT submission_id FROM submissions")]
    addresses = ["/queue", "/finance", f"/finance/sheets/{ids['slug']}", "/replies"]
    for submission in submissions:
        addresses += [f"/forms/{submission}", f"/forms/{submission}/actions", f"/forms/{submission}/supersede"]
    for name in ("sender", "problem", "form_type", "q", "from", "to", "page"):
        addresses.append(f"/queue?{name}={escape(FILTER)}".replace("&#34;", "%22").replace("&#39;", "%27"))
    pages = {}
    for role in (ADMIN, FINANCE):
        for address in addresses:
            answer = clients[role].get(address, params=None)
            if answer.status_code == 200 and answer.headers["content-type"].startswith("text/html"):
                pages[f"{role} {address}"] = answer.text
    for name in ("sender", "form_type", "problem"):
        answer = clients[ADMIN].get("/queue", params={name: FILTER})
        pages[f"admin /queue?{name}="] = answer.text
    return pages


def test_what_a_sender_wrote_is_shown_as_text_never_as_markup(app, clients):
    pages = _pages(app, clients)
    for address, html in pages.items():
        for payload in (*PAYLOADS, FILTER):
            assert payload not in html, (address, payload)
        assert not re.search(r"<(script|svg|img|b)\b[^>]*(alert|onerror|onload|onmouseover)", html, re.I), address
    everything = "\n".join(pages.values())
    shown = {payload for payload in PAYLOADS if str(escape(payload)) in everything}
    # the markup did reach the pages, as text: the form's values (the intake already takes < and >
    # out of an attachment's name, and keeps the sender's address, not the name shown with it)
    assert {PERSON, PROJECT, COMPLETED_BY} <= shown, shown
    assert str(escape("onerror=alert('file')_.xlsx")) in everything
