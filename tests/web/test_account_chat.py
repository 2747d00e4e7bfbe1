"""The chat answers account managers' questions about accounts from the account data, with links (offline).

Figures in the answers are checked against the database directly, and the answers are read as a page over HTTP.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, col, func, select

from core.models import Account, Question, Topic
from core.runtime import Runtime
from tests.conftest import LiveServer, logged_in, make_runtime
from tests.openai_server import FakeOpenAI
from usecases.account_questions import recognise
from usecases.chat import ACCOUNT_DATA, ACCOUNT_DATA_LLM, TOOLS, chat
from usecases.permissions import user_actor

AM = user_actor("ada-am", "account_manager")


def _account(rt: Runtime, name: str) -> Account:
    with Session(rt.engine) as s:
        return s.exec(select(Account).where(Account.name == name)).one()


def _asked_since(rt: Runtime, account_id: int, days: int) -> int:
    since = rt.clock() - timedelta(days=days)
    with Session(rt.engine) as s:
        return s.exec(
            select(func.count()).where(
                Question.account_id == account_id, Question.created_at >= since, Question.created_at < rt.clock()
            )
        ).one()


@pytest.mark.parametrize(
    ("text", "kind", "days"),
    [
        ("What is Brightline Logistics asking about this quarter?", "activity", 90),
        ("what has brightline asked in the last 2 weeks?", "activity", 14),
        ("Prepare me for my call with Vantage Media", "prep", 90),
        ("Any tickets from Vantage this month?", "activity", 30),
        ("Which accounts asked about card delivery?", "who", 90),
        ("Who else asked about exchange rates this week?", "who", 7),
    ],
)
def test_account_questions_are_recognised(demo_runtime: Runtime, text: str, kind: str, days: int) -> None:
    q = recognise(demo_runtime, text)
    assert q is not None and (q.kind, q.days) == (kind, days), q


@pytest.mark.parametrize(
    "text",
    ["How do I change my PIN?", "How does Brightline Logistics change its PIN?", "Why was my transfer declined?"],
)
def test_doc_questions_stay_doc_questions(demo_runtime: Runtime, text: str) -> None:
    assert recognise(demo_runtime, text) is None
    assert chat(demo_runtime, AM, text).mode != ACCOUNT_DATA


def test_the_selected_account_stands_in_for_they(demo_runtime: Runtime) -> None:
    q = recognise(demo_runtime, "What have they asked this month?", selected_account="Vantage Media")
    assert q is not None and q.account == "Vantage Media" and q.days == 30
    assert recognise(demo_runtime, "How do I order a card?", selected_account="Vantage Media") is None


def test_what_an_account_asked_matches_the_data(demo_runtime: Runtime) -> None:
    account = _account(demo_runtime, "Brightline Logistics")
    a = chat(demo_runtime, AM, "What is Brightline Logistics asking about this quarter?")
    assert a.mode == ACCOUNT_DATA and a.covered
    assert f"(/accounts/{account.id})" in a.answer
    n = _asked_since(demo_runtime, account.id or 0, 90)
    assert f"asked **{n}** questions in the last 90 days" in a.answer
    linked = [int(t) for t in re.findall(r"\(/topics/(\d+)\)", a.answer)]
    with Session(demo_runtime.engine) as s:
        since = demo_runtime.clock() - timedelta(days=90)
        top = s.exec(
            select(Question.topic_id, func.count())
            .where(Question.account_id == account.id, Question.created_at >= since, col(Question.topic_id).is_not(None))
            .group_by(Question.topic_id)
            .order_by(func.count().desc())
        ).first()
        # Every question quoted as "Latest" is this account's own (no other account's text leaks in).
        own = set(s.exec(select(Question.text).where(Question.account_id == account.id)).all())
    counts = [int(n) for n in re.findall(r"^- \[.+?\]\(/topics/\d+\): (\d+)", a.answer, re.M)]
    assert top is not None and linked and counts[0] == top[1], "the most asked topic comes first"
    assert counts == sorted(counts, reverse=True)
    quoted = re.findall(r"^- \d{4}-\d\d-\d\d: “(.+?)” \(", a.answer, re.M)
    assert len(quoted) == 5
    assert all(any(q.replace("\\", "") == t[:160] for t in own) for q in quoted), quoted
    assert "**Rising:**" in a.answer, "the demo's planted rising account says so, with its focus topics"


def test_call_brief_has_facts_and_actions(demo_runtime: Runtime) -> None:
    account = _account(demo_runtime, "Vantage Media")
    a = chat(demo_runtime, AM, "Prepare me for my call with Vantage Media")
    assert a.answer.startswith(f"**Call brief: [Vantage Media](/accounts/{account.id})**")
    assert account.renewal_date and f"renews {account.renewal_date.isoformat()}" in a.answer
    actions = a.answer.split("Suggested:")[1]
    assert re.search(r"send them \[[^\]]+\]\(/kb/[^)]+\)", actions), "a documented topic points at its page"


def test_which_accounts_asked_counts_per_account(demo_runtime: Runtime) -> None:
    a = chat(demo_runtime, AM, "Which accounts asked about card delivery?")
    topics = [int(t) for t in re.findall(r"\(/topics/(\d+)\)", a.answer.split("\n")[0])]
    listed = {int(aid): int(n) for aid, n in re.findall(r"\(/accounts/(\d+)\): (\d+)", a.answer)}
    assert topics and listed
    since = demo_runtime.clock() - timedelta(days=90)
    with Session(demo_runtime.engine) as s:
        labels = [s.get(Topic, t).label.lower() for t in topics]  # type: ignore[union-attr]
        truth = dict(
            s.exec(
                select(Question.account_id, func.count())
                .where(
                    col(Question.topic_id).in_(topics),
                    Question.created_at >= since,
                    Question.created_at < demo_runtime.clock(),
                    col(Question.account_id).is_not(None),
                )
                .group_by(Question.account_id)
            ).all()
        )
    assert any("card" in label and "deliver" in label for label in labels), labels
    assert listed == truth


def test_hostile_account_names_stay_text_on_the_page(demo_copy: Runtime, web_users) -> None:  # type: ignore[no-untyped-def]
    """An account name from a CRM file is customer data: in the chat's Markdown and HTML it is text, not markup."""
    with Session(demo_copy.engine) as s:
        s.add(Account(name="Zeta <script>alert(1)</script> [x](javascript:alert(2)) Ltd", owner="*bold*"))
        s.commit()
    with LiveServer(demo_copy) as server, logged_in(server.url, *web_users["account_manager"]) as (client, csrf):
        page = client.post("/chat", data={"question": "Prepare me for my call with Zeta", "csrf_token": csrf})
    assert page.status_code == 200 and "from the account data" in page.text
    assert "<script>alert(1)" not in page.text and 'href="javascript:' not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_the_chat_page_links_to_the_account(live_server: LiveServer, demo_runtime: Runtime, web_users) -> None:  # type: ignore[no-untyped-def]
    account = _account(demo_runtime, "Brightline Logistics")
    with logged_in(live_server.url, *web_users["account_manager"]) as (client, csrf):
        page = client.post(
            "/chat", data={"question": "What has Brightline Logistics asked this month?", "csrf_token": csrf}
        )
        assert page.status_code == 200
        assert f'href="/accounts/{account.id}"' in page.text and "from the account data" in page.text
        assert client.get(f"/accounts/{account.id}").status_code == 200
    assert httpx.get(f"{live_server.url}/chat").status_code == 303, "still behind the login"


def _llm_runtime(demo_runtime: Runtime, server: FakeOpenAI) -> Runtime:
    return make_runtime(demo_runtime.settings.data_dir, demo_runtime.embedder, llm_base_url=server.base_url)


def test_with_an_llm_the_model_picks_the_tool_and_writes_from_its_data(
    demo_runtime: Runtime, openai_server: FakeOpenAI
) -> None:
    rt = _llm_runtime(demo_runtime, openai_server)
    account = _account(demo_runtime, "Brightline Logistics")
    a = chat(rt, AM, "What is Brightline Logistics asking about this quarter?")
    assert a.mode == ACCOUNT_DATA_LLM and a.answer.startswith("Here is what the account data shows.")
    assert f"(/accounts/{account.id})" in a.answer
    first, second = openai_server.requests[-2:]
    assert [t["function"]["name"] for t in first["body"]["tools"]] == [t["function"]["name"] for t in TOOLS]
    assert "<question>" in first["body"]["messages"][-1]["content"], "the question is fenced as data"
    tool_turn = second["body"]["messages"][-1]
    assert tool_turn["role"] == "tool" and tool_turn["content"].startswith("<data>"), "tool results are fenced too"
    n = _asked_since(demo_runtime, account.id or 0, 90)
    assert f"**{n}** questions" in tool_turn["content"], "the tool ran the same use case as the offline chat"


def test_with_an_llm_doc_questions_still_get_cited_doc_answers(
    demo_runtime: Runtime, openai_server: FakeOpenAI
) -> None:
    rt = _llm_runtime(demo_runtime, openai_server)
    a = chat(rt, AM, "How do I change my PIN?")
    assert a.mode == "llm" and a.citations, "answer_from_docs goes through the cited answer path"
    assert any(r["body"].get("tools") for r in openai_server.requests)


def test_an_llm_that_invents_links_is_not_shown(demo_runtime: Runtime, openai_server: FakeOpenAI) -> None:
    """A model told (by text planted in a question) to add a link gets its answer replaced by the data itself."""
    rt = _llm_runtime(demo_runtime, openai_server)
    openai_server.tool_reply = "Brightline asked a lot. [Log in](https://evil.example/login) and [x](/accounts/999)."
    a = chat(rt, AM, "Prepare me for my call with Brightline Logistics")
    assert a.mode == ACCOUNT_DATA and "evil.example" not in a.answer and "/accounts/999" not in a.answer
    assert a.answer.startswith("**Call brief: [Brightline Logistics]")


def test_an_llm_that_fails_falls_back_to_the_offline_answer(demo_runtime: Runtime, embedder) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import free_port

    rt = make_runtime(demo_runtime.settings.data_dir, embedder, llm_base_url=f"http://127.0.0.1:{free_port()}/v1")
    a = chat(rt, AM, "What is Brightline Logistics asking about this quarter?")
    assert a.mode == ACCOUNT_DATA and "**Rising:**" in a.answer
