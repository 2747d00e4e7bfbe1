"""Jira Cloud (REST v3): `POST /rest/api/3/issue`, and `PUT /rest/api/3/issue/{key}` when exported again.

The issue is a Task in `DOCGAP_JIRA_PROJECT`; its description is an Atlassian Document Format document
(`trackers.render.ticket_adf`).

Auth is basic with `DOCGAP_JIRA_EMAIL` and an API token (`DOCGAP_JIRA_TOKEN`); `DOCGAP_JIRA_URL` is the site
(`https://acme.atlassian.net`).

Status both ways, through status categories (every Jira workflow's statuses belong to one of "new",
"indeterminate" and "done", whatever they are called): exporting again reads the issue's status
(`GET /rest/api/3/issue/{key}?fields=status`); "new" agrees with an open ticket, "indeterminate" with one in
progress, "done" with a done or closed one. When the ticket moved and the issue did not, the update moves the
issue with the first transition its workflow offers into the ticket's category (`GET` then `POST
…/issue/{key}/transitions`); a workflow with no such transition leaves the issue where it is.
"""

from __future__ import annotations

from typing import Any

from core.models import DocTicket
from core.settings import Settings
from trackers._http import JsonClient, Sleep, TrackerError, TrackerGone, need
from trackers.base import ExternalIssue, ExternalStatus
from trackers.render import ticket_adf

ISSUE_TYPE = "Task"
SUMMARY_CHARS = 255
MEANS = {"new": ("open",), "indeterminate": ("in_progress",), "done": ("done", "closed")}
"""Jira status category → the ticket statuses it agrees with."""
CATEGORY = {"open": "new", "in_progress": "indeterminate", "done": "done", "closed": "done"}


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

    def status(self, external_id: str) -> ExternalStatus:
        issue = self.http.request("GET", f"/rest/api/3/issue/{external_id}", params={"fields": "status"},
                                  gone_is=TrackerGone)  # fmt: skip
        status = ((issue or {}).get("fields") or {}).get("status") if isinstance(issue, dict) else None
        if not isinstance(status, dict):
            raise TrackerError(f"Jira: the reply holds no status ({str(issue)[:200]})")
        return _status(status)

    def update(self, external_id: str, t: DocTicket, current: ExternalStatus | None = None) -> ExternalIssue:
        self.http.request("PUT", f"/rest/api/3/issue/{external_id}", {"fields": self._content(t)}, gone_is=TrackerGone)
        moved = None
        if current is not None and t.status not in current.means:
            moved = self._transition(external_id, t.status)
        return self._issue(external_id, moved or current)

    def _transition(self, key: str, status: str) -> ExternalStatus | None:
        """Move the issue into the ticket's status category; its new status, or None when no transition leads there."""
        reply = self.http.request("GET", f"/rest/api/3/issue/{key}/transitions", gone_is=TrackerGone)
        wanted = CATEGORY.get(status)
        transitions = reply.get("transitions") if isinstance(reply, dict) else None
        for tr in transitions or []:
            to = (tr.get("to") or {}) if isinstance(tr, dict) else {}
            if (to.get("statusCategory") or {}).get("key") == wanted and tr.get("id"):
                self.http.request("POST", f"/rest/api/3/issue/{key}/transitions", {"transition": {"id": tr["id"]}},
                                  idempotent=False, gone_is=TrackerGone)  # fmt: skip
                return _status(to)
        return None

    def _content(self, t: DocTicket) -> dict[str, Any]:
        return {"summary": " ".join(t.title.split())[:SUMMARY_CHARS], "description": ticket_adf(t)}

    def _issue(self, key: str, status: ExternalStatus | None = None) -> ExternalIssue:
        return ExternalIssue(key, f"{self.site}/browse/{key}", status)


def _status(status: dict[str, Any]) -> ExternalStatus:
    category = str((status.get("statusCategory") or {}).get("key") or "")
    return ExternalStatus(str(status.get("name") or category), MEANS.get(category, ()))
