"""The Slack Events API endpoint over real HTTP: signatures, retries, questions, answers and edits."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from core.embedding import SentenceTransformerEmbedder
from core.models import Account, Question, WebhookEvent
from core.runtime import Runtime
from ingest.slack import read_slack_export
from ingest.store import store_records
from tests.conftest import NOW, LiveServer, make_runtime

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
STAFF = "USTAFF1"
CHANNEL = "C0ACME"
NOW_TS = int(NOW.replace(tzinfo=UTC).timestamp())
QUESTION_TS = f"{NOW_TS - 600}.000100"


@pytest.fixture(scope="module")
def slack_app(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[LiveServer, Runtime]]:
    rt = make_runtime(
        tmp_path_factory.mktemp("slack-data"), embedder, slack_signing_secret=SECRET, slack_staff_user_ids=STAFF
    )
    with Session(rt.engine) as s:
        s.add(Account(name="Acme Corp", slack_channel_ids=[CHANNEL]))
        s.commit()
    with LiveServer(rt) as server:
        yield server, rt


def _post(
    server: LiveServer, payload: dict[str, Any], ts: int = NOW_TS, secret: str = SECRET, retry: int | None = None
) -> httpx.Response:
    body = json.dumps(payload).encode()
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig, "Content-Type": "application/json"}
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return httpx.post(f"{server.url}/webhooks/slack/events", content=body, headers=headers, timeout=10)


def _callback(event_id: str, event: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event_callback", "team_id": "T0FERN", "event_id": event_id, "event_time": NOW_TS, "event": event}


def _message(ts: str, text: str, user: str = "UCUST1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": CHANNEL,
        "channel_type": "channel",
        "user": user,
        "ts": ts,
        "text": text,
        **extra,
    }


def _question(rt: Runtime, ts: str = QUESTION_TS) -> Question | None:
    with Session(rt.engine) as s:
        return s.exec(select(Question).where(Question.external_id == f"{CHANNEL}:{ts}")).first()


def _count(rt: Runtime) -> int:
    with Session(rt.engine) as s:
        return len(s.exec(select(Question)).all())


def test_url_verification_echoes_the_challenge(slack_app: tuple[LiveServer, Runtime]) -> None:
    server, _ = slack_app
    r = _post(server, {"type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY"})
    assert r.status_code == 200 and r.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY"}


def test_bad_signature_and_stale_timestamp_are_refused(slack_app: tuple[LiveServer, Runtime]) -> None:
    server, rt = slack_app
    event = _callback("EvBAD", _message(f"{NOW_TS - 5}.000200", "How do I export my statements to CSV?"))
    assert _post(server, event, secret="not-the-secret").status_code == 401
    assert _post(server, event, ts=NOW_TS - 301).status_code == 401, "older than the five-minute window"
    assert _post(server, event, ts=NOW_TS + 301).status_code == 401
    unsigned = httpx.post(f"{server.url}/webhooks/slack/events", json=event, timeout=10)
    assert unsigned.status_code == 401
    assert _question(rt, f"{NOW_TS - 5}.000200") is None


def test_message_retry_reply_and_edit(slack_app: tuple[LiveServer, Runtime]) -> None:
    server, rt = slack_app
    asked = _callback("Ev001", _message(QUESTION_TS, "Why was my card declined at the airport?"))
    r = _post(server, asked)
    assert r.status_code == 200 and r.json()["action"] == "question"
    q = _question(rt)
    assert q is not None and q.source == "slack" and q.text == "Why was my card declined at the airport?"
    with Session(rt.engine) as s:
        acme = s.exec(select(Account).where(Account.name == "Acme Corp")).one()
    assert q.account_id == acme.id, "the channel maps to the account through Account.slack_channel_ids"
    before = _count(rt)

    retried = _post(server, asked, retry=1)
    assert retried.status_code == 200 and retried.json()["action"] == "duplicate"
    assert _count(rt) == before

    answer = "Airports often use offline terminals; enable offline payments in the app under Card settings."
    reply = _message(f"{NOW_TS - 60}.000300", answer, user=STAFF, thread_ts=QUESTION_TS, parent_user_id="UCUST1")
    assert _post(server, _callback("Ev002", reply)).json()["action"] == "answer"
    follow = _message(f"{NOW_TS - 30}.000400", "That worked at the gate but not in the lounge?", thread_ts=QUESTION_TS)
    assert _post(server, _callback("Ev003", follow)).json()["action"] == "follow_up"
    q = _question(rt)
    assert (
        q is not None
        and q.staff_answer == answer
        and q.follow_ups == ["That worked at the gate but not in the lounge?"]
    )
    assert _count(rt) == before, "replies never become questions of their own"

    edited = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": CHANNEL,
        "ts": f"{NOW_TS - 10}.000500",
        "message": {
            "type": "message",
            "user": "UCUST1",
            "text": "Why was my card declined at the airport in Lisbon?",
            "ts": QUESTION_TS,
        },
        "previous_message": {"type": "message", "user": "UCUST1", "text": "…", "ts": QUESTION_TS},
    }
    assert _post(server, _callback("Ev004", edited)).json()["action"] == "edit"
    q = _question(rt)
    assert q is not None and "airport in Lisbon" in q.text and q.staff_answer == answer
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": CHANNEL,
        "ts": f"{NOW_TS}.1",
        "deleted_ts": QUESTION_TS,
    }
    assert _post(server, _callback("Ev005", deleted)).json()["action"] == "ignored"
    deadline = time.monotonic() + 20
    while not q.embedded and time.monotonic() < deadline:  # embedding runs after the response
        time.sleep(0.2)
        q = _question(rt)
        assert q is not None
    assert q.embedded, "the edited question is re-embedded in the background"
    with Session(rt.engine) as s:
        assert len(s.exec(select(WebhookEvent)).all()) >= 5


def test_bots_and_staff_announcements_are_not_questions(slack_app: tuple[LiveServer, Runtime]) -> None:
    server, rt = slack_app
    before = _count(rt)
    bot = _message(f"{NOW_TS - 40}.000600", "Deploy finished: v2.3.1", bot_id="B01", subtype="bot_message")
    join = _message(f"{NOW_TS - 41}.000700", "<@U9> has joined the channel", subtype="channel_join")
    staff = _message(f"{NOW_TS - 42}.000800", "Heads-up: maintenance window tonight, how exciting?", user=STAFF)
    for n, event in enumerate([bot, join, staff]):
        assert _post(server, _callback(f"EvIGN{n}", event)).json()["action"] == "ignored"
    assert _count(rt) == before


def test_a_hostile_event_is_rejected_with_the_reason_not_a_server_error(slack_app: tuple[LiveServer, Runtime]) -> None:
    """Signed is not well-formed: a list where Slack sends text is refused by name, and changes nothing."""
    server, rt = slack_app
    before, edited = _count(rt), _question(rt)
    ts = f"{NOW_TS - 20}.001000"
    good = _message(ts, "How do I export my invoices to CSV?")
    edit = {"type": "message", "subtype": "message_changed", "channel": CHANNEL, "ts": f"{NOW_TS}.2"}
    hostile: dict[str, dict[str, Any]] = {
        "subtype": {**good, "subtype": ["bot_message"]},
        "user": {**good, "user": ["UCUST1"]},
        "ts": {**good, "ts": [ts]},
        "thread_ts": {**good, "thread_ts": {"ts": QUESTION_TS}},
        "text": {**good, "text": {"t": "How do I export my invoices to CSV?"}},
        "message.text": {**edit, "message": {"type": "message", "ts": QUESTION_TS, "text": ["Why was it declined?"]}},
    }
    for n, (name, event) in enumerate(hostile.items()):
        r = _post(server, _callback(f"EvHOSTILE{n}", event))
        assert r.status_code == 200, r.text
        assert r.json()["action"] == "rejected" and f"{name} is not text" in r.json()["detail"], r.json()
    assert _post(server, _callback("EvHOSTILE0", hostile["subtype"]), retry=1).json()["action"] == "duplicate"
    deep: Any = "x"
    for _ in range(200):
        deep = [deep]
    for payload in [_callback("EvDEEP", {**good, "blocks": deep}), {**_callback("EvLIST", good), "event_id": ["E"]}]:
        r = _post(server, payload)
        assert r.status_code == 200 and r.json()["action"] == "rejected", r.text
    assert "nested deeper than" in _post(server, _callback("EvDEEP", {**good, "blocks": deep})).json()["detail"]
    assert _count(rt) == before and _question(rt, ts) is None
    after = _question(rt)
    assert (after and after.text) == (edited and edited.text), "the hostile edit changed nothing"
    assert _post(server, _callback("EvHOSTILE-OK", good)).json()["action"] == "question", "a good event still lands"


def test_a_body_nested_past_the_parser_is_a_clear_400(slack_app: tuple[LiveServer, Runtime]) -> None:
    """100,000 nested lists in a signed body: Python's own JSON parser would recurse out; we answer 400."""
    server, _ = slack_app
    body = ('{"type": "event_callback", "event_id": "EvABYSS", "event": ' + "[" * 100_000 + "]" * 100_000
            + "}").encode()  # fmt: skip
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{NOW_TS}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": str(NOW_TS), "X-Slack-Signature": sig, "Content-Type": "application/json"}
    r = httpx.post(f"{server.url}/webhooks/slack/events", content=body, headers=headers, timeout=30)
    assert r.status_code == 400 and "nested deeper than" in r.text, r.text[:200]


def test_events_and_the_export_share_ids(slack_app: tuple[LiveServer, Runtime], tmp_path: Path) -> None:
    """Importing the export of a message an event already delivered adds nothing."""
    import zipfile

    server, rt = slack_app
    ts = f"{NOW_TS - 90}.000900"
    assert _post(server, _callback("EvEXP", _message(ts, "Can I set a spending limit per card?"))).status_code == 200
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr("channels.json", json.dumps([{"id": CHANNEL, "name": "acme-shared"}]))
        zf.writestr("users.json", json.dumps([{"id": "UCUST1", "profile": {}}]))
        zf.writestr("acme-shared/2026-11-24.json", json.dumps([_message(ts, "Can I set a spending limit per card?")]))
    result = store_records(rt.engine, read_slack_export(export))
    assert (result.added, result.errors) == (0, [])


def test_endpoint_is_off_without_a_signing_secret(fresh_runtime: Runtime) -> None:
    with LiveServer(fresh_runtime) as server:
        r = _post(server, {"type": "url_verification", "challenge": "x"})
    assert r.status_code == 503 and "DOCGAP_SLACK_SIGNING_SECRET" in r.json()["detail"]
