"""The chat streams its answer as server-sent events (real HTTP), and the page works with and without JavaScript."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from core.runtime import Runtime
from tests.conftest import LiveServer, logged_in, make_runtime
from tests.openai_server import FakeOpenAI


def _events(body: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for block in body.strip().split("\n\n"):
        name = re.search(r"^event: (.*)$", block, re.M)
        data = re.search(r"^data: (.*)$", block, re.M)
        assert name and data, block
        out.append((name.group(1), json.loads(data.group(1))))
    return out


def _ask_stream(client: httpx.Client, csrf: str, question: str) -> list[tuple[str, dict[str, str]]]:
    r = client.post("/chat/stream", data={"question": question, "csrf_token": csrf})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    return _events(r.text)


def test_offline_stream_ends_with_the_same_answer_as_the_page(live_server: LiveServer, web_users) -> None:  # type: ignore[no-untyped-def]
    with logged_in(live_server.url, *web_users["account_manager"]) as (client, csrf):
        events = _ask_stream(client, csrf, "How do I change my PIN?")
        page = client.post("/chat", data={"question": "How do I change my PIN?", "csrf_token": csrf}).text
    kinds = [k for k, _ in events]
    assert kinds[-1] == "done" and set(kinds[:-1]) == {"delta"}
    done = events[-1][1]["html"]
    assert '<ol class="citations">' in done and 'href="/kb/' in done
    section = re.search(r'<section class="answer.*?</section>', page, re.S)

    def same(html: str) -> str:  # each ask is its own turn, with its own feedback form
        return re.sub(r"/chat/turns/\d+/", "/chat/turns/N/", html.strip())

    assert section and same(section.group(0)) == same(done), "JavaScript or not, the same answer"
    assert 'name="csrf_token"' in done and 'value="yes"' in done, "the streamed answer can be rated too"


def test_account_questions_stream_too(live_server: LiveServer, web_users) -> None:  # type: ignore[no-untyped-def]
    with logged_in(live_server.url, *web_users["account_manager"]) as (client, csrf):
        events = _ask_stream(client, csrf, "Which accounts asked about card delivery?")
    assert events[-1][0] == "done" and "from the account data" in events[-1][1]["html"]
    assert re.search(r'href="/accounts/\d+"', events[-1][1]["html"])


def test_with_an_llm_the_answer_arrives_in_pieces(demo_copy: Runtime, web_users) -> None:  # type: ignore[no-untyped-def]
    with FakeOpenAI() as llm:
        rt = make_runtime(demo_copy.settings.data_dir, demo_copy.embedder, llm_base_url=llm.base_url)
        with LiveServer(rt) as server, logged_in(server.url, *web_users["docs_writer"]) as (client, csrf):
            events = _ask_stream(client, csrf, "How do I change my PIN?")
        assert any(r["body"].get("stream") for r in llm.requests), "the doc answer was streamed from the model"
    deltas = [d["text"] for k, d in events if k == "delta"]
    assert len(deltas) >= 3, deltas
    assert events[-1][0] == "done" and "written by the LLM" in events[-1][1]["html"]
    assert "[9]" not in events[-1][1]["html"], "the invented citation is dropped in the final answer"


def test_stream_needs_login_and_token(live_server: LiveServer, web_users) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(f"{live_server.url}/chat/stream", data={"question": "PIN?"})
    assert r.status_code == 303
    with logged_in(live_server.url, *web_users["account_manager"]) as (client, _):
        assert client.post("/chat/stream", data={"question": "PIN?"}).status_code == 403


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_the_chat_page_answers_in_a_browser(browser, live_server: LiveServer, web_users, javascript: bool) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from tests.web.test_pages_browser import log_in

    context = browser.new_context(base_url=live_server.url, java_script_enabled=javascript)
    try:
        context.set_default_timeout(15_000)
        page = context.new_page()
        streamed: list[str] = []
        page.on("request", lambda req: streamed.append(req.url) if req.url.endswith("/chat/stream") else None)
        log_in(page, *web_users["account_manager"])
        page.goto("/chat")
        page.locator("textarea[name=question]").fill("How long does card delivery take?")
        page.get_by_role("button", name="Ask").click()
        expect(page.locator("section.answer .citations a").first).to_be_visible()
        assert bool(streamed) is javascript, streamed
    finally:
        context.close()


def test_history_and_feedback_are_each_users_own(demo_copy: Runtime, web_users) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from core.models import ChatTurn

    with LiveServer(demo_copy) as server:
        with logged_in(server.url, *web_users["account_manager"]) as (am, csrf):
            page = am.post("/chat", data={"question": "How do I freeze my card?", "csrf_token": csrf}).text
            turn = int(re.search(r"/chat/turns/(\d+)/feedback", page).group(1))  # type: ignore[union-attr]
            rated = am.post(f"/chat/turns/{turn}/feedback", data={"helpful": "no", "csrf_token": csrf})
            assert rated.status_code == 303
            mine = am.get("/chat").text
        with logged_in(server.url, *web_users["docs_writer"]) as (writer, wcsrf):
            theirs = writer.get("/chat").text
            refused = writer.post(f"/chat/turns/{turn}/feedback", data={"helpful": "yes", "csrf_token": wcsrf})
    assert f'id="turn-{turn}"' in mine and "How do I freeze my card?" in mine and "rated not helpful" in mine
    assert f'id="turn-{turn}"' not in theirs, "another user's history is not shown"
    assert refused.status_code == 403
    with Session(demo_copy.engine) as s:
        row = s.get(ChatTurn, turn)
        assert row is not None and row.feedback == -1 and row.user_id is not None
