import json
import zipfile
from pathlib import Path

from sqlmodel import Session, select

from core.models import Account, Question
from demo.build import STAFF_DOMAIN
from ingest.records import IngestError, QuestionRecord
from ingest.slack import read_slack_export
from usecases.pipeline import import_accounts, import_questions


def test_threads_become_questions_with_staff_answers(demo_sources: Path) -> None:
    export = demo_sources / "slack" / "fernpay-slack-export.zip"
    items = list(read_slack_export(export, [STAFF_DOMAIN]))
    assert not [i for i in items if isinstance(i, IngestError)]
    marked = {r.skip for r in items if isinstance(r, QuestionRecord) and r.text == "All systems operational."}
    assert marked == {"bot"}, "bot posts are yielded to be counted, marked as not questions"
    joins = {r.skip for r in items if isinstance(r, QuestionRecord) and "has joined the channel" in r.text}
    assert joins == {"system"}, "so are joins"
    records = [i for i in items if isinstance(i, QuestionRecord) and i.skip is None]
    assert all(r.kind == "chat" for r in records), "the store judges Slack messages as chat"
    assert not any(r.author and r.author.endswith("@" + STAFF_DOMAIN) for r in records), "staff replies are answers"
    with_answer = [r for r in records if r.staff_answer]
    assert with_answer and all("Fernpay" not in r.text for r in with_answer)
    assert any(r.follow_ups for r in records)
    assert len({r.external_id for r in records}) == len(records)


def test_channels_map_to_accounts_and_reimport_is_a_noop(demo_sources: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    export = demo_sources / "slack" / "fernpay-slack-export.zip"
    import_accounts(fresh_runtime, demo_sources / "accounts.csv")
    first = import_questions(fresh_runtime, read_slack_export(export, [STAFF_DOMAIN]))
    again = import_questions(fresh_runtime, read_slack_export(export, [STAFF_DOMAIN]))
    assert first.added > 300 and again.added == 0 and again.unchanged == first.added
    with Session(fresh_runtime.engine) as s:
        brightline = s.exec(select(Account).where(Account.name == "Brightline Logistics")).one()
        mine = s.exec(select(Question).where(Question.account_id == brightline.id)).all()
    assert mine and all(q.channel == "C05BRIGHT" for q in mine)


def test_unreadable_day_file_is_reported_and_others_land(tmp_path: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    export = tmp_path / "export.zip"
    users = [{"id": "U1", "name": "sam", "profile": {"email": "sam@acme.com"}}]
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr("channels.json", json.dumps([{"id": "C1", "name": "ext-acme"}]))
        zf.writestr("users.json", json.dumps(users))
        zf.writestr(
            "ext-acme/2026-11-02.json",
            json.dumps(
                [
                    {
                        "type": "message",
                        "user": "U1",
                        "ts": "1793700000.000100",
                        "text": "How do I order a physical card?",
                    }
                ]
            ),
        )
        zf.writestr("ext-acme/2026-11-03.json", '[{"type": "message", "user": "U1", "te')
    result = import_questions(fresh_runtime, read_slack_export(export))
    assert result.added == 1
    assert len(result.errors) == 1 and "ext-acme/2026-11-03.json" in result.errors[0].file


def test_deleted_roots_files_and_slack_connect_teams(tmp_path: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    export = tmp_path / "export.zip"
    users = [
        {"id": "U1", "team_id": "TGLOBEX", "profile": {"email": "pat@globex.io"}},
        {"id": "US", "team_id": "TFERN", "profile": {"email": "ellie@fernpay.com"}},
    ]
    day = [
        {
            "type": "message",
            "subtype": "tombstone",
            "user": "USLACKBOT",
            "text": "This message was deleted.",
            "ts": "1793700000.000100",
            "thread_ts": "1793700000.000100",
        },
        {
            "type": "message",
            "user": "U1",
            "text": "orphan reply to a deleted question",
            "ts": "1793700100.000100",
            "thread_ts": "1793700000.000100",
        },
        {
            "type": "message",
            "subtype": "file_share",
            "user": "U1",
            "text": "Why does this statement show a fee?",
            "files": [{"id": "F1", "name": "statement.pdf", "url_private": "https://files.example/F1"}],
            "ts": "1793700200.000100",
            "user_team": "TGLOBEX",
        },
        {
            "type": "message",
            "subtype": "file_share",
            "user": "U1",
            "text": "",
            "files": [{"id": "F2"}],
            "ts": "1793700300.000100",
        },
        {
            "type": "message",
            "user": "U1",
            "text": "How do I add a second admin? (edited)",
            "ts": "1793700400.000100",
            "edited": {"user": "U1", "ts": "1793700500.000000"},
        },
    ]
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr("channels.json", json.dumps([{"id": "CSHARED", "name": "globex-fernpay"}]))
        zf.writestr("users.json", json.dumps(users))
        zf.writestr("globex-fernpay/2026-11-02.json", json.dumps(day))
    with Session(fresh_runtime.engine) as s:
        s.add(Account(name="Globex", slack_team_ids=["TGLOBEX"]))
        s.commit()
    result = import_questions(fresh_runtime, read_slack_export(export, ["fernpay.com"]))
    assert result.ok and result.added == 2
    with Session(fresh_runtime.engine) as s:
        questions = s.exec(select(Question)).all()
        globex = s.exec(select(Account).where(Account.name == "Globex")).one()
    assert sorted(q.text for q in questions) == [
        "How do I add a second admin? (edited)",
        "Why does this statement show a fee?",
    ]
    assert all(q.account_id == globex.id for q in questions), "Slack Connect team id maps to the account"
