"""Statuses between a doc ticket and its external issue when the ticket is exported again, against local servers
speaking each tracker's real API (`tests.tickets.servers`): GitHub `state`/`state_reason`, Jira status categories
and transitions, Linear workflow state types and `stateId`, Asana `completed`.

The rule under test: the side that moved since the last export wins; when both moved, the tracker's does (the
work happens there). A person working in the tracker is `fake.move(...)`; one working in docgap is
`set_ticket_status`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from core.models import DocTicket, TicketExport
from core.runtime import Runtime
from tests.tickets.servers import FakeAsana, FakeGitHub, FakeJira, FakeLinear, FakeTracker
from tests.tickets.test_exporters import Clock, _settings, _ticket_id, runtime_with
from usecases.permissions import OPERATOR
from usecases.tickets import create_ticket, export_tickets, get_ticket, set_ticket_status

FAKES: dict[str, type[FakeTracker]] = {"github": FakeGitHub, "jira": FakeJira, "linear": FakeLinear,
                                       "asana": FakeAsana}  # fmt: skip
DONE_THERE: dict[str, tuple[Any, ...]] = {
    "github": ("closed", "completed"),
    "jira": ("Done",),
    "linear": ("Done",),
    "asana": (True,),
}
"""How a person marks the issue finished in each tracker (`fake.move(issue, *these)`)."""
REOPENED_THERE: dict[str, tuple[Any, ...]] = {"github": ("open",), "jira": ("To Do",), "linear": ("Todo",),
                                              "asana": (False,)}  # fmt: skip
DONE_NAME = {"github": "closed: completed", "jira": "Done", "linear": "Done", "asana": "completed"}


def _status(rt: Runtime) -> str:
    view = get_ticket(rt, OPERATOR, _ticket_id(rt))
    assert view is not None
    return view.status


def _export(rt: Runtime, tracker: str) -> Any:
    [result] = export_tickets(rt, OPERATOR, [_ticket_id(rt)], tracker)
    assert result.action in ("created", "updated"), result.error
    return result


def _issue(fake: FakeTracker) -> str:
    [key] = list(fake.issues)
    return key


@pytest.fixture(params=list(FAKES))
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any, Runtime]]:
    tracker = request.param
    with FAKES[tracker]() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings(tracker, fake))
        _export(rt, tracker)
        yield tracker, fake, rt


def test_an_issue_finished_in_the_tracker_makes_the_ticket_done(rig) -> None:  # type: ignore[no-untyped-def]
    tracker, fake, rt = rig
    assert _export(rt, tracker).status_was == "", "nothing moved: nothing changes"
    fake.move(_issue(fake), *DONE_THERE[tracker])
    result = _export(rt, tracker)
    assert (result.status_was, result.status, result.external_status) == ("open", "done", DONE_NAME[tracker])
    assert _status(rt) == "done"
    with Session(rt.engine) as s:
        row = s.exec(select(TicketExport)).one()
    assert (row.external_status, row.synced_status) == (DONE_NAME[tracker], "done")
    again = _export(rt, tracker)
    assert (again.status_was, again.status) == ("", "done"), "exporting once more changes nothing"


def test_a_ticket_finished_in_docgap_finishes_the_issue(rig) -> None:  # type: ignore[no-untyped-def]
    tracker, fake, rt = rig
    set_ticket_status(rt, OPERATOR, _ticket_id(rt), "done")
    result = _export(rt, tracker)
    assert (result.status_was, result.status, result.external_status) == ("", "done", DONE_NAME[tracker])
    held = fake.issues[_issue(fake)]
    if tracker == "github":
        assert (held["state"], held["state_reason"]) == ("closed", "completed")
    elif tracker == "jira":
        assert held["status"] == "Done"
        transitions = [r for r in fake.requests if r.path.endswith("/transitions")]
        assert [r.method for r in transitions] == ["GET", "POST"]
        assert transitions[1].body == {"transition": {"id": "41"}}, "the workflow's transition into Done"
    elif tracker == "linear":
        assert fake.state_of(_issue(fake)) == "Done"
        assert fake.requests[-1].body["variables"]["input"]["stateId"] == "st-done"
    else:
        assert held["completed"] is True


def test_an_issue_reopened_in_the_tracker_reopens_the_ticket(rig) -> None:  # type: ignore[no-untyped-def]
    tracker, fake, rt = rig
    set_ticket_status(rt, OPERATOR, _ticket_id(rt), "done")
    _export(rt, tracker)
    fake.move(_issue(fake), *REOPENED_THERE[tracker])
    result = _export(rt, tracker)
    assert (result.status_was, result.status) == ("done", "open")
    assert _status(rt) == "open"


def test_when_both_moved_the_trackers_status_wins(rig) -> None:  # type: ignore[no-untyped-def]
    tracker, fake, rt = rig
    set_ticket_status(rt, OPERATOR, _ticket_id(rt), "in_progress")
    fake.move(_issue(fake), *DONE_THERE[tracker])
    result = _export(rt, tracker)
    assert (result.status_was, result.status) == ("in_progress", "done")
    if tracker == "github":
        assert fake.issues[_issue(fake)]["state"] == "closed", "the update sends the status it took, not the old one"


@pytest.mark.parametrize(("tracker", "there", "name"), [("jira", "In Review", "In Review"),
                                                         ("linear", "In Progress", "In Progress")])  # fmt: skip
def test_work_started_in_jira_or_linear_puts_the_ticket_in_progress(
    tmp_path: Path, tracker: str, there: str, name: str
) -> None:
    with FAKES[tracker]() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings(tracker, fake))
        _export(rt, tracker)
        fake.move(_issue(fake), there)  # type: ignore[attr-defined]
        result = _export(rt, tracker)
        assert (result.status_was, result.status, result.external_status) == ("open", "in_progress", name)
        fake.move(_issue(fake), "In Progress" if tracker == "jira" else "In Review")  # type: ignore[attr-defined]
        same = _export(rt, tracker)
        assert (same.status_was, same.status) == ("", "in_progress"), "another status of the same kind: no change"


def test_canceled_in_linear_closes_the_ticket_and_not_planned_on_github_too(tmp_path: Path) -> None:
    for tracker, move in (("linear", ("Canceled",)), ("github", ("closed", "not_planned"))):
        with FAKES[tracker]() as fake:
            rt = runtime_with(tmp_path / tracker, Clock(), **_settings(tracker, fake))
            _export(rt, tracker)
            fake.move(_issue(fake), *move)
            assert _export(rt, tracker).status == "closed", tracker


def test_a_jira_workflow_without_a_way_to_done_leaves_the_issue_and_keeps_the_ticket(tmp_path: Path) -> None:
    with FakeJira() as fake:
        fake.workflow = [("11", "To Do", "new"), ("21", "In Progress", "indeterminate")]
        rt = runtime_with(tmp_path, Clock(), **_settings("jira", fake))
        _export(rt, "jira")
        set_ticket_status(rt, OPERATOR, _ticket_id(rt), "done")
        for _ in range(2):  # and the next export does not mistake the issue for having moved
            result = _export(rt, "jira")
            assert (result.status, result.external_status) == ("done", "To Do")
        assert not [r for r in fake.requests if r.method == "POST" and r.path.endswith("/transitions")]
        assert fake.issues[_issue(fake)]["status"] == "To Do"


def test_a_reopened_issue_does_not_make_a_second_live_ticket(tmp_path: Path) -> None:
    with FakeGitHub() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings("github", fake))
        old = _ticket_id(rt)
        _export(rt, "github")
        set_ticket_status(rt, OPERATOR, old, "done")
        _export(rt, "github")
        with Session(rt.engine) as s:
            topic = s.exec(select(DocTicket.topic_id)).one()
        newer, created = create_ticket(rt, OPERATOR, topic)
        assert created
        fake.move("1", "open")
        [result] = export_tickets(rt, OPERATOR, [old], "github")
    assert result.status == "done" and f"already has live ticket #{newer.id}" in result.note
    assert get_ticket(rt, OPERATOR, newer.id).status == "open"  # type: ignore[union-attr]


def test_an_export_made_before_statuses_were_compared_takes_a_disagreeing_status(tmp_path: Path) -> None:
    """A data dir from before: its export row knows no statuses (the columns are added empty)."""
    with FakeJira() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings("jira", fake))
        _export(rt, "jira")
        with Session(rt.engine) as s:
            row = s.exec(select(TicketExport)).one()
            row.external_status = row.synced_status = None
            s.add(row)
            s.commit()
        fake.move(_issue(fake), "Done")
        assert _export(rt, "jira").status_was == "open"
        assert _status(rt) == "done"


def test_markdown_files_keep_the_tickets_status(tmp_path: Path) -> None:
    rt = runtime_with(tmp_path, Clock())
    _export(rt, "markdown")
    set_ticket_status(rt, OPERATOR, _ticket_id(rt), "in_progress")
    result = _export(rt, "markdown")
    assert (result.status, result.status_was, result.external_status) == ("in_progress", "", "")
    path = rt.settings.resolved_tickets_dir / result.external_id
    assert "status in progress" in path.read_text()


def test_over_http_the_export_says_what_moved_and_the_topic_page_shows_the_issues_status(tmp_path: Path) -> None:
    import httpx

    from tests.conftest import LiveServer, logged_in
    from usecases.apikeys import create_key
    from usecases.users import create_user

    with FakeJira() as fake:
        rt = runtime_with(tmp_path, Clock(), **_settings("jira", fake))
        ticket = _ticket_id(rt)
        create_user(rt, OPERATOR, "wes", "docs_writer", "wes-password-0002")
        key = {"Authorization": f"Bearer {create_key(rt, ['topics:write'], name='writer').secret}"}
        with LiveServer(rt) as server, httpx.Client(base_url=server.url, timeout=60) as api:
            first = api.post(f"/v1/tickets/{ticket}/export", json={"tracker": "jira"}, headers=key).json()
            assert (first["action"], first["status"], first["external_status"]) == ("created", "open", "")
            fake.move(_issue(fake), "In Review")
            again = api.post(f"/v1/tickets/{ticket}/export", json={"tracker": "jira"}, headers=key).json()
            assert (again["action"], again["status_was"], again["status"], again["external_status"]) == (
                "updated", "open", "in_progress", "In Review")  # fmt: skip
            got = api.get(f"/v1/tickets/{ticket}", headers=key).json()
            assert got["status"] == "in_progress" and got["exports"][0]["status"] == "In Review"
            with logged_in(server.url, "wes", "wes-password-0002") as (client, csrf):
                page = client.get(f"/topics/{got['topic_id']}").text
                assert "(In Review there, updated" in page and 'class="chip status-in_progress"' in page
                fake.move(_issue(fake), "Done")
                r = client.post(f"/tickets/{ticket}/export", data={"csrf_token": csrf, "tracker": "jira"})
                assert r.status_code == 303
                assert 'class="chip status-done"' in client.get(f"/topics/{got['topic_id']}").text
