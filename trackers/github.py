"""GitHub Issues (REST): `POST /repos/{owner}/{repo}/issues`, and `PATCH …/issues/{number}` when exported again.

Settings: `DOCGAP_GITHUB_REPO` (`owner/repo`), `DOCGAP_GITHUB_TOKEN` (fine-grained: Issues read and write), and
`DOCGAP_GITHUB_API_URL` (GitHub Enterprise Server: `https://HOST/api/v3`).

Status both ways: exporting again first reads the issue (`GET …/issues/{number}`): open agrees with an open or
in-progress ticket, closed as completed with a done one, closed as not planned with a closed one. The update then
sends the ticket's status as `state` (and `state_reason` when closing), so a ticket done or closed in docgap
closes its issue and reopening the ticket reopens it (`usecases.tickets` first takes the issue's status into the
ticket when it was the issue that changed).
"""

from __future__ import annotations

import re
from typing import Any

from core.models import DocTicket
from core.settings import Settings
from trackers._http import JsonClient, Sleep, TrackerError, TrackerGone, need
from trackers.base import DONE, ExternalIssue, ExternalStatus
from trackers.render import ticket_markdown

API_VERSION = "2022-11-28"
TITLE_CHARS = 256


def describe(body: Any) -> str:
    """GitHub's `message`, with the validation `errors` it lists."""
    if not isinstance(body, dict):
        return str(body or "")
    details = [e.get("message") or f"{e.get('field')} {e.get('code')}" for e in body.get("errors") or []
               if isinstance(e, dict)]  # fmt: skip
    return "; ".join([str(body.get("message") or ""), *map(str, details)]).strip("; ")


class GitHubExporter:
    tracker = "github"

    def __init__(self, settings: Settings, sleep: Sleep) -> None:
        need(settings, "GitHub", "github_repo", "github_token")
        self.repo = settings.github_repo.strip().strip("/")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", self.repo):
            raise TrackerError(f"DOCGAP_GITHUB_REPO must be owner/repo, got {settings.github_repo!r}")
        headers = {"Authorization": f"Bearer {settings.github_token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": API_VERSION}  # fmt: skip
        self.http = JsonClient("GitHub", settings.github_api_url, headers, describe, settings.tracker_timeout,
                               sleep=sleep)  # fmt: skip

    def create(self, t: DocTicket) -> ExternalIssue:
        payload = {"title": t.title[:TITLE_CHARS], "body": ticket_markdown(t, heading=False),
                   "labels": ["documentation"]}  # fmt: skip
        issue = self.http.request("POST", f"/repos/{self.repo}/issues", payload, idempotent=False)
        return _issue(issue)

    def status(self, external_id: str) -> ExternalStatus:
        issue = self.http.request("GET", f"/repos/{self.repo}/issues/{external_id}", gone_is=TrackerGone)
        found = _status(issue)
        if found is None:
            raise TrackerError(f"GitHub: the reply holds no issue state ({str(issue)[:200]})")
        return found

    def update(self, external_id: str, t: DocTicket, current: ExternalStatus | None = None) -> ExternalIssue:
        payload: dict[str, Any] = {"title": t.title[:TITLE_CHARS], "body": ticket_markdown(t, heading=False),
                                   "state": "closed" if t.status in DONE else "open"}  # fmt: skip
        if t.status in DONE:
            payload["state_reason"] = "completed" if t.status == "done" else "not_planned"
        issue = self.http.request("PATCH", f"/repos/{self.repo}/issues/{external_id}", payload, gone_is=TrackerGone)
        return _issue(issue)


def _status(body: Any) -> ExternalStatus | None:
    state = body.get("state") if isinstance(body, dict) else None
    if state == "open":
        return ExternalStatus("open", ("open", "in_progress"))
    if state != "closed":
        return None
    reason = body.get("state_reason")
    if reason == "not_planned":
        return ExternalStatus("closed: not planned", ("closed",))
    if reason == "completed":
        return ExternalStatus("closed: completed", ("done",))
    return ExternalStatus("closed", ("done", "closed"))


def _issue(body: Any) -> ExternalIssue:
    if not isinstance(body, dict) or "number" not in body:
        raise TrackerError(f"GitHub: the reply holds no issue number ({str(body)[:200]})")
    return ExternalIssue(str(body["number"]), str(body.get("html_url") or ""), _status(body))
