"""No raw PII at rest, in the logs or sent to the model, through every LLM path.

The demo is served with an LLM configured: the local OpenAI-protocol server, playing a model that repeats its whole
prompt back (the worst a model can do with what it is given). Personal values (email, phone, card, IBAN, an API key)
go in through `POST /v1/questions` for an account, `POST /v1/answers`, the chat page (plain and streamed, with its
tools), and then through everything an LLM writes from stored questions: topic titles (the analysis placing the new
questions), the doc ticket's outline for their topic, the account brief's summary, the executive brief and the
weekly report's summary. Every log record at DEBUG (ours, uvicorn's, openai's and httpx's request logs),
everything printed, every request the model received and every file of the data dir is searched for the raw values.
(`tests/test_pii_at_rest.py` and `tests/test_pii_at_rest_imports.py` cover the offline paths.)
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from core.models import Account, DocTicket, Question, Report, Topic
from core.runtime import Runtime
from reports.weekly import build_weekly_report, save_report
from tests.conftest import LiveServer, logged_in, make_runtime
from tests.logcapture import LogCapture, capturing
from tests.openai_server import FakeOpenAI
from tests.test_pii_at_rest_imports import EMAIL, PHONE, PII, RAW, _columns_with_pii, _leaks
from usecases.apikeys import create_key
from usecases.pipeline import analyse

LOGGERS = {"": logging.DEBUG, "uvicorn": logging.DEBUG, "uvicorn.error": logging.DEBUG,
           "uvicorn.access": logging.DEBUG, "openai": logging.DEBUG, "httpx": logging.DEBUG,
           "httpcore": logging.DEBUG, "sqlalchemy": logging.WARNING}  # fmt: skip
"""Every logger at DEBUG but SQLAlchemy's: what it would log (statements and their values) is what ends up in the
database, which is searched whole; at DEBUG it would log every row the analysis reads, for minutes."""


@pytest.fixture()
def llm_logs() -> Iterator[LogCapture]:
    with capturing(LOGGERS) as handler:
        yield handler


def _parrot(messages: list[dict[str, Any]]) -> str:
    """A model that repeats what it was given: any raw value in a prompt would reach what it writes.

    Asked for a topic title, it copies the first example question (a title must be a short question to be kept).
    """
    if "name recurring customer-question topics" in str(messages[0].get("content")):
        first = re.search(r"<question>(.*?)</question>", str(messages[-1].get("content")), re.S)
        words = (first.group(1) if first else "what is this").replace("?", " ").split()[:12]
        return " ".join(words) + "?"
    return "\n".join(str(m.get("content") or "") for m in messages)[:6000]


def test_no_raw_pii_from_any_llm_path_at_rest_in_logs_or_sent_to_the_model(
    web_users: dict[str, tuple[str, str]], demo_copy: Runtime, llm_logs: LogCapture, capfd: pytest.CaptureFixture[str]
) -> None:  # web_users first: the users exist in the demo before it is copied
    with FakeOpenAI() as llm:
        llm.obey = _parrot
        rt = make_runtime(demo_copy.settings.data_dir, demo_copy.embedder, llm_base_url=llm.base_url,
                          llm_api_key="sk-test-pii")  # fmt: skip
        with Session(rt.engine) as s:
            account = s.exec(select(Account).where(Account.name == "Brightline Logistics")).one()
        key = create_key(rt, ["admin"], name="pii-llm").secret
        auth = {"Authorization": f"Bearer {key}"}
        asks = [f"My transfer has not arrived yet, {PII}. Where is it?",
                f"Why hasn't the money I sent arrived? {PII}",
                f"The transfer I made two days ago is still missing; {PII}"]  # fmt: skip
        with LiveServer(rt) as server:
            llm_logs.attach()
            base = server.url
            for n, text in enumerate(asks):
                pushed = {"text": text, "account": account.name, "external_id": f"pii-llm-{n}"}
                r = httpx.post(f"{base}/v1/questions", json=pushed, headers=auth, timeout=120)
                assert r.status_code == 200, r.text
            modes = []
            for question in (asks[0], f"How do I cancel a transfer? Write to {EMAIL} or call {PHONE}."):
                r = httpx.post(f"{base}/v1/answers", json={"question": question, "account": account.name},
                               headers=auth, timeout=120)  # fmt: skip
                assert r.status_code == 200, r.text
                modes.append(r.json()["mode"])
            assert "llm" in modes, f"an answer was written by the model: {modes}"
            with logged_in(base, *web_users["account_manager"]) as (client, csrf):
                for path in ("/chat", "/chat/stream"):
                    for question in (asks[1], f"What did {account.name} ask about? {PII}"):
                        assert client.post(path, data={"question": question, "csrf_token": csrf}).status_code == 200

            analyse(rt)  # the new questions join topics; the LLM titles what changed
            with Session(rt.engine) as s:
                topic_ids = {q.topic_id for q in s.exec(select(Question).where(Question.source == "api")).all()}
            topic_ids.discard(None)
            assert topic_ids, "the pushed questions joined a topic"
            for topic_id in topic_ids:
                r = httpx.post(f"{base}/v1/topics/{topic_id}/tickets", headers=auth, timeout=120)
                assert r.status_code in (200, 201), r.text
            r = httpx.get(f"{base}/v1/accounts/{account.id}/brief", headers=auth, timeout=120)
            assert r.status_code == 200 and r.json()["mode"] == "llm", r.text[:500]
            assert httpx.get(f"{base}/v1/briefs/executive", headers=auth, timeout=120).status_code == 200
        weekly = build_weekly_report(rt)
        save_report(rt, weekly)
        sent = json.dumps(llm.requests)

    paths = {r["body"]["messages"][0]["content"][:60] for r in llm.requests}  # one system prompt per LLM path:
    # answers, the chat's tools, topic titles, the coverage judge, the ticket outline, the brief, the weekly summary
    assert len(llm.requests) >= 8 and len(paths) >= 7, f"the LLM paths ran: {sorted(paths)}"
    assert "[EMAIL]" in sent and "[CARD]" in sent, "the model saw the questions, redacted"
    assert _leaks(PII.encode()) == set(RAW) and _leaks(json.dumps(PII).encode()) == set(RAW), "the search finds them"
    with Session(rt.engine) as s:
        assert s.exec(select(DocTicket).where(DocTicket.outline_mode == "llm")).first() is not None
        assert s.exec(select(Topic).where(Topic.label_source == "llm")).first() is not None
        assert s.exec(select(Report)).first() is not None and weekly.mode == "llm"
    out, err = capfd.readouterr()
    logged = llm_logs.text.getvalue()
    assert "openai._base_client DEBUG" in logged and "uvicorn.access" in logged, "the libraries' logs were captured"
    data = rt.settings.data_dir
    found = {f.relative_to(data).as_posix(): _leaks(f.read_bytes()) for f in data.rglob("*") if f.is_file()}
    found = {name: kinds for name, kinds in found.items() if kinds}
    leaked = {"logging": _leaks(logged.encode()), "stdout/stderr": _leaks((out + err).encode()),
              "sent to the model": _leaks(sent.encode())}  # fmt: skip
    assert not found, f"raw PII at rest: {found}, in {_columns_with_pii(rt.settings.sqlite_path)}"
    assert not any(leaked.values()), f"raw PII logged, printed or sent: {leaked}"
