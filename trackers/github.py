"""GitHub Issues (REST): `POST /repos/{owner}/{repo}/issues`, and `PATCH …/issues/{number}` when exported again.

Settings: `DOCGAP_GITHUB_REPO` (`owner/repo`), `DOCGAP_GITHUB_TOKEN` (fine-grained: Issues read and write), and
`DOCGAP_GITHUB_API_URL` (GitHub Enterprise Server: `https://HOST/api/v3`). A ticket that is done or closed closes
its issue on the next export; reopening the ticket reopens it.
"""

from __future__ import annotations

import re
from typing import Any

from core.models import DocTicket
from core.settings import Settings
from trackers._http import JsonClient, Sleep, TrackerError, TrackerGone, need
from trackers.base import DONE, ExternalIssue
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

    def update(self, external_id: str, t: DocTicket) -> ExternalIssue:
        payload = {"title": t.title[:TITLE_CHARS], "body": ticket_markdown(t, heading=False),
                   "state": "closed" if t.status in DONE else "open"}  # fmt: skip
        issue = self.http.request("PATCH", f"/repos/{self.repo}/issues/{external_id}", payload, gone_is=TrackerGone)
        return _issue(issue)


def _issue(body: Any) -> ExternalIssue:
    if not isinstance(body, dict) or "number" not in body:
        raise TrackerError(f"GitHub: the reply holds no issue number ({str(body)[:200]})")
    return ExternalIssue(str(body["number"]), str(body.get("html_url") or ""))
