"""Linear (GraphQL): the `issueCreate` mutation in `DOCGAP_LINEAR_TEAM_ID`, `issueUpdate` when exported again.

A personal API key goes in `Authorization` as it is (Linear's OAuth tokens would take `Bearer `). GraphQL reports
failures in an `errors` list, often with HTTP 200, so the reply is read for them as well as for its status.
"""

from __future__ import annotations

from typing import Any

from core.models import DocTicket
from core.settings import Settings
from trackers._http import JsonClient, Sleep, TrackerError, TrackerGone, need
from trackers.base import ExternalIssue
from trackers.render import ticket_markdown

ISSUE_FIELDS = "success issue { id identifier url }"
CREATE = f"mutation IssueCreate($input: IssueCreateInput!) {{ issueCreate(input: $input) {{ {ISSUE_FIELDS} }} }}"
UPDATE = (
    "mutation IssueUpdate($id: String!, $input: IssueUpdateInput!) "
    f"{{ issueUpdate(id: $id, input: $input) {{ {ISSUE_FIELDS} }} }}"
)


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
        return self._call(CREATE, variables, "issueCreate", idempotent=False)

    def update(self, external_id: str, t: DocTicket) -> ExternalIssue:
        return self._call(UPDATE, {"id": external_id, "input": _content(t)}, "issueUpdate", idempotent=True)

    def _call(self, query: str, variables: dict[str, Any], field: str, idempotent: bool) -> ExternalIssue:
        reply = self.http.request("POST", self.url, {"query": query, "variables": variables}, idempotent=idempotent)
        errors = describe(reply)
        if errors:
            gone = field == "issueUpdate" and "not found" in errors.lower()
            raise (TrackerGone if gone else TrackerError)(f"Linear: {field} failed: {errors}")
        result = ((reply or {}).get("data") or {}).get(field) or {}
        issue = result.get("issue") or {}
        if not result.get("success") or not issue.get("id"):
            raise TrackerError(f"Linear: {field} did not succeed ({str(reply)[:200]})")
        return ExternalIssue(str(issue["id"]), str(issue.get("url") or ""))


def _content(t: DocTicket) -> dict[str, str]:
    return {"title": " ".join(t.title.split()), "description": ticket_markdown(t, heading=False)}
