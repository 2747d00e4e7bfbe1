"""Doc tickets through the pages and the API, over real HTTP, on a copy of the demo with GitHub pointed at a local
server speaking its REST API."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlmodel import Session, col, select

from core.models import Question, Topic
from core.runtime import Runtime
from tests.conftest import WEB_USERS, LiveServer, logged_in, make_runtime
from tests.tickets.servers import FakeGitHub
from usecases.apikeys import create_key

HOSTILE = '<script>alert("pwn")</script><img src=x onerror=alert(1)> How do I [click](javascript:alert(1)) here?'


@dataclass
class Rig:
    runtime: Runtime
    server: LiveServer
    github: FakeGitHub


@pytest.fixture(scope="module")
def rig(demo_runtime: Runtime, web_users, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:  # type: ignore[no-untyped-def]
    target = tmp_path_factory.mktemp("ticket-pages") / "data"
    shutil.copytree(demo_runtime.settings.data_dir, target)
    with FakeGitHub() as github:
        rt = make_runtime(target, demo_runtime.embedder, github_api_url=github.url, github_repo=github.repo,
                          github_token=github.token)  # fmt: skip
        with LiveServer(rt) as server:
            yield Rig(rt, server, github)


def _topics(rt: Runtime) -> list[Topic]:
    """Active gap topics, biggest gap first."""
    with Session(rt.engine) as s:
        return list(s.exec(select(Topic).where(col(Topic.active).is_(True), col(Topic.gap_kind).is_not(None))
                           .order_by(col(Topic.gap_score).desc())).all())  # fmt: skip


def _card(html: str, topic_id: int) -> str:
    m = re.search(rf'<article class="tcard[^"]*" id="card-{topic_id}".*?</article>', html, re.S)
    assert m, f"no card for topic {topic_id}"
    return m.group(0)


def test_a_writer_creates_a_ticket_and_exports_it_from_the_pages(rig: Rig) -> None:
    topic = _topics(rig.runtime)[0]
    with logged_in(rig.server.url, *WEB_USERS["docs_writer"]) as (client, csrf):
        page = client.get(f"/topics/{topic.id}").text
        assert f'action="/topics/{topic.id}/tickets"' in page and "Create doc ticket" in page
        r = client.post(f"/topics/{topic.id}/tickets", data={"csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"] == f"/topics/{topic.id}#ticket"
        page = client.get(f"/topics/{topic.id}").text
        ticket_id = int(re.search(r'action="/tickets/(\d+)/export"', page).group(1))  # type: ignore[union-attr]
        section = re.search(r'<section class="card ticket" id="ticket">.*?</section>', page, re.S).group(0)  # type: ignore[union-attr]
        assert "Document: " in section and "Suggested outline" in section and ">offline</span>" in section
        assert section.count("<li>") >= 5 + 1, "five examples and the outline"
        assert re.findall(r'<option value="(\w+)">', section.split('name="tracker"')[1].split("</select>")[0]) == [
            "github", "markdown"], "only the configured trackers are offered"  # fmt: skip

        for _ in range(2):
            r = client.post(f"/tickets/{ticket_id}/export", data={"csrf_token": csrf, "tracker": "github"})
            assert r.status_code == 303, r.text[:300]
        assert [x.method for x in rig.github.requests] == ["POST", "GET", "PATCH"] and list(rig.github.issues) == ["1"]
        link = f'href="https://github.example/{rig.github.repo}/issues/1"'
        assert link in client.get(f"/topics/{topic.id}").text
        board = client.get(f"/?view=all&status={topic.status}").text
        card = _card(board, topic.id or 0)
        assert link in card and f"ticket #{ticket_id}" in card and "Refresh doc ticket" in card
        md = client.get(f"/tickets/{ticket_id}.md")
        assert md.headers["content-type"].startswith("text/markdown") and md.text.startswith("# Document: ")


def test_an_account_manager_reads_tickets_but_creates_and_exports_none(rig: Rig) -> None:
    topic = _topics(rig.runtime)[1]
    with logged_in(rig.server.url, *WEB_USERS["docs_writer"]) as (client, csrf):
        assert client.post(f"/topics/{topic.id}/tickets", data={"csrf_token": csrf}).status_code == 303
    issues = dict(rig.github.issues)
    with logged_in(rig.server.url, *WEB_USERS["account_manager"]) as (client, csrf):
        page = client.get(f"/topics/{topic.id}").text
        ticket_id = int(re.search(r'href="/tickets/(\d+)\.md"', page).group(1))  # type: ignore[union-attr]
        assert "Document: " in page and "Create doc ticket" not in page and "Refresh doc ticket" not in page
        assert f'action="/tickets/{ticket_id}/export"' not in page
        assert f'action="/topics/{topic.id}/tickets"' not in page
        assert "Create doc ticket" not in client.get(f"/?view=all&status={topic.status}").text
        assert client.post(f"/topics/{topic.id}/tickets", data={"csrf_token": csrf}).status_code == 403
        r = client.post(f"/tickets/{ticket_id}/export", data={"csrf_token": csrf, "tracker": "github"})
        assert r.status_code == 403
    assert rig.github.issues == issues


def test_customer_html_in_a_question_shows_as_text(rig: Rig) -> None:
    topic = _topics(rig.runtime)[2]
    with Session(rig.runtime.engine) as s:
        q = s.exec(select(Question).where(Question.topic_id == topic.id)
                   .order_by(col(Question.topic_similarity).desc())).first()  # fmt: skip
        assert q is not None
        q.text, q.topic_similarity = HOSTILE, 1.0
        s.commit()
    with logged_in(rig.server.url, *WEB_USERS["docs_writer"]) as (client, csrf):
        assert client.post(f"/topics/{topic.id}/tickets", data={"csrf_token": csrf}).status_code == 303
        page = client.get(f"/topics/{topic.id}").text
        ticket_id = int(re.search(r'href="/tickets/(\d+)\.md"', page).group(1))  # type: ignore[union-attr]
        md = client.get(f"/tickets/{ticket_id}.md").text
    section = page.split('id="ticket"')[1].split("</section>")[0]
    assert "&lt;script&gt;alert(&#34;pwn&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in section
    assert "<script>alert" not in page and "<img src=x" not in page and 'href="javascript:' not in page
    assert '\\<script\\>alert\\("pwn"\\)\\</script\\>\\<img src=x onerror=alert\\(1\\)\\>' in md
    assert "<script>" not in md and "](javascript:" not in md


def test_the_api_writes_reads_and_exports_tickets(rig: Rig) -> None:
    topic = _topics(rig.runtime)[3]
    writer = {"Authorization": f"Bearer {create_key(rig.runtime, ['topics:write'], name='t').secret}"}
    reader = {"Authorization": f"Bearer {create_key(rig.runtime, ['answers:read'], name='r').secret}"}
    with httpx.Client(base_url=rig.server.url, timeout=120) as api:
        assert api.post(f"/v1/topics/{topic.id}/tickets", headers=reader).status_code == 403
        made = api.post(f"/v1/topics/{topic.id}/tickets", headers=writer)
        assert made.status_code == 201 and made.json()["created"] is True, made.text[:300]
        again = api.post(f"/v1/topics/{topic.id}/tickets", headers=writer)
        assert again.status_code == 200 and again.json()["id"] == made.json()["id"] and not again.json()["created"]
        ticket = made.json()
        assert len(ticket["evidence"]["examples"]) == 5 and ticket["outline_mode"] == "offline"
        got = api.get(f"/v1/tickets/{ticket['id']}", headers=reader).json()
        assert got["title"] == ticket["title"] and got["exports"] == []
        assert [t["id"] for t in api.get(f"/v1/tickets?topic_id={topic.id}", headers=reader).json()] == [ticket["id"]]
        first = api.post(f"/v1/tickets/{ticket['id']}/export", json={"tracker": "markdown"}, headers=writer)
        second = api.post(f"/v1/tickets/{ticket['id']}/export", json={"tracker": "markdown"}, headers=writer)
        assert (first.json()["action"], second.json()["action"]) == ("created", "updated")
        assert first.json()["external_id"] == second.json()["external_id"]
        refused = api.post(f"/v1/tickets/{ticket['id']}/export", json={"tracker": "jira"}, headers=writer)
        assert refused.status_code == 502 and "DOCGAP_JIRA_URL" in refused.json()["detail"]
        assert api.post("/v1/topics/999999/tickets", headers=writer).status_code == 404
        assert api.get(f"/v1/tickets/{ticket['id']}", headers=reader).json()["exports"][0]["tracker"] == "markdown"
