"""Requests are never dropped; chat drops only chatter; every skip is counted per source and reason, and shown.

Real files, real SQLite, the real importers and store; `docgap sources` as a user runs it (in this process, through
the console script's `main`: see `tests.commandline`).
"""

from __future__ import annotations

import csv
import json
import mailbox
import sqlite3
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from core.db import make_engine
from core.models import ImportRun, Question, SkippedMessage
from core.runtime import Runtime
from ingest.detection import CHATTER_KINDS
from ingest.mail import read_email
from ingest.runs import source_statuses
from ingest.slack import read_slack_export
from ingest.slack_events import handle_payload
from ingest.tabular import ColumnMap, read_csv, read_jsonl
from ingest.zendesk import read_zendesk
from tests.commandline import docgap as run_docgap
from tests.conftest import NOW
from usecases.pipeline import import_questions

TERSE = ["alarm settings", "turn down volume", "show me my alarms", "wake up time", "card not working",
         "need the march invoice"]  # fmt: skip
"""The issue's requests that `ingest csv` used to drop as "not questions"."""
CHATTY_REQUESTS = ["thanks!", "+1", "ok", "Have a great weekend!"]
"""In a request source even these are stored: someone wrote to support, and that is the request."""


def _questions(rt: Runtime) -> dict[str, Question]:
    with Session(rt.engine) as s:
        return {q.external_id: q for q in s.exec(select(Question)).all()}


def _skipped(rt: Runtime) -> dict[str, str]:
    with Session(rt.engine) as s:
        return {m.external_id: m.reason for m in s.exec(select(SkippedMessage)).all()}


def _last_run(rt: Runtime) -> ImportRun:
    with Session(rt.engine) as s:
        runs = s.exec(select(ImportRun)).all()
    return max(runs, key=lambda r: r.id or 0)


def test_every_csv_row_is_stored_except_empty_auto_replies_and_bounces(tmp_path: Path, fresh_runtime: Runtime) -> None:
    rows = [*TERSE, *CHATTY_REQUESTS, "", "   ", "Automatic reply: I am out of the office until Monday",
            "Mail delivery failed: returning message to sender", "I'm out of the office next week, can you approve "
            "invoice 4411 before Friday?"]  # fmt: skip
    src = tmp_path / "q.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerows((f"r{i}", t) for i, t in enumerate(rows))
    result = import_questions(fresh_runtime, read_csv(src, ColumnMap("text", "id"), NOW), location=str(src))
    assert result.ok, result.errors
    stored = _questions(fresh_runtime)
    assert {stored[f"r{i}"].text for i in range(len(TERSE) + len(CHATTY_REQUESTS))} == {*TERSE, *CHATTY_REQUESTS}
    assert f"r{len(rows) - 1}" in stored, "mentioning being out of office does not make a request an auto-reply"
    assert result.added == len(rows) - 4
    assert result.skipped_by == {"empty": 2, "auto-reply": 1, "bounce": 1}
    assert _skipped(fresh_runtime) == {"r10": "empty", "r11": "empty", "r12": "auto-reply", "r13": "bounce"}
    run = _last_run(fresh_runtime)
    assert (run.skipped, run.skipped_reasons) == (4, {"empty": 2, "auto-reply": 1, "bounce": 1})
    again = import_questions(fresh_runtime, read_csv(src, ColumnMap("text", "id"), NOW), location=str(src))
    assert again.added == 0 and again.unchanged == len(rows) - 4 and again.skipped == 4
    (status,) = source_statuses(fresh_runtime)
    assert status.skipped == {"empty": 2, "auto-reply": 1, "bounce": 1}, "a re-import counts each message once"
    assert status.questions == len(rows) - 4 and status.last_skipped == {"empty": 2, "auto-reply": 1, "bounce": 1}


def test_every_jsonl_row_is_stored_and_a_non_text_value_is_still_an_error(
    tmp_path: Path, fresh_runtime: Runtime
) -> None:
    lines = [{"id": f"j{i}", "msg": t} for i, t in enumerate(TERSE)]
    lines += [{"id": "j-null", "msg": None}, {"id": "j-num", "msg": 42}]
    src = tmp_path / "chats.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    result = import_questions(fresh_runtime, read_jsonl(src, ColumnMap("msg", "id"), NOW))
    assert result.added == len(TERSE) and result.skipped_by == {"empty": 1}
    assert [e.record for e in result.errors] == ["line 8"] and "not text" in result.errors[0].message
    assert {q.text for q in _questions(fresh_runtime).values()} == set(TERSE)


def _ticket(i: int, subject: str, description: str) -> dict[str, Any]:
    return {"id": i, "subject": subject, "description": description, "created_at": "2026-11-02T10:00:00Z",
            "requester_id": 1}  # fmt: skip


def test_every_zendesk_ticket_is_stored_except_empty_and_automatic(tmp_path: Path, fresh_runtime: Runtime) -> None:
    tickets = [_ticket(i, "", text) for i, text in enumerate(TERSE, start=1)]
    tickets += [
        _ticket(20, "Thanks!", ""),
        _ticket(21, "", ""),
        _ticket(22, "Automatic reply: Your invoice INV-3321", "I am on leave until 3 March."),
        _ticket(23, "Undeliverable: Payment reminder", "Delivery has failed to these recipients or groups."),
    ]
    src = tmp_path / "tickets.json"
    src.write_text(json.dumps({"tickets": tickets, "users": [{"id": 1, "email": "sam@acme.com"}]}))
    result = import_questions(fresh_runtime, read_zendesk(src))
    assert result.ok, "a ticket with neither subject nor description is skipped as empty, not an error"
    stored = _questions(fresh_runtime)
    assert {stored[str(i)].text for i in range(1, len(TERSE) + 1)} == set(TERSE)
    assert stored["20"].text == "Thanks!"
    assert _skipped(fresh_runtime) == {"21": "empty", "22": "auto-reply", "23": "bounce"}


def _mail(mid: str, sender: str, subject: str, body: str, date: str, parent: str | None = None, **headers: str
          ) -> EmailMessage:  # fmt: skip
    m = EmailMessage()
    m["Message-ID"], m["From"], m["To"], m["Subject"], m["Date"] = mid, sender, "support@fernpay.com", subject, date
    if parent:
        m["In-Reply-To"] = parent
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    if body:
        m.set_content(body)
    return m


def test_every_email_thread_is_stored_except_bounces_and_auto_replies(tmp_path: Path, fresh_runtime: Runtime) -> None:
    box = mailbox.mbox(str(tmp_path / "support.mbox"))
    for m in [
        _mail("<t1@acme.com>", "sam@acme.com", "alarm settings", "", "Mon, 02 Nov 2026 09:00:00 +0000"),
        _mail("<t2@acme.com>", "sam@acme.com", "", "turn down volume", "Mon, 02 Nov 2026 09:05:00 +0000"),
        # Staff write first; the customer's autoresponder answers, then the customer herself.
        _mail("<s1@fernpay.com>", "ellie@fernpay.com", "Your renewal", "Renewal is due.",
              "Tue, 03 Nov 2026 09:00:00 +0000"),
        _mail("<o1@globex.io>", "pat@globex.io", "Automatic reply: Your renewal", "I am away until Monday.",
              "Tue, 03 Nov 2026 09:01:00 +0000", "<s1@fernpay.com>", Auto_Submitted="auto-replied"),
        _mail("<p1@globex.io>", "pat@globex.io", "Re: Your renewal", "need the march invoice",
              "Tue, 03 Nov 2026 12:00:00 +0000", "<o1@globex.io>"),
        # Only machines answered this one: a bounce.
        _mail("<s2@fernpay.com>", "ellie@fernpay.com", "Welcome", "Welcome aboard.", "Wed, 04 Nov 2026 09:00:00 +0000"),
        _mail("<b1@mx.example>", "MAILER-DAEMON@mx.example", "Mail delivery failed", "550 no such user",
              "Wed, 04 Nov 2026 09:02:00 +0000", "<s2@fernpay.com>"),
        # An out-of-office that started its own thread, marked only by the header.
        _mail("<o2@initech.com>", "bob@initech.com", "Back on Monday", "Back on Monday.",
              "Thu, 05 Nov 2026 09:00:00 +0000", X_Autoreply="yes"),
    ]:  # fmt: skip
        box.add(m)
    box.flush()
    result = import_questions(fresh_runtime, read_email(tmp_path / "support.mbox", ["fernpay.com"]))
    assert result.ok, result.errors
    stored = _questions(fresh_runtime)
    assert {k: q.text for k, q in stored.items()} == {
        "<t1@acme.com>": "alarm settings",
        "<t2@acme.com>": "turn down volume",
        "<p1@globex.io>": "Your renewal\nneed the march invoice",
    }, "a mail with only a subject is a request; the customer's own reply, not her autoresponder, is the question"
    assert _skipped(fresh_runtime) == {"<b1@mx.example>": "bounce", "<o2@initech.com>": "auto-reply"}


def _export(path: Path, messages: list[dict[str, Any]]) -> Path:
    users = [
        {"id": "U1", "profile": {"email": "sam@acme.com"}},
        {"id": "US", "profile": {"email": "ellie@fernpay.com"}},
    ]
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("channels.json", json.dumps([{"id": "C1", "name": "ext-acme"}]))
        zf.writestr("users.json", json.dumps(users))
        zf.writestr("ext-acme/2026-11-02.json", json.dumps(messages))
    return path


def _msg(n: int, text: str, user: str = "U1", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": f"1793700{n:03d}.000100", **extra}


CHATTER = {
    "Thanks so much, that sorted it!": "pleasantry",
    "Good morning team 👋": "pleasantry",
    "Noted, will do": "acknowledgement",
    ":+1: :tada:": "reaction",
    "FYI we're closed on Monday for the bank holiday": "announcement",
    "Merci beaucoup pour votre aide !": "pleasantry",
}
"""Chatter the rules recognise, with its kind."""
MODEL_CHATTER = ["Vielen Dank, hat geklappt", "Tutto ok ora", "Super, c'est réglé de notre côté"]
"""Chatter the rules leave to the model; its kind is the model's call, that it is dropped is pinned."""


def test_slack_keeps_terse_requests_and_drops_only_chatter_bots_joins_and_staff_posts(
    tmp_path: Path, fresh_runtime: Runtime
) -> None:
    messages = [_msg(i, t) for i, t in enumerate(TERSE)]
    messages += [_msg(100 + i, t) for i, t in enumerate([*CHATTER, *MODEL_CHATTER])]
    messages += [
        _msg(200, "Deploy finished: v2.3.1", subtype="bot_message", bot_id="B1"),
        _msg(201, "<@U1> has joined the channel", subtype="channel_join"),
        _msg(202, "We ship the new dashboard on Monday", user="US"),
        _msg(203, "Thanks, but the export still fails"),
    ]
    export = _export(tmp_path / "export.zip", messages)
    result = import_questions(fresh_runtime, read_slack_export(export, ["fernpay.com"]), location=str(export))
    assert result.ok
    assert {q.text for q in _questions(fresh_runtime).values()} == {*TERSE, "Thanks, but the export still fails"}
    skipped = _skipped(fresh_runtime)
    by_text = {m["text"]: skipped.get(f"C1:{m['ts']}") for m in messages}
    assert {t: by_text[t] for t in CHATTER} == CHATTER
    assert all(by_text[t] in CHATTER_KINDS for t in MODEL_CHATTER), {t: by_text[t] for t in MODEL_CHATTER}
    assert by_text["Deploy finished: v2.3.1"] == "bot" and by_text["<@U1> has joined the channel"] == "system"
    assert by_text["We ship the new dashboard on Monday"] == "staff"
    (status,) = source_statuses(fresh_runtime)
    assert status.source == "slack" and status.questions == len(TERSE) + 1
    assert sum(status.skipped.values()) == len(CHATTER) + len(MODEL_CHATTER) + 3 and status.skipped["bot"] == 1


def test_a_skipped_chat_message_edited_into_a_request_becomes_a_question(
    tmp_path: Path, fresh_runtime: Runtime
) -> None:
    export = _export(tmp_path / "a.zip", [_msg(1, "thanks!")])
    import_questions(fresh_runtime, read_slack_export(export))
    assert _skipped(fresh_runtime) == {"C1:1793700001.000100": "pleasantry"} and not _questions(fresh_runtime)
    edited = _export(tmp_path / "b.zip", [_msg(1, "thanks! where is the march invoice")])
    result = import_questions(fresh_runtime, read_slack_export(edited))
    assert result.added == 1 and not _skipped(fresh_runtime), "counted once, as a question"


def test_slack_events_judge_messages_like_the_export_and_count_what_they_skip(fresh_runtime: Runtime) -> None:
    def event(n: int, text: str, **extra: Any) -> dict[str, Any]:
        msg = {"type": "message", "channel": "C1", "user": "U1", "text": text, "ts": f"1793700{n:03d}.000100", **extra}
        return {"type": "event_callback", "event_id": f"Ev{n}", "event": msg}

    outcomes = [handle_payload(fresh_runtime, event(n, t)) for n, t in enumerate(["alarm settings", "thanks!"])]
    outcomes.append(handle_payload(fresh_runtime, event(9, "Status: all green", subtype="bot_message", bot_id="B1")))
    assert [o.action for o in outcomes] == ["question", "ignored", "ignored"]
    assert {q.text for q in _questions(fresh_runtime).values()} == {"alarm settings"}
    assert sorted(_skipped(fresh_runtime).values()) == ["bot", "pleasantry"]
    assert handle_payload(fresh_runtime, event(1, "thanks!")).action == "duplicate"


def test_follow_ups_that_add_nothing_are_dropped_from_a_question(tmp_path: Path, fresh_runtime: Runtime) -> None:
    root = _msg(1, "card not working", thread_ts="1793700001.000100", reply_count=3)
    replies = [
        _msg(2, "thanks!!", thread_ts=root["ts"]),
        _msg(3, "still declined at the airport", thread_ts=root["ts"]),
        _msg(4, "ok works now 👍", thread_ts=root["ts"]),
    ]
    import_questions(fresh_runtime, read_slack_export(_export(tmp_path / "t.zip", [root, *replies])))
    (q,) = _questions(fresh_runtime).values()
    assert q.follow_ups == ["still declined at the airport"]


def test_an_older_data_dir_gains_the_skip_columns_and_table(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    make_engine(f"sqlite:///{db}").dispose()
    with sqlite3.connect(db) as conn:  # a data dir from before skips were counted per reason (and migrations)
        conn.execute("DROP TABLE alembic_version")
        conn.execute("ALTER TABLE question DROP COLUMN team")  # revision 0002, after migrations came in
        conn.execute("ALTER TABLE importrun DROP COLUMN skipped_reasons")
        conn.execute("DROP TABLE skippedmessage")
        conn.execute(
            "INSERT INTO importrun (source, location, started_at, status, added, updated, unchanged, skipped,"
            " error_count, errors) VALUES ('csv:q.csv', 'q.csv', '2026-11-01 10:00:00', 'ok', 3, 0, 0, 2, 0, '[]')"
        )
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        run = s.exec(select(ImportRun)).one()
        assert run.skipped == 2 and run.skipped_reasons == {}
        assert s.exec(select(SkippedMessage)).all() == []


def test_docgap_sources_shows_skips_per_source_and_reason_and_lists_them(tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    src.write_text("id,text\n1,alarm settings\n2,\n3,Automatic reply: out until Monday\n", encoding="utf-8")

    def docgap(*args: str) -> str:
        return run_docgap(args, tmp_path / "data", env={"COLUMNS": "200"}).stdout  # exit status 0, or it fails

    assert "1 added" in docgap("ingest", "csv", str(src), "--text-column", "text", "--id-column", "id")
    table = docgap("sources")
    assert "csv:q.csv" in table and "1 auto-reply, 1 empty" in table
    (row,) = json.loads(docgap("sources", "--json"))
    assert row["questions"] == 1 and row["skipped"] == {"empty": 1, "auto-reply": 1}
    listed = json.loads(docgap("sources", "--skipped", "--json"))
    assert {(m["external_id"], m["reason"]) for m in listed} == {("2", "empty"), ("3", "auto-reply")}
    assert "Automatic reply" in docgap("sources", "--skipped", "--source", "csv:q.csv")
