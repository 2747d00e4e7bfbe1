"""Tenant isolation: what is shown for account A never holds account B's questions.

One canary question per account, with a nonsense order reference no other text has, is imported through the real
import path (`usecases.pipeline.import_questions`, which embeds it) and placed by the incremental clustering the
CLI runs (`clustering.service.update_topics`, the clustering half of `docgap cluster`; the coverage half only
re-scores topics and takes a minute). The canaries share one wording, so they land in one topic together: every
account-scoped surface then has another account's canary one filter away. Each surface that takes an account is
then read over real HTTP for each canary account: its own canary may (and where the surface lists its questions,
must) appear; no other account's may.

Cross-account by design, for internal staff, and so not asserted to be scoped: the topic page and
`GET /v1/topics/{id}` list a topic's questions from every account (the test checks all canaries are there, which
is what makes the scoped checks meaningful), `GET /v1/accounts` lists every account's trend and the executive brief
every account's flags (numbers, topic ids and labels, no question text), and the chat's "Which accounts asked
about ...?" lists accounts (names and counts, never their questions). A chat question that names an account is
scoped to the account it names, whatever account is picked beside the box. The chat's call brief ("Prepare me for
my call with ...") and the account brief (page, PDF, API, command line) are covered.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from clustering.service import update_topics
from core.models import Account, Question
from core.runtime import Runtime
from ingest.records import AccountHint, QuestionRecord
from tests.conftest import LiveServer, logged_in, make_runtime
from usecases.apikeys import create_key
from usecases.pipeline import import_questions

CANARIES = {
    "Bluebell Nurseries": "zebra-quasar-1187",
    "Harbor & Pine Studio": "walrus-nebula-2293",
    "Copperleaf Coffee": "falcon-pulsar-3371",
    "Brightline Logistics": "otter-magnetar-4459",
}
"""Account → the order reference only its canary question holds (small accounts, so their topics are few)."""
ASKED_AT = datetime(2026, 11, 24, 8, 0)
"""An hour before the tests' clock, after every demo question: the canaries are the newest questions of all, so a
list that dropped its account filter would show them all on its first page."""


def _canary_text(token: str) -> str:
    return f"My refund for order {token} has still not arrived on my card, where is it?"


@dataclass
class Planted:
    runtime: Runtime
    url: str
    auth: dict[str, str]
    ids: dict[str, int]
    """Account name → id."""
    topic: int
    """The topic all canaries landed in."""
    am: tuple[str, str]
    """An account manager's name and password."""


@pytest.fixture(scope="module")
def planted(
    demo_runtime: Runtime, web_users: dict[str, tuple[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Planted]:
    """A private copy of the analysed demo with the canaries imported and clustered, served over HTTP."""
    target = tmp_path_factory.mktemp("tenant") / "data"
    shutil.copytree(demo_runtime.settings.data_dir, target)
    rt = make_runtime(Path(target), demo_runtime.embedder)
    records = [
        QuestionRecord("canary", f"canary-{i}", _canary_text(token), ASKED_AT, AccountHint(account_name=name))
        for i, (name, token) in enumerate(CANARIES.items())
    ]
    assert import_questions(rt, records).added == len(CANARIES)
    update_topics(rt)
    with Session(rt.engine) as session:
        rows = session.exec(
            select(Question.text, Question.topic_id, Account.name, Account.id)
            .join(Account, col(Question.account_id) == col(Account.id))
            .where(Question.source == "canary")
        ).all()
    assert sorted(name for _, _, name, _ in rows) == sorted(CANARIES), "each canary is mapped to its account"
    assert all(CANARIES[name] in text for text, _, name, _ in rows), "the canary token survives cleaning"
    topics = {tid for _, tid, _, _ in rows}
    assert len(topics) == 1 and None not in topics, f"the canaries should share one topic, got {topics}"
    key = create_key(rt, ["answers:read", "questions:write"], name="tenant", rate_limit=1_000_000).secret
    with LiveServer(rt) as server:
        yield Planted(rt, server.url, {"Authorization": f"Bearer {key}"}, {n: i for _, _, n, i in rows},
                      topics.pop(), web_users["account_manager"])  # fmt: skip


def _seen(body: str) -> set[str]:
    """The accounts whose canary token is in a response body."""
    low = body.lower()
    return {name for name, token in CANARIES.items() if token in low}


def _others(name: str) -> set[str]:
    return set(CANARIES) - {name}


def _topics_of(rt: Runtime, account_id: int) -> dict[int, int]:
    """Topic id → how many of the account's questions it holds (the ground truth for account-scoped topic lists)."""
    with Session(rt.engine) as session:
        tids = session.exec(select(Question.topic_id).where(Question.account_id == account_id)).all()
    out: dict[int, int] = {}
    for t in tids:
        if t is not None:
            out[t] = out.get(t, 0) + 1
    return out


def test_cross_account_topic_views_hold_every_canary(planted: Planted) -> None:
    """The topic lists every account's questions (by design); so the shared topic is a real leak risk below."""
    with logged_in(planted.url, *planted.am) as (client, _):
        page = client.get(f"/topics/{planted.topic}")
    assert page.status_code == 200
    assert _seen(page.text) == set(CANARIES)
    api = httpx.get(f"{planted.url}/v1/topics/{planted.topic}", headers=planted.auth, timeout=60)
    assert api.status_code == 200
    assert _seen(api.text) == set(CANARIES)


@pytest.mark.parametrize("name", CANARIES)
def test_answers_api_for_an_account_holds_no_questions(planted: Planted, name: str) -> None:
    """`POST /v1/answers` and `POST /v1/questions` answer from the docs only: no canary, not even the account's own."""
    question = "My refund has still not arrived on my card, where is it?"
    answered = httpx.post(f"{planted.url}/v1/answers", json={"question": question, "account": name},
                          headers=planted.auth, timeout=60)  # fmt: skip
    assert answered.status_code == 200, answered.text
    assert answered.json()["topic_id"] == planted.topic, "the question is near the canaries' topic"
    assert _seen(answered.text) == set()
    pushed = {
        "text": question,
        "account": name,
        "external_id": f"tenant-{planted.ids[name]}",
        "created_at": "2026-01-05T10:00:00",
    }  # old, so the canaries stay the newest questions
    posted = httpx.post(f"{planted.url}/v1/questions", json=pushed, headers=planted.auth, timeout=60)
    assert posted.status_code == 200, posted.text
    assert _seen(posted.text) == set()


@pytest.mark.parametrize("name", CANARIES)
def test_topics_api_for_an_account_lists_only_its_topics(planted: Planted, name: str) -> None:
    """`GET /v1/topics?account=` lists the topics the account asked about, counting only its questions."""
    r = httpx.get(f"{planted.url}/v1/topics", params={"account": name, "limit": 500}, headers=planted.auth, timeout=60)
    assert r.status_code == 200, r.text
    truth = _topics_of(planted.runtime, planted.ids[name])
    listed = {t["id"]: t["matching"] for t in r.json()["items"]}
    assert planted.topic in listed
    assert listed == {t: n for t, n in truth.items() if t in listed}, "matching counts only this account's questions"
    assert set(listed) == set(truth) - _inactive(planted.runtime, truth)
    assert _seen(r.text) == set()


def _inactive(rt: Runtime, topics: dict[int, int]) -> set[int]:
    from core.models import Topic

    with Session(rt.engine) as session:
        return set(session.exec(select(Topic.id).where(col(Topic.id).in_(list(topics)), col(Topic.active).is_(False))))


def test_accounts_api_holds_no_questions(planted: Planted) -> None:
    """`GET /v1/accounts` is every account's trend (cross-account by design): figures and topic ids, no questions."""
    r = httpx.get(f"{planted.url}/v1/accounts", params={"limit": 1000}, headers=planted.auth, timeout=60)
    assert r.status_code == 200
    assert {a["account"] for a in r.json()} >= set(CANARIES)
    assert _seen(r.text) == set()


@pytest.mark.parametrize("name", CANARIES)
def test_account_pages_show_only_its_questions(planted: Planted, name: str) -> None:
    """The account page, its timeline and the board filtered by the account."""
    aid = planted.ids[name]
    with logged_in(planted.url, *planted.am) as (client, _):
        page = client.get(f"/accounts/{aid}")
        timeline = client.get(f"/accounts/{aid}/timeline")
        board = client.get("/", params={"account": aid, "view": "all", "layout": "table"})
    for r in (page, timeline, board):
        assert r.status_code == 200, (r.url, r.status_code)
    assert _seen(page.text) == {name}
    assert _seen(timeline.text) == {name}
    assert _seen(board.text) == set()
    shown = {int(t) for t in re.findall(r'href="/topics/(\d+)"', board.text)}
    assert planted.topic in shown
    assert shown <= set(_topics_of(planted.runtime, aid)), "the board shows only topics the account asked about"


def _chat_questions(name: str) -> list[tuple[str, str]]:
    """(question, account picked beside the box): account questions scoped to `name`."""
    return [
        ("What have they asked this month?", name),
        (f"What has {name} asked this month?", ""),
        (f"What has {name} asked this month?", name),
        (f"Prepare me for my call with {name}", name),
    ]


@pytest.mark.parametrize("name", CANARIES)
def test_chat_about_an_account_shows_only_its_questions(planted: Planted, name: str) -> None:
    """The chat page and its stream: account questions show the account's canary only; doc questions none."""
    with logged_in(planted.url, *planted.am) as (client, csrf):
        for question, picked in _chat_questions(name):
            form = {"question": question, "account": picked, "csrf_token": csrf}
            for path in ("/chat", "/chat/stream"):
                r = client.post(path, data=form)
                assert r.status_code == 200, (path, question, r.text[:300])
                assert _seen(r.text) == {name}, (path, question)
        form = {"question": "My refund has still not arrived on my card, where is it?", "account": name,
                "csrf_token": csrf}  # fmt: skip
        for path in ("/chat", "/chat/stream"):
            r = client.post(path, data=form)
            assert r.status_code == 200
            assert _seen(r.text) == set(), path
        who = client.post("/chat", data={"question": "Which accounts asked about a refund not arriving on my card?",
                                         "account": name, "csrf_token": csrf})  # fmt: skip
    assert who.status_code == 200
    assert _seen(who.text) == set(), "'which accounts' lists accounts, never their questions"


def _unanswered_text(token: str) -> str:
    return f"Can you ship pallet {token} of rubber ducks to the Moon by next Tuesday?"


def test_account_briefs_show_only_its_questions(planted: Planted) -> None:
    """The account brief (page, its PDF, the API and `docgap brief account --json`, the same use case, for two of
    the accounts): each account's brief shows its own canary, in its unanswered chat questions, and never another
    account's.

    Each account is asked one chat question holding its token that the docs do not cover (the brief lists those),
    and the risk flags are checked (their evidence lists questions); run last in this module, since both add to
    what account-scoped surfaces show.
    """
    from io import BytesIO

    from pypdf import PdfReader

    from reports.risk import evaluate_flags
    from tests.commandline import docgap
    from usecases.answers import ask
    from usecases.permissions import OPERATOR

    for name, token in CANARIES.items():
        assert not ask(planted.runtime, OPERATOR, _unanswered_text(token), account=name).covered
    evaluate_flags(planted.runtime)
    with logged_in(planted.url, *planted.am) as (client, _):
        for name in CANARIES:
            aid = planted.ids[name]
            page = client.get(f"/accounts/{aid}/brief")
            pdf = client.get(f"/accounts/{aid}/brief.pdf")
            api = httpx.get(f"{planted.url}/v1/accounts/{aid}/brief", headers=planted.auth, timeout=60)
            text = " ".join(p.extract_text() for p in PdfReader(BytesIO(pdf.content)).pages)
            text = re.sub(r"-\s*\n", "-", text)  # a token broken over two lines at its hyphen
            for surface, body in (("page", page.text), ("pdf", text), ("api", api.text)):
                assert _seen(body) == {name}, (name, surface)
            ids = {i for f in api.json()["flags"] for i in f["question_ids"]}
            with Session(planted.runtime.engine) as session:
                owners = set(session.exec(select(Question.account_id).where(col(Question.id).in_(ids))).all())
            assert owners <= {aid}, "flag evidence lists only the account's questions"
        executive = client.get("/briefs/executive")
    assert executive.status_code == 200 and _seen(executive.text) == set(), "the portfolio lists no questions"
    for name in ("Brightline Logistics", "Bluebell Nurseries"):  # a process each (it loads the model): two of four
        cli = docgap(["brief", "account", name, "--json"], planted.runtime.settings.data_dir)
        assert _seen(cli.stdout) == {name}, (name, "cli")
