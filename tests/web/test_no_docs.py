"""Before any doc is indexed, asking says so and how to add the docs, on every surface (issue 11).

A fresh instance (users, no docs, no questions) over real HTTP: the chat page, its stream, `POST /v1/answers` and
the suggested answer of `POST /v1/questions` all answer "no docs indexed" with the `docgap ingest docs` command,
never "not covered by the docs", and no such question counts as a gap signal. Once the docs are indexed, the
same question gets a cited answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, func, select

from core.models import ChatTurn
from core.runtime import Runtime
from tests.commandline import docgap
from tests.conftest import WEB_USERS, LiveServer, logged_in, make_runtime
from tests.web.test_chat_stream import _ask_stream
from usecases.apikeys import create_key
from usecases.permissions import OPERATOR
from usecases.users import create_user

QUESTION = "How do I change my PIN?"
INGEST = "docgap ingest docs"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[tuple[Runtime, LiveServer, dict[str, str]]]:  # type: ignore[no-untyped-def]
    rt = make_runtime(tmp_path_factory.mktemp("no-docs") / "data", embedder)
    for role, (name, password) in WEB_USERS.items():
        create_user(rt, OPERATOR, name, role, password)
    headers = {"Authorization": f"Bearer {create_key(rt, ['admin'], name='t', rate_limit=10_000).secret}"}
    with LiveServer(rt) as server:
        yield rt, server, headers
    rt.engine.dispose()


def _turns(rt: Runtime) -> int:
    with Session(rt.engine) as s:
        return int(s.exec(select(func.count()).select_from(ChatTurn)).one())


def test_the_api_abstains_with_the_reason(fresh) -> None:  # type: ignore[no-untyped-def]
    rt, server, headers = fresh
    r = httpx.post(f"{server.url}/v1/answers", json={"question": QUESTION}, headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reason"] == "no docs indexed" and body["covered"] is False and body["mode"] == "no docs"
    assert INGEST in body["answer"] and "not seem to cover" not in body["answer"]
    assert body["citations"] == [] and body["turn_id"] is None
    posted = httpx.post(f"{server.url}/v1/questions", json={"source": "api", "text": "How do I change my PIN now?"},
                        headers=headers, timeout=60).json()  # fmt: skip
    assert posted["suggested_answer"]["reason"] == "no docs indexed"
    assert _turns(rt) == 0, "a question nothing could answer is no gap signal"


def test_the_chat_page_and_its_stream_say_no_docs_are_indexed(fresh) -> None:  # type: ignore[no-untyped-def]
    rt, server, _ = fresh
    with logged_in(server.url, *WEB_USERS["account_manager"]) as (client, csrf):
        before = client.get("/chat").text
        page = client.post("/chat", data={"question": QUESTION, "csrf_token": csrf}).text
        events = _ask_stream(client, csrf, QUESTION)
    main = before.split("<main", 1)[1]
    assert "No docs are indexed yet" in main and f"<code>{INGEST} ./path/to/docs</code>" in main
    section = re.search(r'<section class="answer.*?</section>', page, re.S)
    assert section, page[:500]
    for answer in (section.group(0), events[-1][1]["html"]):
        assert "no docs indexed yet" in answer and f"<code>{INGEST} ./path/to/docs</code>" in answer
        assert "not covered by the docs" not in answer
    assert events[-1][0] == "done" and INGEST in events[0][1]["text"]
    assert _turns(rt) == 0


def test_account_questions_are_still_answered_without_docs(fresh) -> None:  # type: ignore[no-untyped-def]
    _, server, _ = fresh
    with logged_in(server.url, *WEB_USERS["account_manager"]) as (client, csrf):
        page = client.post("/chat", data={"question": "Which accounts asked about card delivery?",
                                          "csrf_token": csrf}).text  # fmt: skip
    assert "from the account data" in page and "no docs indexed yet" not in page


def test_the_cli_says_so_too(fresh) -> None:  # type: ignore[no-untyped-def]
    rt, _, _ = fresh
    done = docgap(["ask", QUESTION], rt.settings.data_dir, check=False)
    assert done.returncode == 1 and INGEST in done.stderr, (done.stdout, done.stderr)


def test_once_docs_are_indexed_the_question_is_answered(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from demo import HELPCENTER_DIR
    from usecases.answers import ask, no_docs_answer
    from usecases.pipeline import import_docs

    rt = make_runtime(tmp_path / "data", embedder)
    assert no_docs_answer(rt, QUESTION) is not None
    assert import_docs(rt, HELPCENTER_DIR, "helpcenter").ok
    assert no_docs_answer(rt, QUESTION) is None
    answer = ask(rt, OPERATOR, QUESTION)
    assert answer.mode == "offline" and answer.citations
