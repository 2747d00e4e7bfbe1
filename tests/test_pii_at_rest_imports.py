"""No raw PII at rest or in the logs, for every importer and the Slack Events webhook.

The same personal values (an email address, a phone number, a card number, an IBAN and an API key) are put in every
field a customer or an agent writes: subjects, bodies, staff replies, follow-ups, chatter that is skipped, bot posts,
auto-replies, and records malformed so that an error message might quote them (a column shifted into the date, a
number where text belongs). Each file goes through its real `docgap ingest …` command (in-process, so its output is
captured), the webhook gets signed events over real HTTP (a question, a staff reply, a follow-up, an edit, a
skipped post); then every file of the data dir (SQLite and its WAL, Chroma) and everything logged or printed is
searched byte by byte for the raw values. (`tests/test_pii_at_rest.py` covers the answers and questions API and
the chat.)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import mailbox
import sqlite3
import zipfile
from collections.abc import Iterator
from datetime import UTC
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.main import app
from core.embedding import SentenceTransformerEmbedder
from core.models import Account, Question
from tests.conftest import NOW, LiveServer, make_runtime
from tests.logcapture import LogCapture, capturing

EMAIL = "jane.roe.pii@example.org"
PHONE = "+44 20 7946 0958"
CARD = "4111 1111 1111 1111"
IBAN = "GB82 WEST 1234 5698 7654 32"
SECRET = "sk_live_51HqLyjWDarjtT1zdp7dcQx9"
RAW = {"email": EMAIL, "phone": PHONE, "card": CARD, "iban": IBAN, "secret": SECRET}
PII = f"my card {CARD} was charged twice; call {PHONE} or mail {EMAIL}, refund to {IBAN}, our key is {SECRET}"
STAFF_DOMAIN = "fernpay.com"
SIGNING_SECRET = "0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c"
STAFF_SLACK_USER = "USTAFF9"
CHANNEL = "C0PIIACME"
NOW_TS = int(NOW.replace(tzinfo=UTC).timestamp())


def _needles() -> dict[bytes, str]:
    """Each raw value as stored text could hold it: as written, without spaces, digits only, UTF-16."""
    out: dict[bytes, str] = {}
    for kind, value in RAW.items():
        forms = {value, value.replace(" ", "")}
        if kind in ("phone", "card"):
            forms.add("".join(c for c in value if c.isdigit()))
        for form in forms:
            out[form.encode()] = kind
            out[form.encode("utf-16-le")] = kind
    return out


def _leaks(blob: bytes) -> set[str]:
    return {kind for needle, kind in _needles().items() if needle in blob}


def _columns_with_pii(db: Path) -> dict[str, set[str]]:
    """Which table.column holds which raw values: what a failure message should point at."""
    conn = sqlite3.connect(db)
    try:
        out: dict[str, set[str]] = {}
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cur = conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            for row in cur:
                for name, value in zip(names, row, strict=True):
                    if kinds := _leaks(str(value).encode()):
                        out.setdefault(f"{table}.{name}", set()).update(kinds)
        return out
    finally:
        conn.close()


# --- the files, one per importer ---------------------------------------------------------------------------------


def _zendesk(path: Path) -> Path:
    users = [
        {"id": 1, "name": "Jane Roe", "email": EMAIL, "role": "end-user", "phone": PHONE},
        {"id": 2, "name": "Ellie Agent", "email": f"ellie@{STAFF_DOMAIN}", "role": "agent"},
    ]
    tickets = [
        {
            "id": 501, "subject": f"Charged twice, call {PHONE}", "description": f"Hello, {PII}. Why?",
            "requester_id": 1, "organization_id": 77, "created_at": "2026-11-20T09:00:00Z", "via": {"channel": "email"},
            "comments": [
                {"author_id": 1, "body": f"Hello, {PII}. Why?", "public": True},
                {"author_id": 2, "body": f"Refunded to {IBAN}; we emailed {EMAIL} and called {PHONE}.", "public": True},
                {"author_id": 1, "body": f"Still not there, card {CARD}, key {SECRET}?", "public": True},
            ],
        },
        {"id": 502, "subject": "Automatic reply: out of office", "description": f"Back Monday. Urgent: {PHONE}",
         "requester_id": 1, "created_at": "2026-11-20T10:00:00Z"},
        {"id": 503, "subject": "Shifted", "description": "Why was I charged?", "requester_id": 1,
         "created_at": f"{EMAIL} {PHONE}"},  # a column shifted into the date: the error must not quote it
    ]  # fmt: skip
    doc = {"tickets": tickets, "users": users, "organizations": [{"id": 77, "name": "Acme Corp"}]}
    path.write_text(json.dumps(doc))
    return path


def _slack(path: Path) -> Path:
    users = [
        {"id": "UJANE", "name": "jane", "real_name": "Jane Roe", "profile": {"email": EMAIL, "phone": PHONE}},
        {"id": STAFF_SLACK_USER, "name": "ellie", "profile": {"email": f"ellie@{STAFF_DOMAIN}"}},
    ]
    day = [
        {"type": "message", "user": "UJANE", "ts": "1795500000.000100", "text": f"Hi all, {PII}. What happened?"},
        {"type": "message", "user": STAFF_SLACK_USER, "ts": "1795500060.000200", "thread_ts": "1795500000.000100",
         "text": f"We refunded {IBAN} and will call {PHONE}."},
        {"type": "message", "user": "UJANE", "ts": "1795500120.000300", "thread_ts": "1795500000.000100",
         "text": f"Did it go to card {CARD}? my key {SECRET} also broke"},
        {"type": "message", "user": "UJANE", "ts": "1795500180.000400", "text": f"thanks! {EMAIL}"},
        {"type": "message", "subtype": "bot_message", "bot_id": "B1", "ts": "1795500240.000500",
         "text": f"Alert for {EMAIL}: card {CARD}"},
    ]  # fmt: skip
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("channels.json", json.dumps([{"id": CHANNEL, "name": "ext-acme"}]))
        zf.writestr("users.json", json.dumps(users))
        zf.writestr("ext-acme/2026-11-20.json", json.dumps(day))
        zf.writestr("ext-acme/2026-11-21.json", f'[{{"type": "message", "text": "{EMAIL} {CARD}')  # truncated
    return path


def _mail(mid: str, sender: str, subject: str, body: str, date: str, parent: str | None = None) -> EmailMessage:
    m = EmailMessage()
    m["Message-ID"], m["From"], m["To"], m["Subject"], m["Date"] = mid, sender, f"support@{STAFF_DOMAIN}", subject, date
    if parent:
        m["In-Reply-To"], m["References"] = parent, parent
    m.set_content(body)
    return m


def _email(folder: Path) -> tuple[Path, Path]:
    box = mailbox.mbox(str(folder / "support.mbox"))
    for m in [
        _mail("<q1@mail.example.org>", f"Jane Roe <{EMAIL}>", f"Card {CARD} charged twice",
              f"Hi team,\n\n{PII}.\n\nThanks,\nJane Roe\n{PHONE}\n{EMAIL}", "Fri, 20 Nov 2026 09:00:00 +0000"),
        _mail("<a1@fernpay.com>", f"Ellie <ellie@{STAFF_DOMAIN}>", "Re: charged twice",
              f"Refunded to {IBAN}; we will call {PHONE}.", "Fri, 20 Nov 2026 11:00:00 +0000", "<q1@mail.example.org>"),
        _mail("<q2@mail.example.org>", EMAIL, "Re: charged twice", f"Not yet. Key {SECRET}, card {CARD}?",
              "Sat, 21 Nov 2026 08:00:00 +0000", "<a1@fernpay.com>"),
    ]:  # fmt: skip
        box.add(m)
    box.flush()
    box.close()
    eml = folder / "eml"
    eml.mkdir()
    (eml / "ask.eml").write_bytes(
        _mail("<e1@mail.example.org>", EMAIL, f"IBAN {IBAN}?", f"{PII}. Please help.",
              "Sun, 22 Nov 2026 10:00:00 +0000").as_bytes()
    )  # fmt: skip
    away = _mail("<e2@mail.example.org>", EMAIL, "Out of office", f"Away. Call {PHONE}.",
                 "Sun, 22 Nov 2026 11:00:00 +0000")  # fmt: skip
    away["Auto-Submitted"] = "auto-replied"
    (eml / "away.eml").write_bytes(away.as_bytes())
    (eml / "broken.eml").write_bytes(f"From: {EMAIL}\nSubject: card {CARD}\n\n{PII}".encode())  # no Message-ID
    return folder / "support.mbox", eml


def _csv(path: Path) -> Path:
    path.write_text(
        "id,body,company,created\n"
        f'c1,"{PII}. Why?",Acme Corp,2026-11-20T09:00:00\n'
        f'c2,"Why was I charged?",Acme Corp,"{EMAIL} {CARD}"\n'  # shifted columns: an error that must not quote them
        f'c3,"thanks {PHONE}",Acme Corp,2026-11-20T10:00:00\n'
    )
    return path


def _jsonl(path: Path) -> Path:
    rows = [
        json.dumps({"id": "j1", "message": f"{PII}. Why?", "org": "Acme Corp", "created": "2026-11-20T09:00:00Z"}),
        json.dumps({"id": "j2", "message": int(CARD.replace(" ", "")), "org": "Acme Corp", "created": 1795500000}),
        json.dumps({"id": "j3", "message": "Refund?", "org": "Acme Corp", "created": f"{PHONE} {EMAIL}"}),
        f'{{"id": "j4", "message": "{IBAN} {SECRET}',  # truncated line
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


# --- the Slack webhook -------------------------------------------------------------------------------------------


def _post(server: LiveServer, event_id: str, event: dict[str, Any]) -> httpx.Response:
    payload = {"type": "event_callback", "team_id": "T0FERN", "event_id": event_id, "event_time": NOW_TS,
               "event": {"channel": CHANNEL, "channel_type": "channel", **event}}  # fmt: skip
    body = json.dumps(payload).encode()
    sig = "v0=" + hmac.new(SIGNING_SECRET.encode(), f"v0:{NOW_TS}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": str(NOW_TS), "X-Slack-Signature": sig, "Content-Type": "application/json"}
    return httpx.post(f"{server.url}/webhooks/slack/events", content=body, headers=headers, timeout=30)


def _webhook(server: LiveServer) -> None:
    asked = f"{NOW_TS - 600}.000100"
    events = [
        {"type": "message", "user": "UJANE", "ts": asked, "text": f"{PII}. What now?"},
        {"type": "message", "user": STAFF_SLACK_USER, "ts": f"{NOW_TS - 500}.000200", "thread_ts": asked,
         "text": f"Refunded to {IBAN}; calling {PHONE}; wrote to {EMAIL}."},
        {"type": "message", "user": "UJANE", "ts": f"{NOW_TS - 400}.000300", "thread_ts": asked,
         "text": f"Card {CARD} still shows it, and key {SECRET} fails?"},
        {"type": "message", "subtype": "message_changed", "ts": f"{NOW_TS - 300}.000400",
         "message": {"type": "message", "user": "UJANE", "ts": asked, "text": f"Edited: {PII}. Still waiting?"}},
        {"type": "message", "subtype": "channel_join", "user": "UJANE", "ts": f"{NOW_TS - 200}.000500",
         "text": f"<@UJANE> has joined the channel ({EMAIL}, {PHONE})"},
        {"type": "message", "subtype": "bot_message", "bot_id": "B1", "ts": f"{NOW_TS - 100}.000600",
         "text": f"Alert {CARD} {PHONE}"},
    ]  # fmt: skip
    actions = [_post(server, f"EvPII{n}", e).json()["action"] for n, e in enumerate(events)]
    assert actions == ["question", "answer", "follow_up", "edit", "ignored", "ignored"], actions


# --- the test ----------------------------------------------------------------------------------------------------


LOGGERS = dict.fromkeys(["", "uvicorn", "uvicorn.error", "uvicorn.access", "docgap", "usecases"], logging.DEBUG)
"""The root logger, uvicorn's (which do not propagate to it) and ours."""


@pytest.fixture()
def all_logs() -> Iterator[LogCapture]:
    with capturing(LOGGERS) as handler:
        yield handler


def test_no_raw_pii_at_rest_or_in_logs_from_any_importer_or_the_webhook(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, all_logs: LogCapture, capfd: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    rt = make_runtime(data, embedder, staff_domains=STAFF_DOMAIN, slack_signing_secret=SIGNING_SECRET,
                      slack_staff_user_ids=STAFF_SLACK_USER)  # fmt: skip
    with Session(rt.engine) as s:
        s.add(Account(name="Acme Corp", domains=["example.org"], zendesk_org_ids=["77"], slack_channel_ids=[CHANNEL]))
        s.commit()
    sources = tmp_path / "sources"
    sources.mkdir()
    mbox, eml = _email(sources)
    commands = [
        ["ingest", "zendesk", str(_zendesk(sources / "tickets.json"))],
        ["ingest", "slack", str(_slack(sources / "export.zip"))],
        ["ingest", "email", str(mbox)],
        ["ingest", "email", str(eml)],
        ["ingest", "csv", str(_csv(sources / "q.csv")), "--text-column", "body", "--id-column", "id",
         "--account-column", "company", "--created-column", "created"],
        ["ingest", "jsonl", str(_jsonl(sources / "q.jsonl")), "--text-field", "message", "--id-field", "id",
         "--account-field", "org", "--created-field", "created"],
    ]  # fmt: skip
    env = {"DOCGAP_DATA_DIR": str(data), "DOCGAP_STAFF_DOMAINS": STAFF_DOMAIN}
    printed = []
    for cmd in commands:
        result = CliRunner().invoke(app, cmd, env=env)
        assert result.exit_code in (0, 2), (cmd, result.output)  # 2: the malformed records were reported
        printed.append(result.output)
    with LiveServer(rt) as server:
        all_logs.attach()
        _webhook(server)
    assert "uvicorn.access INFO" in all_logs.text.getvalue(), "the server's own log was not captured"

    with Session(rt.engine) as s:
        stored = s.exec(select(Question)).all()
    by_source = {q.source for q in stored}
    assert {"zendesk", "slack", "email", "csv:q.csv", "jsonl:q.jsonl"} <= by_source, by_source
    # The values were there to leak: the stored texts hold the placeholders where they stood.
    everything = " ".join(f"{q.text} {q.staff_answer or ''} {' '.join(q.follow_ups)}" for q in stored)
    assert {"[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]", "[SECRET]"} <= set(everything.split()) | {
        w.strip(".,;?!") for w in everything.split()
    }
    out, err = capfd.readouterr()
    found = {f.relative_to(data).as_posix(): _leaks(f.read_bytes()) for f in data.rglob("*") if f.is_file()}
    found = {name: kinds for name, kinds in found.items() if kinds}
    logged = {
        "logging": _leaks(all_logs.text.getvalue().encode()),
        "command output": _leaks("".join(printed).encode()),
        "stdout/stderr": _leaks((out + err).encode()),
    }
    assert any(f.suffix == ".sqlite3" for f in data.rglob("*")) and (data / "chroma").is_dir()
    assert not found, f"raw PII at rest: {found}, in {_columns_with_pii(rt.settings.sqlite_path)}"
    assert not any(logged.values()), f"raw PII logged or printed: {logged}"
