"""Every exporter against a local server speaking its tracker's real API, through `usecases.tickets.export_tickets`.

A ticket is exported, changed and exported again: the second export reads the issue's status, then must update the
same external issue (PATCH or PUT, Linear's `issueUpdate`), never open a second one. Retries, refusals and missing
settings are checked too; how statuses travel between ticket and issue is in `test_status_sync.py`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from core.models import DocTicket, TicketExport, Topic
from core.runtime import Runtime
from core.settings import Settings
from tests.tickets.servers import FakeAsana, FakeGitHub, FakeJira, FakeLinear, FakeTracker, adf_problem
from trackers import TrackerError
from usecases.permissions import OPERATOR, user_actor
from usecases.tickets import export_tickets, set_ticket_status

HOSTILE = "<script>alert(1)</script> see [this](https://evil.example) # not a heading"
T0 = datetime(2026, 11, 24, 9, 0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _settings(tracker: str, fake: FakeTracker) -> dict[str, Any]:
    if isinstance(fake, FakeGitHub):
        return {"github_api_url": fake.url, "github_repo": fake.repo, "github_token": fake.token}
    if isinstance(fake, FakeJira):
        return {"jira_url": fake.url, "jira_email": fake.email, "jira_token": fake.token, "jira_project": fake.project}
    if isinstance(fake, FakeLinear):
        return {"linear_api_url": f"{fake.url}/graphql", "linear_token": fake.token, "linear_team_id": fake.team}
    assert isinstance(fake, FakeAsana)
    return {"asana_api_url": f"{fake.url}/api/1.0", "asana_token": fake.token, "asana_project": fake.project}


def runtime_with(tmp_path: Path, clock: Clock, **settings: Any) -> Runtime:
    """A small instance holding one topic and its ticket (no model: exporting needs none)."""
    rt = Runtime(Settings(data_dir=tmp_path / "data", _env_file=None, **settings), clock=clock)
    with Session(rt.engine) as s:
        topic = Topic(label="How do I get a card out of a cash machine?", gap_kind="missing", size=12)
        s.add(topic)
        s.flush()
        s.add(DocTicket(
            topic_id=topic.id or 0, title="Document: How do I get a card out of a cash machine?",
            problem="Customers asked 12 questions about it from 4 accounts; nothing in the docs answers it.",
            evidence={"volume": 12, "recent_questions": 5, "accounts": 4, "recent_accounts": 3, "growth": 0.5,
                      "first_seen": "2026-06-01", "last_seen": "2026-11-20", "gap_kind": "missing", "coverage": 0.2,
                      "examples": ["My card got stuck in the cash machine", HOSTILE],
                      "pages": [{"url": "cash/withdrawals.md", "title": "Cash withdrawals", "section": "Fees",
                                 "why": "first result for 2 of 5 example questions, answers 0 of them"}],
                      "outline_source": "staff answers"},
            outline=["Call the bank that owns the machine first.", "Freeze the card in the app."],
            outline_mode="offline", target_page="cash/card-kept-by-a-cash-machine.md",
            target_title="What to do when a cash machine keeps your card", target_is_new=True,
            created_at=T0, updated_at=T0, created_by="test",
        ))  # fmt: skip
        s.commit()
    return rt


def _ticket_id(rt: Runtime) -> int:
    with Session(rt.engine) as s:
        found = s.exec(select(DocTicket.id)).first()
        assert found
        return found


def _edit(rt: Runtime, **changes: Any) -> None:
    with Session(rt.engine) as s:
        t = s.exec(select(DocTicket)).one()
        for k, v in changes.items():
            setattr(t, k, v)
        s.add(t)
        s.commit()


def _exports(rt: Runtime) -> list[TicketExport]:
    with Session(rt.engine) as s:
        return list(s.exec(select(TicketExport)).all())


Call = tuple[str, str]
CASES: list[tuple[str, type[FakeTracker], Call, Call, Call]] = [
    ("github", FakeGitHub, ("POST", "/repos/acme/docs/issues"), ("GET", r"/repos/acme/docs/issues/1"),
     ("PATCH", r"/repos/acme/docs/issues/1")),
    ("jira", FakeJira, ("POST", "/rest/api/3/issue"), ("GET", r"/rest/api/3/issue/DOC-1"),
     ("PUT", r"/rest/api/3/issue/DOC-1")),
    ("linear", FakeLinear, ("POST", "/graphql"), ("POST", r"/graphql"), ("POST", r"/graphql")),
    ("asana", FakeAsana, ("POST", "/api/1.0/tasks"), ("GET", r"/api/1\.0/tasks/1209000000000100"),
     ("PUT", r"/api/1\.0/tasks/1209000000000100")),
]  # fmt: skip
"""(tracker, fake, the create call, the status read on exporting again, the update)."""


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, FakeTracker, Runtime, Clock, Any]]:
    tracker, fake_class, create, read, update = request.param
    clock = Clock()
    with fake_class() as fake:
        yield tracker, fake, runtime_with(tmp_path, clock, **_settings(tracker, fake)), clock, (create, read, update)


def test_export_then_export_again_updates_the_same_issue(rig) -> None:  # type: ignore[no-untyped-def]
    tracker, fake, rt, clock, (create, read, update) = rig
    ticket = _ticket_id(rt)
    [first] = export_tickets(rt, OPERATOR, [ticket], tracker)
    assert first.action == "created", first.error
    assert (fake.requests[0].method, fake.requests[0].path.split("?")[0]) == create
    assert len(fake.issues) == 1 and first.url.startswith(("https://", fake.url)), first.url

    _edit(rt, title="Document: A card kept by a cash machine", outline=["Call the bank that owns the machine."])
    clock.now += timedelta(hours=1)
    [second] = export_tickets(rt, OPERATOR, [ticket], tracker)
    assert second.action == "updated", second.error
    assert (second.external_id, second.url) == (first.external_id, first.url)
    assert len(fake.requests) == 3, "read the issue's status, then update it"
    for call, seen in zip((read, update), fake.requests[1:], strict=True):
        assert seen.method == call[0] and re.fullmatch(call[1], seen.path.split("?")[0]), (seen.method, seen.path)
    assert len(fake.issues) == 1, "a second export must not open a second issue"
    [row] = _exports(rt)
    assert (row.tracker, row.external_id, row.exported_at, row.updated_at) == (tracker, first.external_id, T0,
                                                                              clock.now)  # fmt: skip
    held = next(iter(fake.issues.values()))
    assert "A card kept by a cash machine" in str(held)
    assert "Call the bank that owns the machine." in str(held) and "Freeze the card" not in str(held)


def test_github_request_and_payload(tmp_path: Path) -> None:
    with FakeGitHub() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings("github", fake))
        export_tickets(rt, OPERATOR, [], "github")
        set_ticket_status(rt, OPERATOR, _ticket_id(rt), "done")
        export_tickets(rt, OPERATOR, [], "github")  # no ids: the live ones; a done ticket is not live
        assert len(fake.requests) == 1
        export_tickets(rt, OPERATOR, [_ticket_id(rt)], "github")
    post, read, patch = fake.requests
    assert read.method == "GET"
    assert post.headers["authorization"] == f"Bearer {fake.token}"
    assert post.headers["accept"] == "application/vnd.github+json" and post.headers["x-github-api-version"]
    assert post.body["title"] == "Document: How do I get a card out of a cash machine?"
    body = post.body["body"]
    assert body.startswith("## Problem") and "## Suggested outline (offline: extracted from staff answers)" in body
    assert "\\<script\\>" in body and "<script>" not in body and "](https://evil" not in body
    assert "\\# not a heading" in body and "\n# " not in body
    assert (patch.body["state"], patch.body["state_reason"]) == ("closed", "completed"), "a done ticket closes it"
    assert fake.issues["1"]["state"] == "closed"


def test_jira_sends_an_atlassian_document(tmp_path: Path) -> None:
    with FakeJira() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings("jira", fake))
        [result] = export_tickets(rt, OPERATOR, [], "jira")
    [post] = fake.requests
    basic = base64.b64encode(f"{fake.email}:{fake.token}".encode()).decode()
    assert post.headers["authorization"] == f"Basic {basic}"
    fields = post.body["fields"]
    assert fields["project"] == {"key": "DOC"} and fields["issuetype"] == {"name": "Task"}
    assert adf_problem(fields["description"]) is None
    texts = _adf_texts(fields["description"])
    assert HOSTILE in texts, "ADF carries text as text nodes: nothing to escape, nothing to inject"
    headings = [n["content"][0]["text"] for n in fields["description"]["content"] if n["type"] == "heading"]
    assert headings[0] == "Problem" and any(h.startswith("Suggested outline") for h in headings)
    assert result.url == f"{fake.url}/browse/DOC-1"


def _adf_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "text" else []
        return own + [t for c in node.get("content", []) for t in _adf_texts(c)]
    return []


def test_linear_mutations_and_variables(tmp_path: Path) -> None:
    with FakeLinear() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings("linear", fake))
        export_tickets(rt, OPERATOR, [], "linear")
        [again] = export_tickets(rt, OPERATOR, [], "linear")
    create, read, update = fake.requests
    assert create.headers["authorization"] == fake.token, "a Linear API key is sent without 'Bearer'"
    assert "issue(id: $id)" in read.body["query"] and read.body["variables"] == {"id": again.external_id}
    assert "issueCreate(input: $input)" in create.body["query"]
    assert create.body["variables"]["input"]["teamId"] == fake.team
    assert "\\<script\\>" in create.body["variables"]["input"]["description"]
    assert "issueUpdate(id: $id, input: $input)" in update.body["query"]
    assert update.body["variables"]["id"] == again.external_id and "teamId" not in update.body["variables"]["input"]
    assert again.url == "https://linear.example/acme/issue/DOC-1"


def test_asana_task_with_rich_text_notes(tmp_path: Path) -> None:
    with FakeAsana() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings("asana", fake))
        export_tickets(rt, OPERATOR, [], "asana")
        set_ticket_status(rt, OPERATOR, _ticket_id(rt), "closed")
        export_tickets(rt, OPERATOR, [_ticket_id(rt)], "asana")
    post, read, put = fake.requests
    assert read.method == "GET" and "completed" in read.path
    assert post.headers["authorization"] == f"Bearer {fake.token}"
    assert post.body["data"]["projects"] == [fake.project]
    notes = post.body["data"]["html_notes"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in notes and "<script>" not in notes
    assert put.body["data"]["completed"] is True and "projects" not in put.body["data"]


def test_markdown_files_are_written_then_rewritten(tmp_path: Path) -> None:
    folder = tmp_path / "tickets"
    rt = runtime_with(tmp_path, Clock(), tickets_dir=folder)
    [first] = export_tickets(rt, OPERATOR, [], "markdown")
    path = folder / first.external_id
    assert first.url == path.resolve().as_uri() and path.read_text().startswith("# Document: How do I get a card")
    assert "\\<script\\>" in path.read_text()
    _edit(rt, problem="Rewritten problem.")
    [second] = export_tickets(rt, OPERATOR, [], "markdown")
    assert second.action == "updated" and second.external_id == first.external_id
    assert [p.name for p in folder.iterdir()] == [first.external_id], "one file per ticket, no temporaries left"
    assert "Rewritten problem." in path.read_text() and "nothing in the docs answers it" not in path.read_text()


def test_rate_limits_are_waited_out_as_the_tracker_says(tmp_path: Path) -> None:
    waits: list[float] = []
    with FakeGitHub() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings("github", fake))
        fake.fail_next = [(429, {"message": "API rate limit exceeded"}, {"Retry-After": "7"})]
        [first] = export_tickets(rt, OPERATOR, [], "github", sleep=waits.append)
        assert first.action == "created" and waits == [7.0] and len(fake.issues) == 1
        fake.fail_next = [(502, {"message": "Server Error"}, {}), (503, {"message": "Unavailable"}, {})]
        [second] = export_tickets(rt, OPERATOR, [], "github", sleep=waits.append)
        assert second.action == "updated" and waits == [7.0, 1.0, 2.0], "an update is retried with backoff"


def test_a_create_is_not_retried_when_the_tracker_may_have_acted(tmp_path: Path) -> None:
    with FakeGitHub() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings("github", fake))
        fake.fail_next = [(500, {"message": "Server Error"}, {})]
        [result] = export_tickets(rt, OPERATOR, [], "github", sleep=lambda s: None)
    assert result.action == "failed" and "500 Server Error" in result.error
    assert len(fake.requests) == 1 and not _exports(rt), "no retry that could open a second issue, nothing recorded"


def test_the_trackers_refusal_is_reported_in_its_words(tmp_path: Path) -> None:
    with FakeJira() as fake:
        rt = runtime_with(tmp_path, Clock(), **{**_settings("jira", fake), "jira_project": "NOPE"})
        [result] = export_tickets(rt, OPERATOR, [], "jira")
    assert result.action == "failed" and "project: valid project is required" in result.error
    assert result.error.startswith("Jira: POST /rest/api/3/issue refused: 400")


def test_an_issue_deleted_on_the_tracker_is_created_again(tmp_path: Path) -> None:
    with FakeGitHub() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings("github", fake))
        export_tickets(rt, OPERATOR, [], "github")
        fake.issues.clear()
        [again] = export_tickets(rt, OPERATOR, [], "github")
    assert again.action == "recreated" and [r.method for r in fake.requests] == ["POST", "GET", "POST"]
    [row] = _exports(rt)
    assert row.external_id == again.external_id == "1" and len(fake.issues) == 1


@pytest.mark.parametrize(
    ("tracker", "named"),
    [("github", "DOCGAP_GITHUB_REPO, DOCGAP_GITHUB_TOKEN"),
     ("jira", "DOCGAP_JIRA_URL, DOCGAP_JIRA_EMAIL, DOCGAP_JIRA_TOKEN, DOCGAP_JIRA_PROJECT"),
     ("linear", "DOCGAP_LINEAR_TOKEN, DOCGAP_LINEAR_TEAM_ID"), ("asana", "DOCGAP_ASANA_TOKEN, DOCGAP_ASANA_PROJECT")],
)  # fmt: skip
def test_a_missing_setting_is_named_before_anything_is_sent(tmp_path: Path, tracker: str, named: str) -> None:
    rt = runtime_with(tmp_path, Clock())
    with pytest.raises(TrackerError, match=re.escape(named)):
        export_tickets(rt, OPERATOR, [], tracker)
    assert not _exports(rt)


def test_only_writers_export(tmp_path: Path) -> None:
    from usecases.permissions import PermissionDenied

    rt = runtime_with(tmp_path, Clock())
    with pytest.raises(PermissionDenied):
        export_tickets(rt, user_actor("ada", "account_manager"), [], "markdown")
    assert not _exports(rt) and not rt.settings.resolved_tickets_dir.exists()
