"""The gap board as a writer's queue, over real HTTP and in real Chromium, on a private copy of the analysed demo.

The copy gets a few writer decisions first (some topics triaged, in progress, documented, verified, dismissed) so
every column has something in it; the tests then move cards, set statuses in bulk and open the evidence drawer,
with and without JavaScript, and check the database after each.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlmodel import Session, col, select

from core.models import Topic
from core.runtime import Runtime
from tests.conftest import CHROMIUM, WEB_USERS, LiveServer, copy_data, logged_in
from usecases.permissions import OPERATOR
from usecases.topics import COLUMN_LIMIT, QUEUE, change_topic

pytestmark = [pytest.mark.timeout(300), pytest.mark.backends]

SEEDED = {"triaged": 3, "in_progress": 2, "documented": 2, "verified": 1, "dismissed": 2}
"""How many of the biggest gaps the fixture moves out of "new", per status."""


@pytest.fixture(scope="module")
def runtime(demo_runtime: Runtime, web_users, tmp_path_factory: pytest.TempPathFactory) -> Runtime:  # type: ignore[no-untyped-def]
    target = tmp_path_factory.mktemp("board-queue") / "data"
    rt = copy_data(demo_runtime.settings.data_dir, target, demo_runtime.embedder)
    ids = iter(_ids(rt, "new", gaps_only=True))
    for status, n in SEEDED.items():
        for _ in range(n):
            change_topic(rt, OPERATOR, next(ids), status)
    return rt


@pytest.fixture(scope="module")
def server(runtime: Runtime) -> Iterator[LiveServer]:
    with LiveServer(runtime) as s:
        yield s


def _ids(rt: Runtime, status: str, gaps_only: bool = False) -> list[int]:
    """Active topics with `status` in the board's order (biggest gap first, then largest, then id)."""
    with Session(rt.engine) as s:
        q = select(Topic.id).where(col(Topic.active).is_(True), Topic.status == status)
        if gaps_only:
            q = q.where(col(Topic.gap_kind).is_not(None))
        return [i for i in s.exec(q.order_by(col(Topic.gap_score).desc(), col(Topic.size).desc(), col(Topic.id)))]


def _status(rt: Runtime, topic_id: int) -> str:
    with Session(rt.engine) as s:
        t = s.get(Topic, topic_id)
        assert t is not None
        return t.status


def _columns(html: str) -> dict[str, list[int]]:
    """Card ids per column of a queue page, top to bottom."""
    soup = BeautifulSoup(html, "html.parser")
    return {
        c["data-status"]: [int(a["id"].removeprefix("card-")) for a in c.select("article.tcard")]
        for c in soup.select("section.column")
    }


def _move_form(html: str, topic_id: int, to: str) -> dict[str, str]:
    """The fields of a card's move form (as the browser would send them)."""
    soup = BeautifulSoup(html, "html.parser")
    button = soup.find("button", id=f"move-{topic_id}-{to}")
    assert button is not None, f"no button moving topic {topic_id} to {to}"
    form = button.find_parent("form")
    assert form["action"] == f"/topics/{topic_id}/status" and form["method"] == "post"
    return {i["name"]: i["value"] for i in form.select("input[type=hidden]")}


def test_columns_hold_the_topics_of_their_status(server: LiveServer, runtime: Runtime) -> None:
    with logged_in(server.url, *WEB_USERS["docs_writer"]) as (client, _):
        html = client.get("/?view=all").text
    columns = _columns(html)
    assert list(columns) == list(QUEUE), "one column per queue status, in order, dismissed hidden"
    for status, shown in columns.items():
        expected = _ids(runtime, status)
        assert shown == expected[:COLUMN_LIMIT], status
        count = BeautifulSoup(html, "html.parser").select_one(f"#col-{status} .count")
        assert count is not None and int(count.text) == len(expected)
    assert len(columns["new"]) == COLUMN_LIMIT and len(_ids(runtime, "new")) > COLUMN_LIMIT
    more = BeautifulSoup(html, "html.parser").select_one("section.column[data-status=new] a.more")
    assert more is not None and more.text.startswith(f"{len(_ids(runtime, 'new')) - COLUMN_LIMIT} more")
    assert parse_qs(urlsplit(more["href"]).query) == {"view": ["all"], "status": ["new"], "layout": ["table"]}
    # the default view is the gaps: every card there carries a gap badge
    gaps = BeautifulSoup(client_get(server, "/"), "html.parser")
    assert {b.text for b in gaps.select("article.tcard .badge")} <= {"missing", "partial", "findability"}


def client_get(server: LiveServer, url: str, role: str = "docs_writer") -> str:
    with logged_in(server.url, *WEB_USERS[role]) as (client, _):
        r = client.get(url)
        assert r.status_code == 200, r.status_code
        return r.text


def test_dismissed_are_hidden_but_one_link_away(server: LiveServer, runtime: Runtime) -> None:
    dismissed = _ids(runtime, "dismissed")
    assert len(dismissed) == SEEDED["dismissed"]
    html = client_get(server, "/?view=all")
    shown = {i for ids in _columns(html).values() for i in ids}
    assert not shown & set(dismissed)
    link = BeautifulSoup(html, "html.parser").find("a", string=re.compile(r"Show dismissed"))
    assert link is not None and link.text.strip() == f"Show dismissed ({len(dismissed)})"
    assert parse_qs(urlsplit(link["href"]).query) == {"view": ["all"], "dismissed": ["1"]}
    revealed = _columns(client_get(server, link["href"]))
    assert list(revealed) == [*QUEUE, "dismissed"] and revealed["dismissed"] == dismissed
    # the status filter narrows the queue to that one column
    assert _columns(client_get(server, "/?view=all&status=dismissed")) == {"dismissed": dismissed}
    # and the table layout still lists everything, dismissed included
    table = client_get(server, "/?view=all&layout=table&status=dismissed")
    assert {int(i) for i in re.findall(r'<a href="/topics/(\d+)">', table)} == set(dismissed)


def test_a_move_button_changes_the_status_and_returns_to_the_same_filtered_board(
    server: LiveServer, runtime: Runtime
) -> None:
    board = "/?view=all&days=90&language=en"
    with logged_in(server.url, *WEB_USERS["docs_writer"]) as (client, _):
        before = _columns(client.get(board).text)
        topic = before["new"][0]
        fields = _move_form(client.get(board).text, topic, "triaged")
        assert fields["status"] == "triaged" and fields["back"] == board
        r = client.post(f"/topics/{topic}/status", data=fields)
        assert r.status_code == 303 and r.headers["location"] == board
        assert _status(runtime, topic) == "triaged"
        after = _columns(client.get(r.headers["location"]).text)
        assert topic in after["triaged"] and topic not in after["new"]
        # and back: the triaged card's left button returns it to new
        back_fields = _move_form(client.get(board).text, topic, "new")
        assert client.post(f"/topics/{topic}/status", data=back_fields).headers["location"] == board
    assert _status(runtime, topic) == "new"


def test_bulk_status_for_writers_and_refused_for_account_managers(server: LiveServer, runtime: Runtime) -> None:
    picked = _ids(runtime, "new")[-3:]
    with logged_in(server.url, *WEB_USERS["account_manager"]) as (client, csrf):
        html = client.get("/?view=all").text
        assert 'action="/topics/bulk/status"' not in html and 'name="topic_ids"' not in html
        assert "/status" not in "".join(str(f) for f in BeautifulSoup(html, "html.parser").select("form"))
        assert _columns(html)["new"], "the account manager still sees the queue"
        r = client.post("/topics/bulk/status", data={"topic_ids": picked, "status": "documented", "csrf_token": csrf})
        assert r.status_code == 403
    assert {_status(runtime, t) for t in picked} == {"new"}

    with logged_in(server.url, *WEB_USERS["docs_writer"]) as (client, csrf):
        html = client.get("/?view=all").text
        bulk = BeautifulSoup(html, "html.parser").find("form", id="bulk")
        assert bulk is not None and bulk.find("input", attrs={"name": "csrf_token"})["value"] == csrf
        boxes = BeautifulSoup(html, "html.parser").select("input[name=topic_ids][form=bulk]")
        assert len(boxes) == sum(len(ids) for ids in _columns(html).values())
        # a typo or a topic that is not there changes nothing, not even the others
        base = {"topic_ids": picked, "csrf_token": csrf, "back": "/?view=all"}
        assert client.post("/topics/bulk/status", data={**base, "status": "done"}).status_code == 422
        gone = {**base, "topic_ids": [*picked, 999_999], "status": "documented"}
        assert client.post("/topics/bulk/status", data=gone).status_code == 404
        assert {_status(runtime, t) for t in picked} == {"new"}
        r = client.post("/topics/bulk/status", data={**base, "status": "documented"})
        assert r.status_code == 303 and r.headers["location"] == "/?view=all"
        assert {_status(runtime, t) for t in picked} == {"documented"}
        assert set(picked) <= set(_columns(client.get("/?view=all").text)["documented"])
        client.post("/topics/bulk/status", data={**base, "status": "new"})
    assert {_status(runtime, t) for t in picked} == {"new"}


def _evidence(runtime: Runtime, topic_id: int) -> Topic:
    with Session(runtime.engine) as s:
        t = s.get(Topic, topic_id)
        assert t is not None
        return t


def test_the_evidence_drawer_shows_real_examples_accounts_passages_and_signals(
    server: LiveServer, runtime: Runtime
) -> None:
    topic = _ids(runtime, "new", gaps_only=True)[0]
    t = _evidence(runtime, topic)
    fragment = client_get(server, f"/topics/{topic}/evidence?back=%2F%3Fview%3Dall", role="account_manager")
    full = client_get(server, f"/?view=all&evidence={topic}", role="account_manager")
    for html in (fragment, full):
        drawer = BeautifulSoup(html, "html.parser").select_one("aside#drawer")
        assert drawer is not None
        assert t.label in drawer.select_one("h2").text
        examples = [li.text for li in drawer.select("ul.examples li")]
        assert examples and examples == t.examples[: len(examples)]
        assert drawer.select(".passage a[href^='/kb/']"), "closest passages link into the doc viewer"
        assert drawer.select(".chip"), "the accounts asking"
        assert f"{t.signals['recent_questions']} recent" in drawer.select_one(".signals").text
        assert drawer.select_one(".badge").text == t.gap_kind
    assert "<html" not in fragment and "<html" in full
    close = BeautifulSoup(fragment, "html.parser").select_one("a.close")
    assert close["href"] == "/?view=all", "closing returns to the board it was opened on"
    elsewhere = client_get(server, f"/topics/{topic}/evidence?back=//evil.example")
    assert BeautifulSoup(elsewhere, "html.parser").select_one("a.close")["href"] == "/"


def test_htmx_is_vendored_and_served_from_our_own_static_files(server: LiveServer) -> None:
    static = Path(__file__).resolve().parents[2] / "web" / "static"
    note = (static / "htmx.SOURCE.md").read_text()
    served = httpx.get(f"{server.url}/static/htmx.min.js", timeout=30)
    assert served.status_code == 200 and served.content == (static / "htmx.min.js").read_bytes()
    assert hashlib.sha256(served.content).hexdigest() in note
    assert "Zero-Clause BSD" in (static / "htmx.LICENSE.txt").read_text()
    html = client_get(server, "/")
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert "/static/htmx.min.js" in scripts and all(s.startswith("/static/") for s in scripts)


# --- in a real browser ---------------------------------------------------------------------------------------------


SCREENSHOTS = os.environ.get("DOCGAP_SCREENSHOTS") or None
browser_only = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}")


@pytest.fixture()
def open_page(browser, server: LiveServer):  # type: ignore[no-untyped-def]
    """`open_page(role, javascript=True)`: a signed-in page on the copy's server; JavaScript errors fail the test."""
    from tests.web.test_pages_browser import log_in

    contexts, errors = [], []

    def make(role: str = "docs_writer", javascript: bool = True, width: int = 1440):  # type: ignore[no-untyped-def]
        context = browser.new_context(base_url=server.url, viewport={"width": width, "height": 900},
                                      java_script_enabled=javascript)  # fmt: skip
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        log_in(page, *WEB_USERS[role])
        return page

    yield make
    for c in contexts:
        c.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def _column_ids(page, status: str) -> list[int]:  # type: ignore[no-untyped-def]
    ids = page.locator(f"section.column[data-status={status}] article.tcard").evaluate_all("els => els.map(e => e.id)")
    return [int(i.removeprefix("card-")) for i in ids]


@browser_only
def test_browser_moves_a_card_without_reloading_the_board(open_page, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = open_page()
    board = "/?view=gaps&days=90"
    page.goto(board)
    shot(page, "queue-writer")
    topic = _column_ids(page, "new")[0]
    triaged = int(page.locator("#col-triaged .count").inner_text())
    page.evaluate("window.__notReloaded = true")
    page.get_by_role("button", name=f"Move topic {topic} to triaged", exact=True).click()
    expect(page.locator(f"section.column[data-status=triaged] #card-{topic}")).to_be_visible()
    assert page.evaluate("window.__notReloaded === true"), "htmx swapped the columns; the page did not reload"
    assert page.url.endswith(board)
    assert _status(runtime, topic) == "triaged"
    expect(page.locator("#col-triaged .count")).to_have_text(str(triaged + 1))
    page.get_by_role("button", name=f"Move topic {topic} to new", exact=True).click()
    expect(page.locator(f"section.column[data-status=new] #card-{topic}")).to_be_visible()
    assert page.evaluate("window.__notReloaded === true")
    assert _status(runtime, topic) == "new"


@browser_only
def test_browser_bulk_status_on_ticked_cards(open_page, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = open_page()
    page.goto("/?view=all")
    picked = _column_ids(page, "new")[3:5]
    page.evaluate("window.__notReloaded = true")
    for t in picked:
        page.get_by_label(f"tick topic {t}", exact=True).check()
    page.get_by_label("Ticked topics to").select_option("in_progress")
    shot(page, "queue-ticked")
    page.get_by_role("button", name="Set status of ticked").click()
    for t in picked:
        expect(page.locator(f"section.column[data-status=in_progress] #card-{t}")).to_be_visible()
    assert page.evaluate("window.__notReloaded === true")
    assert {_status(runtime, t) for t in picked} == {"in_progress"}
    expect(page.locator("input[name=topic_ids]:checked")).to_have_count(0)
    for t in picked:
        change_topic(runtime, OPERATOR, t, "new")


@browser_only
def test_browser_evidence_drawer_opens_on_the_board(open_page, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = open_page("account_manager")
    page.goto("/?view=gaps")
    expect(page.locator("button.step")).to_have_count(0)
    expect(page.locator("form#bulk")).to_have_count(0)
    shot(page, "queue-account-manager")
    topic = _column_ids(page, "new")[0]
    t = _evidence(runtime, topic)
    page.evaluate("window.__notReloaded = true")
    page.get_by_role("link", name=f"Evidence for topic {topic}", exact=True).click()
    drawer = page.locator("aside#drawer")
    expect(drawer).to_be_visible()
    expect(drawer.locator("h2")).to_contain_text(t.label)
    expect(drawer.locator("ul.examples li").first).to_have_text(t.examples[0])
    assert drawer.locator(".passage").count() >= 1
    assert page.evaluate("window.__notReloaded === true")
    assert f"evidence={topic}" in page.url and "view=gaps" in page.url
    shot(page, "queue-evidence-drawer")
    drawer.get_by_role("link", name="Close the evidence").click()
    expect(page.locator("aside#drawer")).to_have_count(0)
    assert "evidence=" not in page.url and "view=gaps" in page.url


@browser_only
def test_browser_board_works_without_javascript(open_page, runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = open_page(javascript=False)
    board = "/?view=all&days=90"
    page.goto(board)
    topic = _column_ids(page, "triaged")[0]
    with page.expect_navigation():
        page.get_by_role("button", name=f"Move topic {topic} to in progress", exact=True).click()
    assert page.url.endswith(board)
    expect(page.locator(f"section.column[data-status=in_progress] #card-{topic}")).to_be_visible()
    assert _status(runtime, topic) == "in_progress"

    picked = _column_ids(page, "new")[5:7]
    for t in picked:
        page.get_by_label(f"tick topic {t}", exact=True).check()
    page.get_by_label("Ticked topics to").select_option("triaged")
    with page.expect_navigation():
        page.get_by_role("button", name="Set status of ticked").click()
    assert page.url.endswith(board)
    assert {_status(runtime, t) for t in picked} == {"triaged"}

    with page.expect_navigation():
        page.get_by_role("link", name=f"Evidence for topic {topic}", exact=True).click()
    expect(page.locator("aside#drawer h2")).to_contain_text(_evidence(runtime, topic).label)
    shot(page, "queue-no-js-drawer")
    with page.expect_navigation():
        page.get_by_role("link", name="Close the evidence").click()
    assert page.url.endswith(board)
    expect(page.locator("aside#drawer")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"^Show dismissed \(\d+\)$")).click()
    expect(page.locator("section.column[data-status=dismissed] article.tcard")).to_have_count(SEEDED["dismissed"])
    change_topic(runtime, OPERATOR, topic, "triaged")
    for t in picked:
        change_topic(runtime, OPERATOR, t, "new")


@browser_only
def test_browser_queue_fits_a_phone(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(width=400)
    page.goto("/")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(page, "queue-phone")
