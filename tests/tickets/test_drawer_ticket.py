"""The doc ticket in the board's evidence drawer, over real HTTP and in Chromium, on a copy of the demo with GitHub
pointed at a local server speaking its REST API.

The drawer shows a topic's ticket (number, status, external links) or, for docs writers and admins, the button that
writes one; the button's form carries the session's CSRF token and brings the writer back to the same drawer.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlmodel import Session, col, select

from core.models import DocTicket, Topic
from core.runtime import Runtime
from tests.conftest import WEB_USERS, LiveServer, logged_in, make_runtime
from tests.tickets.servers import FakeGitHub
from usecases.permissions import OPERATOR
from usecases.tickets import create_ticket, export_tickets, set_ticket_status


@dataclass
class Rig:
    runtime: Runtime
    server: LiveServer
    github: FakeGitHub


@pytest.fixture(scope="module")
def rig(demo_runtime: Runtime, web_users, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:  # type: ignore[no-untyped-def]
    target = tmp_path_factory.mktemp("drawer-ticket") / "data"
    shutil.copytree(demo_runtime.settings.data_dir, target)
    with FakeGitHub() as github:
        rt = make_runtime(target, demo_runtime.embedder, github_api_url=github.url, github_repo=github.repo,
                          github_token=github.token)  # fmt: skip
        with LiveServer(rt) as server:
            yield Rig(rt, server, github)


def _untouched_topics(rt: Runtime) -> Iterator[int]:
    """Active gap topics with no ticket yet, biggest gap first (each test takes its own)."""
    with Session(rt.engine) as s:
        ticketed = set(s.exec(select(DocTicket.topic_id)).all())
        ids = s.exec(select(Topic.id).where(col(Topic.active).is_(True), col(Topic.gap_kind).is_not(None))
                     .order_by(col(Topic.gap_score).desc())).all()  # fmt: skip
    yield from (i for i in ids if i and i not in ticketed)


def _drawer(html: str) -> str:
    m = re.search(r'<aside id="drawer".*?</aside>', html, re.S)
    assert m, "no evidence drawer on the page"
    return m.group(0)


def _ticket_section(html: str) -> str:
    m = re.search(r'<section class="ev-ticket" id="drawer-ticket">.*?</section>', _drawer(html), re.S)
    assert m, "no ticket section in the drawer"
    return m.group(0)


def test_a_writer_creates_the_ticket_from_the_drawer_and_sees_it_there(rig: Rig) -> None:
    topic = next(_untouched_topics(rig.runtime))
    board = f"/?view=all&evidence={topic}"
    with logged_in(rig.server.url, *WEB_USERS["docs_writer"]) as (client, csrf):
        section = _ticket_section(client.get(board).text)
        assert "No ticket yet." in section and f'action="/topics/{topic}/tickets"' in section
        assert f'name="csrf_token" value="{csrf}"' in section
        back = re.search(r'name="back" value="([^"]+)"', section).group(1)  # type: ignore[union-attr]
        assert back == f"/?view=all&amp;evidence={topic}#drawer"
        partial = _ticket_section(client.get(f"/topics/{topic}/evidence?back={quote('/?view=gaps')}").text)
        assert f'value="/?view=gaps&amp;evidence={topic}#drawer"' in partial, "the htmx drawer returns to its board"

        r = client.post(f"/topics/{topic}/tickets", data={"csrf_token": csrf, "back": back.replace("&amp;", "&")})
        assert r.status_code == 303 and r.headers["location"] == f"/?view=all&evidence={topic}#drawer"
        with Session(rig.runtime.engine) as s:
            [ticket] = s.exec(select(DocTicket).where(DocTicket.topic_id == topic)).all()
        section = _ticket_section(client.get(r.headers["location"]).text)
        assert f'href="/topics/{topic}#ticket">Ticket #{ticket.id}</a>' in section
        assert 'class="chip status-open">open</span>' in section and "not yet" in section
        assert "Create doc ticket" not in section, "a live ticket is refreshed on the topic page, not re-created here"

        r = client.post(f"/tickets/{ticket.id}/export", data={"csrf_token": csrf, "tracker": "github"})
        assert r.status_code == 303, r.text[:300]
        number = next(iter(rig.github.issues))
        link = f'href="https://github.example/{rig.github.repo}/issues/{number}"'
        for page in (board, f"/topics/{topic}/evidence"):
            section = _ticket_section(client.get(page).text)
            assert link in section and f">GitHub #{number}</a>" in section and "not yet" not in section, page


def test_a_finished_ticket_shows_its_status_and_a_writer_may_start_another(rig: Rig) -> None:
    topic = next(_untouched_topics(rig.runtime))
    ticket, _ = create_ticket(rig.runtime, OPERATOR, topic)
    set_ticket_status(rig.runtime, OPERATOR, ticket.id, "done")
    with logged_in(rig.server.url, *WEB_USERS["admin"]) as (client, csrf):
        section = _ticket_section(client.get(f"/?evidence={topic}").text)
    assert f"Ticket #{ticket.id}</a>" in section and 'class="chip status-done">done</span>' in section
    assert f'action="/topics/{topic}/tickets"' in section and f'value="{csrf}"' in section


def test_an_account_manager_sees_the_ticket_but_no_button(rig: Rig) -> None:
    topics = _untouched_topics(rig.runtime)
    with_ticket, without = next(topics), next(topics)
    ticket, _ = create_ticket(rig.runtime, OPERATOR, with_ticket)
    [exported] = export_tickets(rig.runtime, OPERATOR, [ticket.id], "github")
    with logged_in(rig.server.url, *WEB_USERS["account_manager"]) as (client, csrf):
        shown = _ticket_section(client.get(f"/?view=all&evidence={with_ticket}").text)
        bare = _ticket_section(client.get(f"/topics/{without}/evidence").text)
        refused = client.post(f"/topics/{without}/tickets", data={"csrf_token": csrf, "back": "/"})
    assert f"Ticket #{ticket.id}</a>" in shown and f'href="{exported.url}"' in shown
    assert "No ticket yet." in bare
    assert "<form" not in shown and "<form" not in bare and "Create doc ticket" not in bare
    assert refused.status_code == 403
    with Session(rig.runtime.engine) as s:
        assert not s.exec(select(DocTicket).where(DocTicket.topic_id == without)).all()


def test_the_return_address_stays_on_this_site(rig: Rig) -> None:
    topic = next(_untouched_topics(rig.runtime))
    with logged_in(rig.server.url, *WEB_USERS["docs_writer"]) as (client, csrf):
        r = client.post(f"/topics/{topic}/tickets", data={"csrf_token": csrf, "back": "//evil.example/steal"})
    assert r.status_code == 303 and r.headers["location"] == f"/topics/{topic}#ticket"


def test_the_drawer_ticket_in_a_browser(browser, rig: Rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from tests.web.test_pages_browser import SCREENSHOTS, log_in

    topic = next(_untouched_topics(rig.runtime))
    with Session(rig.runtime.engine) as s:
        status = s.get(Topic, topic).status  # type: ignore[union-attr]
    context = browser.new_context(base_url=rig.server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
          and not r.url.endswith("/favicon.ico") else None)  # fmt: skip
    try:
        log_in(pg, *WEB_USERS["docs_writer"])
        pg.goto(f"/?view=all&status={status}")
        pg.get_by_label(f"Evidence for topic {topic}", exact=True).click()  # htmx swaps the drawer in
        drawer = pg.locator("#drawer")
        expect(drawer.get_by_text("No ticket yet.")).to_be_visible()
        drawer.get_by_role("button", name=f"Create the doc ticket of topic {topic}").click()
        pg.wait_for_url(re.compile(rf"evidence={topic}"))
        expect(pg.locator("#drawer-ticket")).to_contain_text("Ticket #")
        expect(pg.locator("#drawer-ticket .chip")).to_have_text("open")
        folder = Path(SCREENSHOTS or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        pg.locator("#drawer-ticket").scroll_into_view_if_needed()
        pg.screenshot(path=str(folder / "board-drawer-ticket.png"), full_page=False)
    finally:
        context.close()
    assert not errors, errors
