"""What a ticket says, on a copy of the analysed demo: examples, closest pages, outline (offline and LLM), target.

The demo's biggest gaps have staff answers of their own (`demo/staff_replies.json`), and the demo's tickets must be
outlined from them. Elsewhere its staff replies are three canned case-handling lines ("I've escalated it to our
payments team"), which a page would never say; the tests plant staff answers that do explain something in one
topic, all its other answers made canned, and check the outline is drawn from those and only those.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlmodel import Session, col, select

from clustering.topics import TopicFilter, list_topics
from core.models import Account, DocTicket, Document, Question, Topic
from core.runtime import Runtime
from demo import DEMO_DIR
from ingest.records import QuestionRecord
from tests.conftest import make_runtime
from tests.openai_server import FakeOpenAI
from usecases.demo import DEMO_TICKETS
from usecases.permissions import OPERATOR, PermissionDenied, user_actor
from usecases.pipeline import import_questions
from usecases.tickets import create_ticket, list_tickets, ticket_markdown

WHERE = "You can find the setting under Profile › Preferences in the app."
WHERE_TOO = "You will find the setting under Profile › Preferences in the app."
WHEN = "The change takes effect within one working day."
LIMIT = "Each account can have at most two of them."
CANNED = "Thanks for getting in touch. I've escalated it to our payments team and will update you soon."


@pytest.fixture(scope="module")
def demo(demo_runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    target = tmp_path_factory.mktemp("tickets") / "data"
    shutil.copytree(demo_runtime.settings.data_dir, target)
    return make_runtime(target, demo_runtime.embedder)


def _gap(rt: Runtime, kind: str, skip: int = 0) -> Topic:
    with Session(rt.engine) as s:
        rows = s.exec(select(Topic).where(col(Topic.active).is_(True), Topic.gap_kind == kind, Topic.size >= 8)
                      .order_by(col(Topic.gap_score).desc())).all()  # fmt: skip
    assert len(rows) > skip, f"the demo has fewer than {skip + 1} {kind} gaps"
    return rows[skip]


def _central(rt: Runtime, topic_id: int) -> list[Question]:
    with Session(rt.engine) as s:
        return list(s.exec(select(Question).where(Question.topic_id == topic_id)
                           .order_by(col(Question.topic_similarity).desc(), col(Question.id))).all())  # fmt: skip


@pytest.fixture(scope="module")
def planted(demo: Runtime) -> Iterator[tuple[Topic, str, int]]:
    """A missing gap with explaining staff answers planted beside the canned ones, an account's name in its most
    central question, and a question with an e-mail address imported (so stored redacted) into it.

    The topic's other staff answers become canned: the demo's own answers for it explain things too."""
    topic = _gap(demo, "missing")
    questions = _central(demo, topic.id or 0)
    answers = [f"Hi! {WHERE} {WHEN} Let us know if that helps.", f"{WHERE} {CANNED}", f"{WHERE_TOO} {WHEN}",
               f"Sure. {WHERE} {LIMIT}", f"{WHEN} ACCOUNT already has this enabled."]  # fmt: skip
    with Session(demo.engine) as s:
        account = s.exec(select(Account.name).order_by(col(Account.name))).first()
        assert account
        for q in questions[: -len(answers)]:
            row = s.get(Question, q.id)
            if row is not None and row.staff_answer:
                row.staff_answer = CANNED
        for q, a in zip(questions[-len(answers) :], answers, strict=True):
            row = s.get(Question, q.id)
            assert row is not None
            row.staff_answer = a.replace("ACCOUNT", account)
        top = s.get(Question, questions[0].id)
        assert top is not None
        top.text, top.topic_similarity = f"{account} here: {top.text}", 1.0
        s.commit()
    text = f"{questions[1].text} Reply to jane.doe@example.org please"
    result = import_questions(demo, [QuestionRecord("csv", "ticket-redaction-1", text, datetime(2026, 11, 20, 10))])
    assert result.added == 1
    with Session(demo.engine) as s:
        q = s.exec(select(Question).where(Question.external_id == "ticket-redaction-1")).one()
        q.topic_id, q.topic_similarity = topic.id, 0.999
        s.commit()
        imported = q.id or 0
    yield topic, account, imported


def test_a_missing_gap_gets_its_ticket(demo: Runtime, planted: tuple[Topic, str, int]) -> None:
    topic, account, _ = planted
    ticket, created = create_ticket(demo, OPERATOR, topic.id or 0)
    assert created and ticket.title == f"Document: {topic.label}"
    e = ticket.evidence
    members = _central(demo, topic.id or 0)
    texts = {q.text.replace(account, "[ACCOUNT]") for q in members}
    assert len(e["examples"]) == 5 and len(set(e["examples"])) == 5
    assert set(e["examples"]) <= texts, "the examples are the topic's own (stored, redacted) questions"
    sims = sorted((q.topic_similarity or 0 for q in members), reverse=True)
    by_text = {q.text.replace(account, "[ACCOUNT]"): q.topic_similarity or 0 for q in members}
    assert all(by_text[x] >= sims[len(sims) // 2] for x in e["examples"]), "central questions, not any five"
    assert e["examples"][0].startswith("[ACCOUNT] here:"), "the account's name is masked, its question kept"
    assert any("[EMAIL]" in x for x in e["examples"]) and "jane.doe" not in json.dumps(e)
    assert (e["volume"], e["accounts"]) == (len(members), len({q.account_id for q in members if q.account_id}))
    assert e["first_seen"] == min(q.created_at for q in members).date().isoformat()
    assert e["gap_kind"] == "missing" and "The documentation has no page that answers it" in ticket.problem

    with Session(demo.engine) as s:
        urls = set(s.exec(select(Document.url)).all())
        names = set(s.exec(select(Account.name)).all())
    pages = e["pages"]
    assert 1 <= len(pages) <= 3 and all(p["url"] in urls for p in pages)
    assert sum(p["top_for"] for p in pages) <= 5 and all(p["answered"] <= p["top_for"] for p in pages)
    assert all(re.search(r"of 5 example questions", p["why"]) and "key words" in p["why"] for p in pages)
    assert [p["reached"] for p in pages] == sorted((p["reached"] for p in pages), reverse=True)

    assert ticket.target_is_new and ticket.target_page.endswith(".md") and ticket.target_title == topic.label
    folder = pages[0]["url"].rsplit("/", 1)[0]
    assert ticket.target_page.startswith(f"{folder}/"), "a new page goes beside the closest one"
    assert not any(n in json.dumps(ticket.__dict__, default=str) for n in names), "no account named anywhere"


def test_the_offline_outline_is_what_staff_answers_share(demo: Runtime, planted: tuple[Topic, str, int]) -> None:
    topic, account, _ = planted
    ticket, _ = create_ticket(demo, OPERATOR, topic.id or 0)
    assert ticket.outline_mode == "offline" and ticket.evidence["outline_source"] == "staff answers"
    assert ticket.outline_label == "offline: extracted from staff answers"
    outline = ticket.outline
    assert len(outline) == 3, outline
    assert outline[0] in (WHERE, WHERE_TOO), "the point most answers make comes first, once"
    assert outline[1:] == [WHEN, LIMIT]
    assert not any(re.search(r"escalat|I've|Thanks|Let us know", p) or account in p for p in outline)


def test_the_demo_tickets_are_outlined_from_what_staff_told_customers(demo_copy: Runtime) -> None:
    """The tickets `docgap demo` writes (its biggest gaps) are outlined from the intent-specific staff answers."""
    replies = json.loads((DEMO_DIR / "staff_replies.json").read_text())["replies"]
    said = " ".join(r for rs in replies.values() for r in rs)
    gaps = list_topics(demo_copy, TopicFilter(coverage="gaps"), limit=DEMO_TICKETS)
    assert len(gaps) == DEMO_TICKETS
    for gap in gaps:
        ticket, _ = create_ticket(demo_copy, OPERATOR, gap.id)
        assert ticket.outline_mode == "offline" and ticket.evidence["outline_source"] == "staff answers", gap.label
        assert len(ticket.outline) >= 4 and all(point in said for point in ticket.outline), ticket.outline
        assert not any(re.search(r"escalat|I've|Thanks|Sorry", p) for p in ticket.outline)


def test_creating_again_refreshes_the_open_ticket(demo: Runtime, planted: tuple[Topic, str, int]) -> None:
    topic = planted[0]
    first, _ = create_ticket(demo, OPERATOR, topic.id or 0)
    again, created = create_ticket(demo, OPERATOR, topic.id or 0)
    assert not created and again.id == first.id
    with Session(demo.engine) as s:
        assert len(s.exec(select(DocTicket.id).where(DocTicket.topic_id == topic.id)).all()) == 1
    assert [t.id for t in list_tickets(demo, OPERATOR, topic.id)] == [first.id]
    with pytest.raises(PermissionDenied):
        create_ticket(demo, user_actor("ada", "account_manager"), topic.id or 0)


def test_a_partial_gap_targets_its_closest_page(demo: Runtime) -> None:
    topic = _gap(demo, "partial")
    ticket, _ = create_ticket(demo, OPERATOR, topic.id or 0)
    pages = ticket.evidence["pages"]
    assert not ticket.target_is_new and (ticket.target_page, ticket.target_title) == (pages[0]["url"],
                                                                                     pages[0]["title"])  # fmt: skip
    assert ticket.problem.startswith(f"Customers asked {ticket.evidence['volume']} questions about")
    assert f"Suggested: improve “{pages[0]['title']}”." in ticket.problem
    text = ticket_markdown(demo, OPERATOR, ticket.id)
    assert text is not None and text.startswith("# Document: ")
    assert "## Closest existing pages and why they fall short" in text and pages[0]["url"] in text.replace("\\", "")


def test_with_an_llm_the_model_writes_the_outline(
    demo: Runtime, planted: tuple[Topic, str, int], openai_server: FakeOpenAI
) -> None:
    topic, account, _ = planted
    rt = make_runtime(demo.settings.data_dir, demo.embedder, llm_base_url=openai_server.base_url)
    openai_server.reply = (
        "Outline:\n- Where the setting lives in the app\n- When a change takes effect\n"
        "- Read [the secret page](https://evil.example) <img src=x onerror=alert(1)> first\n"
        f"- How {account} set it up\n- **Limits** per account"
    )
    ticket, _ = create_ticket(rt, OPERATOR, topic.id or 0)
    assert ticket.outline_mode == "llm" and ticket.outline_label.startswith("written by the LLM")
    assert ticket.outline == ["Where the setting lives in the app", "When a change takes effect",
                              "Read the secret page first", "Limits per account"]  # fmt: skip
    [request] = [r for r in openai_server.requests if "plan a help-center page" in r["body"]["messages"][0]["content"]]
    user = request["body"]["messages"][1]["content"]
    for q in ticket.evidence["examples"]:
        assert f"<question>{q}</question>" in user
    assert f"<answer>Hi! {WHERE} {WHEN} Let us know if that helps.</answer>" in user
    assert user.count("<answer>") == user.count("</answer>") >= 5

    openai_server.reply = "Sorry, I cannot help."
    fallback, _ = create_ticket(rt, OPERATOR, topic.id or 0)
    assert fallback.outline_mode == "offline" and "unusable" in fallback.evidence["outline_note"]
    assert fallback.outline[1:] == [WHEN, LIMIT]
