"""Linear (GraphQL): the `issueCreate` mutation in `DOCGAP_LINEAR_TEAM_ID`, `issueUpdate` when exported again.

A personal API key goes in `Authorization` as it is (Linear's OAuth tokens would take `Bearer `). GraphQL reports
failures in an `errors` list, often with HTTP 200, so the reply is read for them as well as for its status.

Status both ways, through workflow state types (every team's states, whatever they are called, are of one type):
exporting again reads the issue's state (the `issue` query); triage, backlog and unstarted agree with an open
ticket, started with one in progress, completed with a done one, canceled with a closed one. When the ticket moved
and the issue did not, the update sets the team's first state of the ticket's type (`workflowStates`, by
position) as the issue's `stateId`.
"""

from __future__ import annotations

from typing import Any

from core.models import DocTicket
from core.settings import Settings
from trackers._http import JsonClient, Sleep, TrackerError, TrackerGone, need
from trackers.base import ExternalIssue, ExternalStatus
from trackers.render import ticket_markdown

ISSUE_FIELDS = "success issue { id identifier url state { name type } }"
CREATE = f"mutation IssueCreate($input: IssueCreateInput!) {{ issueCreate(input: $input) {{ {ISSUE_FIELDS} }} }}"
UPDATE = (
    "mutation IssueUpdate($id: String!, $input: IssueUpdateInput!) "
    f"{{ issueUpdate(id: $id, input: $input) {{ {ISSUE_FIELDS} }} }}"
)
STATE = "query IssueState($id: String!) { issue(id: $id) { id state { name type } } }"
STATES = (
    "query TeamStates($team: ID!, $type: String!) { workflowStates(filter: "
    "{ team: { id: { eq: $team } }, type: { eq: $type } }) { nodes { id name type position } } }"
)
MEANS = {"triage": ("open",), "backlog": ("open",), "unstarted": ("open",), "started": ("in_progress",),
         "completed": ("done",), "canceled": ("closed",)}  # fmt: skip
"""Linear workflow state type → the ticket statuses it agrees with."""
STATE_TYPE = {"open": "unstarted", "in_progress": "started", "done": "completed", "closed": "canceled"}


def describe(body: Any) -> str:
    if isinstance(body, dict) and body.get("errors"):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in body["errors"])
    return str(body or "") if not isinstance(body, dict) else ""


class LinearExporter:
    tracker = "linear"

    def __init__(self, settings: Settings, sleep: Sleep) -> None:
        need(settings, "Linear", "linear_token", "linear_team_id")
        self.team = settings.linear_team_id.strip()
        self.url = settings.linear_api_url  # posted to as it is: a base URL would gain a trailing slash
        self.http = JsonClient("Linear", "", {"Authorization": settings.linear_token,
                               "Content-Type": "application/json"}, describe, settings.tracker_timeout,
                               sleep=sleep)  # fmt: skip

    def create(self, t: DocTicket) -> ExternalIssue:
        variables = {"input": {"teamId": self.team, **_content(t)}}
        return _issue(self._graphql(CREATE, variables, "issueCreate", idempotent=False))

    def status(self, external_id: str) -> ExternalStatus:
        issue = self._graphql(STATE, {"id": external_id}, "issue", idempotent=True)
        if not issue:
            raise TrackerGone(f"Linear: issue {external_id} not found")
        found = _status(issue)
        if found is None:
            raise TrackerError(f"Linear: the reply holds no state ({str(issue)[:200]})")
        return found

    def update(self, external_id: str, t: DocTicket, current: ExternalStatus | None = None) -> ExternalIssue:
        changes: dict[str, Any] = _content(t)
        if current is not None and t.status not in current.means and (state := self._state_for(t.status)):
            changes["stateId"] = state
        return _issue(self._graphql(UPDATE, {"id": external_id, "input": changes}, "issueUpdate", idempotent=True))

    def _state_for(self, status: str) -> str | None:
        """The id of the team's first workflow state of the type that agrees with `status` (None: it has none)."""
        found = self._graphql(STATES, {"team": self.team, "type": STATE_TYPE[status]}, "workflowStates", True)
        nodes = [n for n in (found or {}).get("nodes") or [] if isinstance(n, dict) and n.get("id")]
        return str(min(nodes, key=lambda n: float(n.get("position") or 0))["id"]) if nodes else None

    def _graphql(self, query: str, variables: dict[str, Any], field: str, idempotent: bool) -> Any:
        reply = self.http.request("POST", self.url, {"query": query, "variables": variables}, idempotent=idempotent)
        errors = describe(reply)
        if errors:
            gone = field in ("issueUpdate", "issue") and "not found" in errors.lower()
            raise (TrackerGone if gone else TrackerError)(f"Linear: {field} failed: {errors}")
        return ((reply or {}).get("data") or {}).get(field)


def _issue(result: Any) -> ExternalIssue:
    issue = (result.get("issue") or {}) if isinstance(result, dict) else {}
    if not isinstance(result, dict) or not result.get("success") or not issue.get("id"):
        raise TrackerError(f"Linear: the issue was not written ({str(result)[:200]})")
    return ExternalIssue(str(issue["id"]), str(issue.get("url") or ""), _status(issue))


def _status(issue: dict[str, Any]) -> ExternalStatus | None:
    state = issue.get("state")
    if not isinstance(state, dict) or not state.get("type"):
        return None
    kind = str(state["type"])
    return ExternalStatus(str(state.get("name") or kind), MEANS.get(kind, ()))


def _content(t: DocTicket) -> dict[str, str]:
    return {"title": " ".join(t.title.split()), "description": ticket_markdown(t, heading=False)}
