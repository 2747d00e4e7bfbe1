"""The account and executive briefs on the demo, checked against the database they are built from."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlmodel import Session, col, select

from clustering.trends import data_end
from core.models import Account, Document, Question, Topic
from core.runtime import Runtime
from demo.build import DEPARTMENTS
from reports.account_brief import AccountBrief, QuestionRef, Sentiment, TopicLine
from reports.actions import Action
from reports.brief_render import render_body, render_markdown, render_pdf, render_print_html
from reports.risk import open_flags
from tests.conftest import NOW, make_runtime
from usecases.briefs import UnknownAccount, account_brief, executive_brief
from usecases.permissions import OPERATOR, PermissionDenied, key_actor

RISING = "Brightline Logistics"


def _period(rt: Runtime, days: int = 90) -> tuple[datetime, datetime]:
    with Session(rt.engine) as s:
        end = data_end(s, NOW)
    return end - timedelta(days=days), end


def _asked(rt: Runtime, account_id: int, since: datetime, until: datetime) -> list[Question]:
    with Session(rt.engine) as s:
        return list(s.exec(select(Question).where(Question.account_id == account_id, Question.created_at >= since,
                                                  Question.created_at < until)).all())  # fmt: skip


def _owner(rt: Runtime, question_ids: list[int]) -> set[int | None]:
    with Session(rt.engine) as s:
        return set(s.exec(select(Question.account_id).where(col(Question.id).in_(question_ids))).all())


def test_the_rising_account_brief_shows_its_rise_flags_topics_and_gaps(flagged: Runtime) -> None:
    b = account_brief(flagged, OPERATOR, RISING.upper())
    start, end = _period(flagged)
    asked = _asked(flagged, b.account_id, start, end)
    before = _asked(flagged, b.account_id, start - timedelta(days=90), start)
    assert (b.questions, b.previous_questions) == (len(asked), len(before)) and b.questions > 0
    assert b.period_end == (end - timedelta(seconds=1)).date() and b.period_start == start.date()

    assert b.velocity is not None and b.velocity.rising and b.velocity.focus_growth >= 1.0
    assert b.velocity.focus_p <= 0.05
    velocity = next(f for f in b.flags if f.kind == "velocity")
    assert velocity.question_ids and velocity.weeks and velocity.examples
    assert _owner(flagged, [i for f in b.flags for i in f.question_ids]) == {b.account_id}
    assert all(link.startswith("/") for f in b.flags for link in f.links)

    truth = Counter(q.topic_id for q in asked if q.topic_id)
    assert [(t.id, t.count) for t in b.top_topics] == [(t.id, truth[t.id]) for t in b.top_topics]
    assert [t.count for t in b.top_topics] == sorted(truth.values(), reverse=True)[: len(b.top_topics)]
    with Session(flagged.engine) as s:
        kinds = {t.id: t.gap_kind for t in s.exec(select(Topic)).all()}
        urls = {d.url for d in s.exec(select(Document)).all()}
    assert b.gaps and all(kinds[g.id] == g.gap_kind and g.count == truth[g.id] for g in b.gaps)
    assert b.gap_questions == sum(n for tid, n in truth.items() if kinds.get(tid))
    assert b.gap_topics == sum(1 for tid in truth if kinds.get(tid))

    pages = [a for a in b.actions if a.kind in ("send_page", "findable")]
    assert pages and all(a.page_url and a.page_url.split("#")[0] in urls for a in pages)
    rising = next(a for a in b.actions if a.kind == "rising")
    assert "loop in engineering" in rising.text and rising.topic_id in dict(b.velocity.focus_topics)
    assert b.requesters and all(r.questions >= 2 for r in b.requesters) and b.teams
    # Zendesk questions by the requester's department (the demo's team field), Slack ones by their channel
    assert {t.team for t in b.teams if t.team} <= set(DEPARTMENTS) and any(t.team for t in b.teams)
    assert any(t.channel and t.channel.startswith("C") and t.team is None for t in b.teams)
    assert sum(t.questions for t in b.teams) == b.questions
    assert b.sentiment.scored + b.sentiment.skipped_language == len(asked)
    assert b.mode == "offline" and b.summary.startswith(f"{RISING} asked {b.questions} questions")


def test_no_topic_in_an_account_brief_is_titled_with_another_accounts_question(flagged: Runtime) -> None:
    """Offline titles are real questions: in one account's brief a topic is titled in that account's own words."""
    with Session(flagged.engine) as s:
        accounts = dict(s.exec(select(Account.id, Account.name)).all())
        texts: dict[str, set[int | None]] = {}
        for text, account_id in s.exec(select(Question.text, Question.account_id)).all():
            texts.setdefault(" ".join(text.split()), set()).add(account_id)
        shared = s.exec(select(Topic.label).where(Topic.label_source == "question")).all()
    assert shared, "the demo's offline titles are real questions"
    retitled = 0
    for account_id, name in accounts.items():
        brief = account_brief(flagged, OPERATOR, name)
        labels = [t.label for t in brief.top_topics] + [g.label for g in brief.gaps]
        for label in labels:
            owners = texts.get(" ".join(label.split()))
            assert owners is None or account_id in owners, f"{name}'s brief quotes another account: {label!r}"
        retitled += sum(label not in shared for label in labels)
    assert retitled, "some topics carry another account's question as their title and were retitled"


def test_the_executive_brief_ranks_the_rising_account_first(flagged: Runtime) -> None:
    e = executive_brief(flagged, OPERATOR)
    with Session(flagged.engine) as s:
        arr = {a.id: a.arr or 0 for a in s.exec(select(Account)).all()}
    flags = open_flags(flagged)
    assert e.accounts[0].account == RISING and e.accounts[0].flags and e.accounts[0].rising
    assert [r.rank for r in e.accounts] == list(range(1, len(arr) + 1))
    assert {r.account_id for r in e.accounts} == set(arr)
    assert [r.weighted_risk for r in e.accounts] == sorted((r.weighted_risk for r in e.accounts), reverse=True)
    assert e.open_flags == len(flags) and e.arr_under_flags == sum(arr[i] for i in {f.account_id for f in flags})
    assert e.total_arr == sum(arr.values())
    top = e.accounts[0]
    assert {f.id for f in top.flags} == {f.id for f in flags if f.account_id == top.account_id}
    assert all(f.line and f.question_ids for f in top.flags)
    assert e.actions and e.actions[0].account == RISING
    assert any(p.action.kind == "rising" for p in e.actions)


def test_a_doc_ticket_in_progress_is_named_in_the_actions(demo_copy: Runtime) -> None:
    from usecases.tickets import create_ticket

    before = account_brief(demo_copy, OPERATOR, RISING)
    gap = next(a for a in before.actions if a.kind == "gap")
    ticket, _ = create_ticket(demo_copy, OPERATOR, gap.topic_id)
    after = account_brief(demo_copy, OPERATOR, RISING)
    action = next(a for a in after.actions if a.topic_id == gap.topic_id)
    assert action.kind == "doc_ticket" and action.ticket_id == ticket.id
    assert f"ticket #{ticket.id}" in action.text
    assert f"[ticket #{ticket.id}](/topics/{gap.topic_id})" in render_markdown(after)
    assert next(g for g in after.gaps if g.id == gap.topic_id).ticket is not None


def test_the_llm_writes_the_summary_and_what_names_another_account_is_dropped(flagged: Runtime, openai_server) -> None:  # type: ignore[no-untyped-def]
    rt = make_runtime(flagged.settings.data_dir, flagged.embedder, llm_base_url=openai_server.base_url)
    openai_server.reply = (f"{RISING} asked more this quarter, mostly about transfers. Northgate Retail Group asks "
                           "the same. Read more at https://evil.example/x.")  # fmt: skip
    b = account_brief(rt, OPERATOR, RISING)
    assert b.mode == "llm" and b.summary == f"{RISING} asked more this quarter, mostly about transfers."
    prompt = openai_server.requests[-1]["body"]["messages"][-1]["content"]
    assert f"<data>\nAccount: {RISING}" in prompt and f"Questions in the period: {b.questions}" in prompt
    assert "Northgate" not in prompt, "the prompt holds only this account's figures"

    openai_server.reply = "Northgate Retail Group is the one to watch."
    fallback = account_brief(rt, OPERATOR, RISING)
    assert fallback.mode == "offline" and fallback.summary.startswith(RISING) and fallback.notes


def _hostile_brief() -> AccountBrief:
    label = "Refund [click](https://evil.example) <script>alert(1)</script> **now**"
    text = "<img src=x onerror=alert(1)> [x](javascript:alert(1))"
    q = QuestionRef(7, datetime(2026, 11, 2, 10), text, None, "zendesk")
    return AccountBrief(
        account_id=3, account="Evil <b>Corp</b> [x](https://evil.example)", owner=None, segment=None, arr=None,
        renewal_date=None, days=90, period_start=date(2026, 8, 24), period_end=date(2026, 11, 22),
        generated_at=NOW, questions=1, previous_questions=0, change=None, weekly=[(date(2026, 11, 2), 1)],
        velocity=None, top_topics=[TopicLine(5, label, 1, 0, "missing", "new")], gaps=[], gap_topics=0,
        gap_questions=1, unanswered=[q], no_topic=1, chat_not_covered=0, requesters=[], teams=[],
        sentiment=Sentiment([], 0, 1, None, None), flags=[],
        actions=[Action("gap", "x", 5, label, 1, "note [y](https://evil.example)"),
                 Action("repeat", "Call them", href="javascript:alert(1)")],
        summary="Summary <script>x</script>",
    )  # fmt: skip


def test_customer_text_is_escaped_in_every_format() -> None:
    """Markdown read by a renderer that allows HTML (as many do), and both HTML forms, carry no markup or link from
    the customer's or operator's text."""
    from markdown_it import MarkdownIt

    b = _hostile_brief()
    for html in (MarkdownIt("commonmark").render(render_markdown(b)), str(render_body(b)), render_print_html(b)):
        assert "<script" not in html and "<img" not in html and "<b>Corp" not in html and "<strong>now" not in html
        assert 'href="https://evil.example' not in html and 'href="javascript:' not in html
        assert "alert(1)" in html, "the text is still shown, as text"


def _pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), " ".join(p.extract_text() for p in reader.pages)


def test_the_pdfs_are_real_and_short(flagged: Runtime) -> None:
    b = account_brief(flagged, OPERATOR, RISING)
    pages, text = _pdf_text(render_pdf(b))
    assert 1 <= pages <= 2 and RISING in text and f"{b.questions}" in text and "Question velocity rising" in text
    e = executive_brief(flagged, OPERATOR)
    pages, text = _pdf_text(render_pdf(e, "https://docgap.example"))
    assert pages == 1 and RISING in text and f"{e.total_arr:,.0f}" in text


def test_unknown_accounts_bad_periods_and_missing_permission(flagged: Runtime) -> None:
    with pytest.raises(UnknownAccount):
        account_brief(flagged, OPERATOR, "No Such Account")
    with pytest.raises(UnknownAccount):
        account_brief(flagged, OPERATOR, 999_999)
    with pytest.raises(ValueError):
        account_brief(flagged, OPERATOR, RISING, days=0)
    pusher = key_actor("pusher", ["questions:write"])
    with pytest.raises(PermissionDenied):
        account_brief(flagged, pusher, RISING)
    with pytest.raises(PermissionDenied):
        executive_brief(flagged, pusher)
    short = account_brief(flagged, OPERATOR, RISING, days=7)
    assert short.days == 7 and short.questions < account_brief(flagged, OPERATOR, RISING).questions


def _quiet_instance(folder, embedder) -> Runtime:  # type: ignore[no-untyped-def]
    """Two CRM accounts: Acme Freight has asked nothing, Birch & Co asked twice, both in the last weeks."""
    from ingest.records import AccountHint, QuestionRecord
    from usecases.pipeline import import_accounts, import_questions

    rt = make_runtime(folder / "data", embedder)
    (folder / "accounts.csv").write_text("name,domains,owner,segment,arr,renewal_date\n"
                                         "Acme Freight,acme.example,Ada,mid-market,120000,2027-03-01\n"
                                         "Birch & Co,birch.example,Ada,smb,20000,2027-05-01\n")  # fmt: skip
    import_accounts(rt, folder / "accounts.csv")
    asked = [
        QuestionRecord("csv", f"b{i}", text, NOW - timedelta(days=3 + i), AccountHint(account_name="Birch & Co"))
        for i, text in enumerate(["How do I change the PIN of my card?", "Why was my card payment declined?"])
    ]
    assert import_questions(rt, asked).ok
    return rt


def test_an_empty_or_first_period_reads_naturally_in_every_format(tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    """No "0 questions on the 0 before": no questions says so, and a first period says it is the first."""
    import re

    rt = _quiet_instance(tmp_path, embedder)
    silent, first = account_brief(rt, OPERATOR, "Acme Freight"), account_brief(rt, OPERATOR, "Birch & Co")
    assert (silent.questions, silent.previous_questions, first.questions, first.previous_questions) == (0, 0, 2, 0)

    def text(html: str) -> str:
        return " ".join(re.sub(r"<[^>]+>", " ", html).split())

    md, html = render_markdown(silent), text(str(render_body(silent)))
    assert "**No questions in the last 90 days.**\n" in md and "No questions in the last 90 days." in html
    assert silent.summary.startswith("No questions from Acme Freight in the last 90 days.")
    for shown in (md, html, silent.summary):
        assert not re.search(r"\b0 questions\b|on the 0\b|\bnew on\b|0 of the", shown), shown
    for praise in ("every question is in a topic", "the docs answer what they asked"):
        assert praise not in md + html, "nothing to praise in a period with no questions"

    md, html = render_markdown(first), text(str(render_body(first)))
    assert "**2 questions** (their first this period: none in the 90 days before)" in md
    assert "2 questions their first this period (none in the 90 days before)" in html
    assert "Their 2 questions in this period are in no topic yet" in md, "not “nothing asked”: they asked"
    assert "Nothing asked in this period" not in md + html
    assert "their first this period (none the 90 days before)" in first.summary
    for shown in (md, html, first.summary):
        assert not re.search(r"on the 0\b|\bnew on\b|0 of the", shown), shown
