"""A missing topic, week, doc, account or ticket: a page of the site for people, JSON for the API (issue 11).

Over real HTTP on the analysed demo (read-only requests): under a page route the answer is an HTML page with the
site's nav, a <title>, one <h1>, the reason and a link back to where the missing thing would be listed; under
`/v1` it stays FastAPI's `{"detail": ...}`. A refused form gets a page too, with the same status as before.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import LiveServer, logged_in

MISSING_PAGES = {
    "/topics/999999": ("topic 999999", "/"),
    "/topics/999999/evidence": ("topic 999999", "/"),
    "/topics/not-a-number": ("/topics/not-a-number", "/"),
    "/reports/2001-01-01": ("/reports/2001-01-01", "/reports"),
    "/reports/weekly/2001-01-01": ("docgap report weekly --week 2001-01-01", "/reports"),
    "/accounts/999999": ("account 999999", "/accounts"),
    "/accounts/999999/brief": ("account 999999", "/accounts"),
    "/accounts/999999/timeline": ("account 999999", "/accounts"),
    "/kb/no/such/page.md": ("no/such/page.md", "/chat"),
    "/tickets/999999.md": ("ticket 999999", "/"),
    "/no-such-page": ("/no-such-page", "/"),
}
"""Page → (what the page says is missing, where its link back leads)."""
MISSING_API = ["/v1/topics/999999", "/v1/topics/999999/lineage", "/v1/accounts/999999/brief", "/v1/tickets/999999",
               "/v1/no-such-endpoint"]  # fmt: skip


def assert_site_page(html: str, says: str, back: str) -> None:
    """A whole page of the site: layout and nav, a title, one heading, the reason, a link back; no JSON, no trace."""
    assert html.lstrip().lower().startswith("<!doctype html>"), html[:200]
    assert "<nav>" in html and 'href="/chat"' in html and 'href="/accounts"' in html, "the site's nav"
    assert re.search(r"<title>Not found · docgap</title>", html), re.search(r"<title>.*?</title>", html)
    assert len(re.findall(r"<h1[ >]", html)) == 1
    main = html.split('<main id="content">', 1)[1].split("</main>", 1)[0]
    assert says in re.sub(r"</?code>", "", main), main
    assert re.search(rf'<a href="{re.escape(back)}">Back to ', main), main
    assert '"detail"' not in html and "Traceback" not in html


@pytest.fixture(scope="module")
def client(live_server: LiveServer, web_users) -> httpx.Client:  # type: ignore[no-untyped-def,misc]
    with logged_in(live_server.url, *web_users["account_manager"]) as (c, _):
        yield c


@pytest.mark.parametrize("path", MISSING_PAGES)
def test_a_missing_page_is_a_page_of_the_site(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), (r.status_code, r.text[:200])
    assert_site_page(r.text, *MISSING_PAGES[path])
    assert 'action="/logout"' in r.text, "the header shows who is signed in, as on every page"


@pytest.mark.parametrize("path", MISSING_API)
def test_a_missing_api_resource_is_json(live_server: LiveServer, api_headers: dict[str, str], path: str) -> None:
    r = httpx.get(f"{live_server.url}{path}", headers=api_headers, timeout=60)
    assert r.status_code == 404 and r.headers["content-type"] == "application/json", (r.status_code, r.text[:200])
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]


def test_the_api_keeps_its_validation_errors_as_json(live_server: LiveServer, api_headers: dict[str, str]) -> None:
    r = httpx.get(f"{live_server.url}/v1/topics/abc", headers=api_headers, timeout=60)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "topic_id"]


def test_an_unknown_page_needs_no_login_to_say_so(live_server: LiveServer) -> None:
    """Without a session: still a page of the site (nothing of the data in it), offering to log in."""
    r = httpx.get(f"{live_server.url}/no-such-page", timeout=60)
    assert r.status_code == 404
    assert_site_page(r.text, "/no-such-page", "/")
    assert 'href="/login' in r.text and 'action="/logout"' not in r.text
    assert httpx.get(f"{live_server.url}/topics/999999", timeout=60).status_code == 303, "pages still need a login"


def test_a_refused_form_is_a_page_with_the_same_status(live_server: LiveServer, web_users) -> None:  # type: ignore[no-untyped-def]
    with logged_in(live_server.url, *web_users["docs_writer"]) as (c, csrf):
        no_token = c.post("/topics/1/status", data={"status": "triaged"})
        bad_status = c.post("/topics/bulk/status", data={"csrf_token": csrf, "status": "done", "topic_ids": "1"})
        no_field = c.post("/topics/1/merge", data={"csrf_token": csrf})
    assert no_token.status_code == 403 and "csrf_token" in no_token.text and "<nav>" in no_token.text
    assert bad_status.status_code == 422 and "<title>Check what was sent · docgap</title>" in bad_status.text
    assert no_field.status_code == 422 and "into" in no_field.text and '"detail"' not in no_field.text
