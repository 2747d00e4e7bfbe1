"""Jira Cloud (REST v3): `POST /rest/api/3/issue`, and `PUT /rest/api/3/issue/{key}` when exported again.

The issue is a Task in `DOCGAP_JIRA_PROJECT`; its description is an Atlassian Document Format document
(`trackers.render.ticket_adf`).

Auth is basic with `DOCGAP_JIRA_EMAIL` and an API token (`DOCGAP_JIRA_TOKEN`); `DOCGAP_JIRA_URL` is the site
(`https://acme.atlassian.net`). Status is not mapped: a Jira workflow's transitions differ per project.
"""

from __future__ import annotations

from typing import Any

from core.models import DocTicket
from core.settings import Settings
from trackers._http import JsonClient, Sleep, TrackerError, TrackerGone, need
from trackers.base import ExternalIssue
from trackers.render import ticket_adf

ISSUE_TYPE = "Task"
SUMMARY_CHARS = 255


def describe(body: Any) -> str:
    """Jira's `errorMessages` and per-field `errors`."""
    if not isinstance(body, dict):
        return str(body or "")
    fields = [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]
    return "; ".join([*map(str, body.get("errorMessages") or []), *fields])


class JiraExporter:
    tracker = "jira"

    def __init__(self, settings: Settings, sleep: Sleep) -> None:
        need(settings, "Jira", "jira_url", "jira_email", "jira_token", "jira_project")
        self.site = settings.jira_url.rstrip("/")
        self.project = settings.jira_project.strip()
        self.http = JsonClient("Jira", self.site, {"Content-Type": "application/json"}, describe,
                               settings.tracker_timeout, auth=(settings.jira_email, settings.jira_token),
                               sleep=sleep)  # fmt: skip

    def create(self, t: DocTicket) -> ExternalIssue:
        fields = {"project": {"key": self.project}, "issuetype": {"name": ISSUE_TYPE}, **self._content(t)}
        issue = self.http.request("POST", "/rest/api/3/issue", {"fields": fields}, idempotent=False)
        if not isinstance(issue, dict) or not issue.get("key"):
            raise TrackerError(f"Jira: the reply holds no issue key ({str(issue)[:200]})")
        return self._issue(str(issue["key"]))

    def update(self, external_id: str, t: DocTicket) -> ExternalIssue:
        self.http.request("PUT", f"/rest/api/3/issue/{external_id}", {"fields": self._content(t)}, gone_is=TrackerGone)
        return self._issue(external_id)

    def _content(self, t: DocTicket) -> dict[str, Any]:
        return {"summary": " ".join(t.title.split())[:SUMMARY_CHARS], "description": ticket_adf(t)}

    def _issue(self, key: str) -> ExternalIssue:
        return ExternalIssue(key, f"{self.site}/browse/{key}")
