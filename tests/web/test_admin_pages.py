"""The admin pages, Users (`/users`) and API keys (`/keys`), over real HTTP and in Chromium.

They run on a private copy of the analysed demo (`module_server`): the tests create and disable users and create
and revoke keys. Who may open them, and the CSRF checks of their forms, are in the matrix (`test_authz.py`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.runtime import Runtime
from tests.conftest import WEB_USERS, LiveServer, form_token, logged_in
from usecases.apikeys import list_keys
from usecases.permissions import OPERATOR
from usecases.users import create_user, list_users


@pytest.fixture(scope="module")
def admin(module_server: LiveServer) -> Iterator[tuple[httpx.Client, str]]:
    """One admin session for the module's HTTP tests."""
    with logged_in(module_server.url, *WEB_USERS["admin"]) as session:
        yield session


def _can_log_in(url: str, name: str, password: str) -> bool:
    with httpx.Client(base_url=url, timeout=60) as client:
        token = form_token(client.get("/login").text)
        r = client.post("/login", data={"username": name, "password": password, "csrf_token": token})
        return r.status_code == 303


def _row(html: str, name: str) -> str:
    """The users table's row of `name` (its HTML)."""
    rows = [r for r in re.findall(r'<tr id="user-\d+".*?</tr>', html, re.S) if f"<td>{name}" in r]
    assert len(rows) == 1, f"{len(rows)} rows for {name}"
    return rows[0]


def test_the_nav_links_them_for_admins_only(module_server: LiveServer, admin: tuple[httpx.Client, str]) -> None:
    client, _ = admin
    html = client.get("/users").text
    assert '<a href="/users" class="on" aria-current="true">Users</a>' in html
    assert (
        '<a href="/users" class="on" aria-current="page">Users</a>' in html and '<a href="/keys" >API keys</a>' in html
    )
    keys = client.get("/keys").text
    assert '<a href="/users" class="on" aria-current="true">Users</a>' in keys, "the nav's Users covers the keys"
    assert '<a href="/keys" class="on" aria-current="page">API keys</a>' in keys
    for role in ("account_manager", "docs_writer"):
        with logged_in(module_server.url, *WEB_USERS[role]) as (other, _):
            assert 'href="/users"' not in other.get("/").text, role
            r = other.get("/users")
            assert r.status_code == 403 and "may not users:manage" in r.text, role


def test_users_are_listed_with_role_and_state(admin: tuple[httpx.Client, str]) -> None:
    client, csrf = admin
    html = client.get("/users").text
    for role, (name, _) in WEB_USERS.items():
        row = _row(html, name)
        assert role.replace("_", " ") in row and "active" in row
    assert "(you)" in _row(html, WEB_USERS["admin"][0])
    assert "(you)" not in _row(html, WEB_USERS["docs_writer"][0])
    assert html.count(f'name="csrf_token" value="{csrf}"') >= 5  # logout, create, one disable per active user


def test_an_admin_creates_a_user_who_then_logs_in(module_server: LiveServer, admin: tuple[httpx.Client, str]) -> None:
    client, csrf = admin
    r = client.post("/users", data={"csrf_token": csrf, "name": "nina", "role": "docs_writer",
                                    "password": "nina-password-0004"})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/users?created=nina"
    page = client.get(r.headers["location"]).text
    assert "Created <b>nina</b>" in page and "docs writer" in _row(page, "nina")
    assert "nina-password-0004" not in page
    assert _can_log_in(module_server.url, "nina", "nina-password-0004")


def test_a_generated_password_is_shown_once_and_works(
    module_server: LiveServer, module_demo: Runtime, admin: tuple[httpx.Client, str]
) -> None:
    client, csrf = admin
    r = client.post("/users", data={"csrf_token": csrf, "name": "gus", "role": "account_manager", "password": ""})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    found = re.search(r'<code class="secret" id="generated-password">([^<]+)</code>', r.text)
    assert found, r.text[:500]
    password = found.group(1)
    assert len(password) >= 12
    assert password not in client.get("/users").text
    assert _can_log_in(module_server.url, "gus", password)
    assert {u.name: u.role for u in list_users(module_demo, OPERATOR)}["gus"] == "account_manager"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"name": "ali-admin", "role": "docs_writer", "password": "long-enough-password"},
            "a user named 'ali-admin' exists",
        ),
        ({"name": "rita", "role": "superuser", "password": "long-enough-password"}, "role must be one of"),
        ({"name": "rita", "role": "docs_writer", "password": "short"}, "a password needs at least 12 characters"),
        ({"name": "two words", "role": "docs_writer", "password": "long-enough-password"}, "without spaces"),
    ],
    ids=["duplicate", "bad-role", "short-password", "space-in-name"],
)
def test_a_refused_user_is_explained_and_the_form_kept(
    module_demo: Runtime, admin: tuple[httpx.Client, str], fields: dict[str, str], message: str
) -> None:
    client, csrf = admin
    before = list_users(module_demo, OPERATOR)
    r = client.post("/users", data={"csrf_token": csrf, **fields})
    assert r.status_code == 422
    alert = re.search(r'<p class="notice error" role="alert">(.*?)</p>', r.text, re.S)
    assert alert and message in alert.group(1).replace("&#39;", "'"), r.text[:800]
    assert f'name="name" value="{fields["name"]}"' in r.text
    if fields["role"] in WEB_USERS:
        assert f'<option value="{fields["role"]}" selected>' in r.text
    assert list_users(module_demo, OPERATOR) == before


def test_disabling_a_user_ends_their_login_but_not_ones_own(
    module_server: LiveServer, module_demo: Runtime, admin: tuple[httpx.Client, str]
) -> None:
    client, csrf = admin
    create_user(module_demo, OPERATOR, "dora", "account_manager", "dora-password-0005")
    with logged_in(module_server.url, "dora", "dora-password-0005") as (dora, _):
        r = client.post("/users/disable", data={"csrf_token": csrf, "name": "dora"})
        assert r.status_code == 303 and r.headers["location"] == "/users?disabled=dora"
        assert "disabled" in _row(client.get("/users").text, "dora")
        assert dora.get("/").status_code == 303, "her open session ended"
    assert not _can_log_in(module_server.url, "dora", "dora-password-0005")

    me = WEB_USERS["admin"][0]
    r = client.post("/users/disable", data={"csrf_token": csrf, "name": me})
    assert r.status_code == 409 and "you cannot disable yourself" in r.text
    assert "active" in _row(r.text, me)
    assert client.get("/users").status_code == 200, "still signed in"
    assert client.post("/users/disable", data={"csrf_token": csrf, "name": "nobody-here"}).status_code == 404


def test_a_key_is_shown_once_works_and_is_revoked(
    module_server: LiveServer, module_demo: Runtime, admin: tuple[httpx.Client, str]
) -> None:
    client, csrf = admin
    r = client.post("/keys", data={"csrf_token": csrf, "name": "zapier", "scopes": ["answers:read"]})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    found = re.search(r'<code class="secret" id="new-key">(dg_[^<]+)</code>', r.text)
    assert found, r.text[:500]
    secret = found.group(1)
    key = next(k for k in list_keys(module_demo) if k.name == "zapier")
    assert key.scopes == ["answers:read"] and key.revoked_at is None

    api = httpx.Client(base_url=module_server.url, timeout=60, headers={"Authorization": f"Bearer {secret}"})
    with api:
        assert api.get("/v1/topics").status_code == 200
        listing = client.get("/keys").text
        assert secret not in listing and secret[:10] in listing
        row = re.search(rf'<tr id="key-{key.id}".*?</tr>', listing, re.S)
        assert row and "answers:read" in row.group(0) and "never" not in row.group(0), "last used is shown"

        r = client.post(f"/keys/{key.id}/revoke", data={"csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"] == f"/keys?revoked={key.id}"
        listing = client.get(r.headers["location"]).text
        row = re.search(rf'<tr id="key-{key.id}".*?</tr>', listing, re.S)
        assert row and "badge missing" in row.group(0) and f"/keys/{key.id}/revoke" not in row.group(0)
        assert api.get("/v1/topics").status_code == 401
    assert client.post("/keys/999999/revoke", data={"csrf_token": csrf}).status_code == 404


def test_a_key_without_scopes_is_refused_and_the_form_kept(
    module_demo: Runtime, admin: tuple[httpx.Client, str]
) -> None:
    client, csrf = admin
    before = len(list_keys(module_demo))
    r = client.post("/keys", data={"csrf_token": csrf, "name": "no-scope-key"})
    assert r.status_code == 422 and 'role="alert">scopes must be some of' in r.text
    assert 'name="name" value="no-scope-key"' in r.text and 'id="new-key"' not in r.text
    r = client.post("/keys", data={"csrf_token": csrf, "name": "bad-scope", "scopes": ["answers:read", "root"]})
    assert r.status_code == 422 and "got root" in r.text
    assert re.search(r'value="answers:read" checked', r.text), "ticked scopes stay ticked"
    assert len(list_keys(module_demo)) == before


def test_in_chromium_an_admin_creates_a_user_who_logs_in(browser, module_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """Without JavaScript help: labelled fields, plain forms; screenshots of both pages."""
    from playwright.sync_api import expect

    shots = Path(os.environ.get("DOCGAP_SCREENSHOTS") or "/tmp/docgap-admin-shots")
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=module_server.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto("/users")
        assert "/login?next=%2Fusers" in page.url
        page.get_by_label("User name").fill(WEB_USERS["admin"][0])
        page.get_by_label("Password").fill(WEB_USERS["admin"][1])
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        assert page.url.endswith("/users")
        page.get_by_label("User name").fill("pia")
        page.get_by_label("Role").select_option("docs_writer")
        page.get_by_label("Generate a password instead").check()
        with page.expect_navigation():
            page.get_by_role("button", name="Create user").click()
        password = page.locator("#generated-password").inner_text()
        expect(page.get_by_role("status")).to_contain_text("Created pia")
        page.screenshot(path=str(shots / "admin_users.png"), full_page=True)

        page.locator("main .tabs").get_by_role("link", name="API keys").click()
        page.get_by_label("Name").fill("shot key")
        page.get_by_label("answers:read").check()
        with page.expect_navigation():
            page.get_by_role("button", name="Create key").click()
        expect(page.locator("#new-key")).to_contain_text("dg_")
        page.screenshot(path=str(shots / "admin_keys.png"), full_page=True)

        with page.expect_navigation():
            page.get_by_role("button", name="Log out").click()
        assert "/login" in page.url
        page.get_by_label("User name").fill("pia")
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        expect(page.locator("form.who")).to_contain_text("pia · docs writer")
        expect(page.locator("header nav").get_by_role("link", name="Users")).to_have_count(0)
    finally:
        context.close()
    print(f"screenshots: {shots}")
