"""The account timeline over real HTTP against the analysed demo: order, counts, filter, paging, and that changes
made through the use cases show up on the right accounts and nowhere else; risk flags raised and cleared by the
checks show at their dates among the rest."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, col, func, select

from core.models import Account, ChatTurn, Question, RiskFlag, Topic, TopicEvent
from core.runtime import Runtime
from reports.risk import KINDS as FLAG_KINDS
from reports.risk import evaluate_flags
from tests.conftest import NOW, WEB_USERS, LiveServer, logged_in
from usecases.answers import ask
from usecases.paging import PAGE_SIZE
from usecases.permissions import user_actor
from usecases.timeline import SHORT
from usecases.topics import change_topic

ENTRY = re.compile(r'<li class="tl-entry" data-kind="(\w+)" data-at="([^"]+)">(.*?)</li>', re.S)
TAB = re.compile(r'data-tab="(\w+)"[^>]*>[^<]*<span class="count">(\d+)</span>')
TEXT = re.compile(r'<p class="tl-text">(.*?)</p>', re.S)
TITLE = re.compile(r'<p class="tl-title"><span class="badge kind-\w+">[^<]*</span>(.*?)</p>', re.S)
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
        flags = [f for f in s.exec(select(RiskFlag)).all() if f.account_id == account_id]
    return {"question": len(questions), "chat": len(turns), "topic": len(events),
            "flags": len(flags) + sum(f.cleared_at is not None for f in flags)}  # fmt: skip


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


FLAG_CHECKS = [NOW - timedelta(weeks=w) for w in (12, 10, 8, 6, 4, 2, 0)]
"""Weekly-ish checks over the demo, as in `tests/briefs/test_flag_list.py`: they raise flags and clear some."""
RISING = "Brightline Logistics"
RENAMED = "Transfers that never reached the recipient"


def title(body: str) -> str:
    return html.unescape(" ".join(TITLE.search(body).group(1).split()))  # type: ignore[union-attr]


def flag_entries(rt: Runtime, account_id: int) -> list[tuple[datetime, str, str]]:
    """(at, title, summary) of every entry the account's stored flags should give, read from the rows."""
    with Session(rt.engine) as s:
        rows = s.exec(select(RiskFlag).where(RiskFlag.account_id == account_id)).all()
    out = [(r.raised_at, f"Flag raised: {FLAG_KINDS[r.kind]}", r.summary) for r in rows]
    out += [(r.cleared_at, f"Flag cleared: {FLAG_KINDS[r.kind]}", r.summary) for r in rows if r.cleared_at]
    return sorted(out, reverse=True)


@pytest.fixture(scope="module")
def flag_history(module_demo: Runtime) -> tuple[Runtime, str]:
    """The module's copy of the demo after the checks, then a writer renaming the topic Brightline's velocity
    flag quotes (after the last check, so the stored flag still quotes the old title)."""
    for at in FLAG_CHECKS:
        evaluate_flags(module_demo, at)
    with Session(module_demo.engine) as s:
        brightline = s.exec(select(Account.id).where(Account.name == RISING)).one()
        row = s.exec(select(RiskFlag).where(RiskFlag.account_id == brightline, RiskFlag.kind == "velocity",
                                            col(RiskFlag.cleared_at).is_(None))).one()  # fmt: skip
        quoted = row.evidence["quotes"][0]
        status = s.exec(select(Topic.status).where(Topic.id == quoted["topic_id"])).one()
    assert quoted["title"] != RENAMED and f"“{quoted['title']}”" in row.summary
    change_topic(module_demo, user_actor("wes", "docs_writer"), quoted["topic_id"], status, label=RENAMED)
    return module_demo, quoted["title"]


def test_flags_show_raised_and_cleared_at_their_dates_among_the_questions(flag_history: tuple[Runtime, str]) -> None:
    rt, old = flag_history
    with Session(rt.engine) as s:
        flags = s.exec(select(RiskFlag).where(col(RiskFlag.cleared_at).is_not(None))).all()
        spans = {a: (lo, hi) for a, lo, hi in s.exec(
            select(Question.account_id, func.min(Question.created_at), func.max(Question.created_at))
            .group_by(col(Question.account_id))).all()}  # fmt: skip
        brightline = s.exec(select(Account.id).where(Account.name == RISING)).one()
    # a cleared flag raised while the account's questions kept coming, so it sits between two of them
    flag = next(f for f in flags if f.account_id in spans and spans[f.account_id][0] < f.raised_at
                < spans[f.account_id][1])  # fmt: skip
    account_id = flag.account_id
    base = f"/accounts/{account_id}/timeline"
    want = flag_entries(rt, account_id)
    assert any(t.startswith("Flag cleared") for _, t, _ in want) and any(
        t.startswith("Flag raised") for _, t, _ in want
    )
    with LiveServer(rt) as server, logged_in(server.url, *AM) as (client, _):
        first = client.get(base).text
        seen = all_pages(client, base)
        only = client.get(f"{base}?kind=flags").text
        rising = client.get(f"/accounts/{brightline}/timeline?kind=flags").text

    times = [at for _, at, _ in seen]
    assert times == sorted(times, reverse=True), "flags in time order with the rest, across pages"
    shown = [(at, title(body), html.unescape(body)) for k, at, body in seen if k == "flags"]
    assert sorted((at, t) for at, t, _ in shown) == sorted((at, t) for at, t, _ in want), "a raise and a clear each"
    summaries = {(at, t): summary.replace(f"“{old}”", f"“{RENAMED}”") for at, t, summary in want}
    for at, t, body in shown:
        assert summaries[at, t] in body, "the flag's one-line evidence"
        assert f'href="/accounts/{account_id}/brief"' in body, "a link to the account's brief"
    raised = next(i for i, (k, at, body) in enumerate(seen) if k == "flags" and at == flag.raised_at
                  and title(body).startswith("Flag raised"))  # fmt: skip
    assert any(k == "question" for k, _, _ in seen[:raised]) and any(k == "question" for k, _, _ in seen[raised:])
    assert tabs(first) == expected_counts(rt, account_id) | {"all": len(seen)} and tabs(first)["flags"] == len(want)

    assert sorted((at, title(body)) for _, at, body in entries(only)) == sorted((at, t) for at, t, _ in want)
    assert {k for k, _, _ in entries(only)} == {"flags"}, "the filter shows flags only"
    assert 'aria-current="page">Risk flags' in only and f'href="{base}?kind=flags"' in first

    assert "not recorded yet" not in first
    assert (
        "Briefs are made on demand" in first
        and f'<a href="/accounts/{account_id}/brief">open the current brief' in first
    )

    velocity = next(body for _, _, body in entries(rising) if title(body) == "Flag raised: Question velocity rising")
    assert f"“{RENAMED}”" in html.unescape(velocity), "a renamed topic under its current title, as in the brief"


def test_paging_across_a_boundary_with_flags_drops_and_repeats_nothing(demo_copy: Runtime, web_users) -> None:  # type: ignore[no-untyped-def]
    """A flag's raise and clear moved to the times of the entries around the first page's end (ties included):
    the pages together are the whole timeline in order, each entry once."""
    assert evaluate_flags(demo_copy, NOW).raised
    with Session(demo_copy.engine) as s:
        flagged = set(s.exec(select(RiskFlag.account_id)).all())
        account_id = max(flagged, key=lambda a: expected_counts(demo_copy, a)["question"])
        flag_id = s.exec(select(RiskFlag.id).where(RiskFlag.account_id == account_id)).first()
    base = f"/accounts/{account_id}/timeline"
    with LiveServer(demo_copy) as server, logged_in(server.url, *AM) as (client, _):
        before = all_pages(client, base)
        rest = [(k, at) for k, at, _ in before if k != "flags"]
        assert len(rest) > PAGE_SIZE + 1, len(rest)
        with Session(demo_copy.engine) as s:
            row = s.get(RiskFlag, flag_id)
            row.raised_at, row.cleared_at = rest[PAGE_SIZE][1], rest[PAGE_SIZE - 2][1]
            s.add(row)
            s.commit()
        one = entries(client.get(base).text)
        two = entries(client.get(f"{base}?page=2").text)
        after = all_pages(client, base)
    flags = [(k, at) for k, at, _ in after if k == "flags"]
    assert ("flags", rest[PAGE_SIZE][1]) in flags and ("flags", rest[PAGE_SIZE - 2][1]) in flags
    expected = sorted(rest + flags, key=lambda e: (-e[1].timestamp(), e[0]))
    assert [(k, at) for k, at, _ in after] == expected, "every entry once, in order"
    assert len(one) == PAGE_SIZE and "flags" in {k for k, _, _ in one} and "flags" in {k for k, _, _ in two}
    assert [(k, at) for k, at, _ in one + two] == expected[: len(one) + len(two)]
    cleared = [body for k, _, body in after if k == "flags" and "Flag cleared" in title(body)]
    assert len(cleared) == 1 and len(flags) == 1 + sum(1 for k, _, _ in before if k == "flags")
