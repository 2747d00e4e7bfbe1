"""The account timeline over real HTTP against the analysed demo: order, counts, filter, paging, and that changes
made through the use cases show up on the right accounts and nowhere else."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import datetime, timedelta

import httpx
from sqlmodel import Session, col, func, select

from core.models import Account, ChatTurn, Question, Topic, TopicEvent
from core.runtime import Runtime
from tests.conftest import NOW, WEB_USERS, LiveServer, logged_in
from usecases.answers import ask
from usecases.paging import PAGE_SIZE
from usecases.permissions import user_actor
from usecases.timeline import SHORT
from usecases.topics import change_topic

ENTRY = re.compile(r'<li class="tl-entry" data-kind="(\w+)" data-at="([^"]+)">(.*?)</li>', re.S)
TAB = re.compile(r'data-tab="(\w+)"[^>]*>[^<]*<span class="count">(\d+)</span>')
TEXT = re.compile(r'<p class="tl-text">(.*?)</p>', re.S)
AM = WEB_USERS["account_manager"]


def entries(page: str) -> list[tuple[str, datetime, str]]:
    return [(k, datetime.fromisoformat(at), body) for k, at, body in ENTRY.findall(page)]


def short(text: str) -> str:
    """How an entry shows a text: whitespace collapsed, long ones cut at `SHORT` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= SHORT else text[: SHORT - 1].rstrip() + "…"


def tabs(page: str) -> dict[str, int]:
    return {k: int(n) for k, n in TAB.findall(page)}


def busiest_account(rt: Runtime) -> int:
    with Session(rt.engine) as s:
        return s.exec(
            select(Question.account_id)
            .where(col(Question.account_id).is_not(None))
            .group_by(col(Question.account_id))
            .order_by(func.count().desc())
        ).first()


def expected_counts(rt: Runtime, account_id: int) -> dict[str, int]:
    """The timeline's counts computed the long way round: every row read, filtered in Python."""
    with Session(rt.engine) as s:
        questions = s.exec(select(Question).where(Question.account_id == account_id)).all()
        held = {q.topic_id for q in questions if q.topic_id}
        events = [e for e in s.exec(select(TopicEvent)).all() if e.topic_id in held or e.other_topic_id in held]
        turns = [t for t in s.exec(select(ChatTurn)).all() if t.account_id == account_id]
    return {"question": len(questions), "chat": len(turns), "topic": len(events)}


def all_pages(client: httpx.Client, url: str) -> list[tuple[str, datetime, str]]:
    out, n = [], 1
    while True:
        r = client.get(f"{url}{'&' if '?' in url else '?'}page={n}")
        assert r.status_code == 200, r.text[:300]
        out += entries(r.text)
        if 'rel="next"' not in r.text:
            return out
        n += 1


def test_anonymous_is_sent_to_log_in(live_server: LiveServer, demo_runtime: Runtime) -> None:
    url = f"/accounts/{busiest_account(demo_runtime)}/timeline?kind=question"
    r = httpx.get(live_server.url + url, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), r.headers.get("location")
    assert "tl-entry" not in r.text


def test_everything_in_time_order_with_the_database_counts(live_server: LiveServer, demo_runtime, web_users) -> None:  # type: ignore[no-untyped-def]
    account_id = busiest_account(demo_runtime)
    want = expected_counts(demo_runtime, account_id)
    assert want["question"] > 2 * PAGE_SIZE, want
    with logged_in(live_server.url, *AM) as (client, _):
        first = client.get(f"/accounts/{account_id}/timeline")
        assert first.status_code == 200
        assert tabs(first.text) == want | {"all": sum(want.values())}
        seen = all_pages(client, f"/accounts/{account_id}/timeline")
    times = [at for _, at, _ in seen]
    assert times == sorted(times, reverse=True), "newest first, across pages"
    assert Counter(k for k, _, _ in seen) == {k: n for k, n in want.items() if n}
    with Session(demo_runtime.engine) as s:
        answered = s.exec(
            select(func.count()).where(Question.account_id == account_id, col(Question.staff_answer).is_not(None))
        ).one()
    assert sum('class="tl-reply"' in body for k, _, body in seen if k == "question") == answered


def test_kind_filter_and_paging(live_server: LiveServer, demo_runtime, web_users) -> None:  # type: ignore[no-untyped-def]
    account_id = busiest_account(demo_runtime)
    base = f"/accounts/{account_id}/timeline"
    with Session(demo_runtime.engine) as s:
        newest = s.exec(
            select(Question.created_at, Question.text)
            .where(Question.account_id == account_id)
            .order_by(col(Question.created_at).desc())
        ).all()
    with logged_in(live_server.url, *AM) as (client, _):
        one = client.get(f"{base}?kind=question").text
        two = client.get(f"{base}?kind=question&page=2").text
        far = client.get(f"{base}?kind=question&page=9999").text
        unknown = client.get(f"{base}?kind=nonsense").text
        missing = client.get("/accounts/999999/timeline")
    page1, page2 = entries(one), entries(two)
    assert len(page1) == PAGE_SIZE and {k for k, _, _ in page1 + page2} == {"question"}
    assert [at for _, at, _ in page1 + page2] == [at for at, _ in newest[: len(page1) + len(page2)]]
    assert page1[-1][1] >= page2[0][1]
    shown = [html.unescape(TEXT.search(body).group(1)) for _, _, body in page1]  # type: ignore[union-attr]
    assert [short(text) for _, text in newest[:PAGE_SIZE]] == shown, "the questions' own words, unescaped"
    assert f'href="{base}?kind=question&amp;page=2"' in one, "the pager keeps the kind"
    assert 'aria-current="page">Questions' in one
    assert entries(far) and 'rel="next"' not in far, "past the end: the last page"
    assert len(entries(unknown)) == PAGE_SIZE and 'aria-current="page">All' in unknown
    assert missing.status_code == 404


def test_changes_made_through_the_use_cases_land_on_the_right_accounts(demo_copy: Runtime, web_users) -> None:  # type: ignore[no-untyped-def]
    """A rename and a status change of a topic show on an account whose questions are in it and not on one whose
    questions are not; a chat question about an account shows on that account only; all customer text escaped."""
    with Session(demo_copy.engine) as s:
        rows = s.exec(select(Question.account_id, Question.topic_id).where(col(Question.topic_id).is_not(None))).all()
        names = dict(s.exec(select(Account.id, Account.name)).all())
        empty = Account(name="Quiet Co")
        s.add(empty)
        s.commit()
        empty_id = empty.id
    holders: dict[int, set[int]] = {}
    for account_id, topic_id in rows:
        holders.setdefault(topic_id, set()).add(account_id)
    topic_id, inside = min(holders.items(), key=lambda item: (len(item[1]), item[0]))
    mine = min(inside)
    other = next(a for a, _ in rows if a and a not in inside)
    with Session(demo_copy.engine) as s:
        current = s.exec(select(Topic.status).where(Topic.id == topic_id)).one()
    status = "verified" if current == "documented" else "documented"
    label = "Card <script>alert(1)</script> & limits"
    before = {a: expected_counts(demo_copy, a) for a in (mine, other)}

    # Each at its own time after the tests' clock: the session's demo may already hold entries stamped NOW (other
    # tests chat on it), and equal times would leave "newest first" to the tie-break.
    def at(minutes: int) -> Runtime:
        return Runtime(demo_copy.settings, clock=lambda: NOW + timedelta(minutes=minutes),
                       embedder_override=demo_copy.embedder)  # fmt: skip

    change_topic(at(1), user_actor("wes", "docs_writer"), topic_id, status, label=label)
    ask(at(2), user_actor("ada", "account_manager"), "Why was <b>my</b> card declined?", account=names[mine])

    with LiveServer(demo_copy) as server, logged_in(server.url, *AM) as (client, _):
        page = client.get(f"/accounts/{mine}/timeline").text
        theirs = client.get(f"/accounts/{other}/timeline").text
        their_chat = client.get(f"/accounts/{other}/timeline?kind=chat").text
        changes = client.get(f"/accounts/{mine}/timeline?kind=topic").text
        quiet = client.get(f"/accounts/{empty_id}/timeline").text
        account_page = client.get(f"/accounts/{mine}").text
    assert tabs(page)["topic"] == before[mine]["topic"] + 2 and tabs(page)["chat"] == before[mine]["chat"] + 1
    assert tabs(theirs) == before[other] | {"all": sum(before[other].values())}
    top = entries(page)[:3]
    assert [k for k, _, _ in top] == ["chat", "topic", "topic"], "the newest things first"
    chat, renamed, moved = (body for _, _, body in top)
    assert "Why was &lt;b&gt;my&lt;/b&gt; card declined?" in chat
    assert f"Status: {current.replace('_', ' ')} → {status}" in moved
    assert f'href="/topics/{topic_id}"' in renamed and "Renamed" in renamed
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; limits" in page and "<script>alert(1)" not in page
    assert "alert(1)" not in theirs
    assert [k for k, _, _ in entries(changes)] == ["topic"] * tabs(page)["topic"], "the filter shows one kind"
    assert all('href="/topics/' in body for _, _, body in entries(changes))
    assert ('class="empty"' in their_chat) == (before[other]["chat"] == 0)
    assert 'class="empty"' in quiet and "Nothing about this account yet" in quiet and "tl-entry" not in quiet
    assert f'href="/accounts/{mine}/timeline"' in account_page, "the account page links to its timeline"


def test_a_page_added_to_a_documented_topic_reads_as_such_not_as_a_status_move() -> None:
    """Recording the page (or its shipping day) on a topic already documented logs documented → documented."""
    from usecases.timeline import _describe

    at = datetime(2026, 11, 18)
    page = {"documented_at": "2026-10-14T00:00:00", "doc_url": "cards/pin.md"}
    added = TopicEvent(at=at, kind="status", topic_id=7, detail={"from": "documented", "to": "documented", **page})
    moved = TopicEvent(at=at, kind="status", topic_id=7, detail={"from": "triaged", "to": "documented"})
    assert _describe(added, {7: "PIN"}) == ("Documented page recorded (shipped 2026-10-14)",
                                            "“PIN”, answered by cards/pin.md")  # fmt: skip
    assert _describe(moved, {7: "PIN"}) == ("Status: triaged → documented", "“PIN”")
