import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from core.models import Account, Question
from ingest.records import IngestError, QuestionRecord
from ingest.zendesk import read_zendesk
from usecases.pipeline import import_accounts, import_questions

pytestmark = pytest.mark.backends


def test_demo_export_parses_with_staff_answers_and_follow_ups(demo_sources: Path) -> None:
    items = list(read_zendesk(demo_sources / "zendesk" / "tickets.json"))
    records = [i for i in items if isinstance(i, QuestionRecord)]
    assert not [i for i in items if isinstance(i, IngestError)]
    assert len(records) > 1000
    assert any(r.staff_answer for r in records), "agent replies (role=agent) become staff answers"
    assert all(not r.staff_answer or r.staff_answer not in r.text for r in records)
    assert any(r.follow_ups for r in records)
    assert all(r.hint.zendesk_org_id for r in records)


def test_malformed_lines_are_reported_and_the_rest_lands(tmp_path: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    good = {
        "id": 1,
        "subject": "Card declined",
        "description": "Why was my card declined at a shop?",
        "created_at": "2026-11-02T10:00:00Z",
        "organization_id": 7,
    }
    other = {**good, "id": 2, "description": "How do I change my PIN?"}
    wrong_type = {**good, "id": 3, "created_at": 12.5e20}
    huge = {**good, "id": 5, "description": "Why? " + "log line\n" * 1_300_000}  # a 10 MB pasted log
    lines = [json.dumps(good), '{"id": 4, "subject": "trunc', json.dumps(wrong_type), "[1, 2]", json.dumps(other)]
    lines.append(json.dumps(huge))
    path = tmp_path / "tickets.ndjson"
    bad_utf8 = b'{"id": 6, "subject": "caf\xe9 card", "created_at": "2026-11-02T10:00:00Z"}'
    data = "\n".join(lines).encode() + b"\n" + bad_utf8 + b"\n"
    path.write_bytes(data)
    result = import_questions(fresh_runtime, read_zendesk(path))
    assert result.added == 2
    labels = sorted(e.record for e in result.errors)
    assert any("line 2" in r for r in labels), labels
    assert any("ticket 3" in r for r in labels), labels
    assert any("line 4" in r for r in labels), labels
    assert any(e.record == "5" and "exceeds" in e.message for e in result.errors), "the 10 MB message is named"
    assert any(e.record == "line 7" and "UTF-8" in e.message for e in result.errors), "bad bytes are named"
    assert all(str(path) in str(e) or e.file == "zendesk" for e in result.errors)


def test_reimport_adds_nothing_and_accounts_map_by_org(demo_sources: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    file = demo_sources / "zendesk" / "tickets.json"
    import_accounts(fresh_runtime, demo_sources / "accounts.csv")
    first = import_questions(fresh_runtime, read_zendesk(file))
    second = import_questions(fresh_runtime, read_zendesk(file))
    assert first.added > 1000
    assert (second.added, second.updated, second.unchanged) == (0, 0, first.added)
    with Session(fresh_runtime.engine) as s:
        questions = s.exec(select(Question)).all()
        accounts = s.exec(select(Account)).all()
    assert len(questions) == first.added
    assert len(accounts) == 15, "organizations match CRM accounts instead of creating duplicates"
    assert all(q.account_id for q in questions)
    assert fresh_runtime.vectors.count("questions") == len(questions)


def test_the_customers_team_comes_from_the_configured_field_and_is_redacted(tmp_path: Path, fresh_runtime) -> None:  # type: ignore[no-untyped-def]
    """`DOCGAP_ZENDESK_TEAM_FIELD` names a user field of the requester or a ticket field; `group_id` (the agents'
    group) never becomes a team."""
    ticket = {"subject": "Card declined", "created_at": "2026-11-02T10:00:00Z", "organization_id": 7, "group_id": 55}
    doc = {
        "tickets": [
            {**ticket, "id": 1, "description": "Why was my card declined?", "requester_id": 11},
            {**ticket, "id": 2, "description": "How do I change my PIN?", "requester_id": 12,
             "custom_fields": [{"id": 360, "value": "Payroll"}]},
            {**ticket, "id": 3, "description": "Where is my statement?", "requester_id": 12,
             "custom_fields": [{"id": 360, "value": ["ops", "eu"]}]},
            {**ticket, "id": 4, "description": "Can I add a user?", "requester_id": 13},
            {**ticket, "id": 5, "description": "Why a fee?", "requester_id": 12,
             "custom_fields": [{"id": 360, "value": {"nested": "object"}}]},
        ],
        "users": [
            {"id": 11, "email": "ana@acme.example", "role": "end-user", "user_fields": {"department": "Finance"}},
            {"id": 12, "email": "bo@acme.example", "role": "end-user", "user_fields": {}},
            {"id": 13, "email": "cy@acme.example", "role": "end-user",
             "user_fields": {"department": "Ops, ask jane.doe@acme.example"}},
        ],
    }  # fmt: skip
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(doc))

    by_user_field = [r for r in read_zendesk(path, team_field="department") if isinstance(r, QuestionRecord)]
    assert [r.team for r in by_user_field] == ["Finance", None, None, "Ops, ask jane.doe@acme.example", None]
    assert [r.team for r in read_zendesk(path) if isinstance(r, QuestionRecord)] == [None] * 5, "none unless asked"

    by_ticket_field = list(read_zendesk(path, team_field="360"))
    errors = [r for r in by_ticket_field if isinstance(r, IngestError)]
    assert len(errors) == 1 and "(ticket 5)" in errors[0].record and "team field 360" in errors[0].message
    assert [r.team for r in by_ticket_field if isinstance(r, QuestionRecord)] == [None, "Payroll", "ops, eu", None]

    import_questions(fresh_runtime, read_zendesk(path, team_field="department"))
    with Session(fresh_runtime.engine) as session:
        teams = {q.external_id: q.team for q in session.exec(select(Question)).all()}
    assert teams["1"] == "Finance" and teams["2"] is None
    assert "jane.doe@acme.example" not in (teams["4"] or "") and (teams["4"] or "").startswith("Ops, ask ")
