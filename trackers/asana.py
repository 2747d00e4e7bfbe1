"""Asana (REST): `POST /tasks` in `DOCGAP_ASANA_PROJECT`, `PUT /tasks/{gid}` when exported again.

The notes are Asana rich text (`html_notes`, `trackers.render.ticket_html`). Auth: a personal access token as
`Bearer`.

Status both ways: exporting again reads the task's `completed` (`GET /tasks/{gid}`); a completed task agrees with
a done or closed ticket, an incomplete one with an open or in-progress ticket. The update sends the ticket's
status as `completed`, so a ticket done or closed in docgap completes its task (`usecases.tickets` first takes the
task's status into the ticket when it was the task that changed).
"""

from __future__ import annotations

from typing import Any

from core.models import DocTicket
from core.settings import Settings
from trackers._http import JsonClient, Sleep, TrackerError, TrackerGone, need
from trackers.base import DONE, ExternalIssue, ExternalStatus
from trackers.render import ticket_html

FIELDS = {"opt_fields": "gid,name,permalink_url,completed"}


def describe(body: Any) -> str:
    if isinstance(body, dict):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in body.get("errors") or [])
    return str(body or "")


class AsanaExporter:
    tracker = "asana"

    def __init__(self, settings: Settings, sleep: Sleep) -> None:
        need(settings, "Asana", "asana_token", "asana_project")
        self.project = settings.asana_project.strip()
        headers = {"Authorization": f"Bearer {settings.asana_token}", "Content-Type": "application/json"}
        self.http = JsonClient("Asana", settings.asana_api_url, headers, describe, settings.tracker_timeout,
                               sleep=sleep)  # fmt: skip

    def create(self, t: DocTicket) -> ExternalIssue:
        data = {**_content(t), "projects": [self.project]}
        return self._task(self.http.request("POST", "/tasks", {"data": data}, idempotent=False, params=FIELDS))

    def status(self, external_id: str) -> ExternalStatus:
        reply = self.http.request("GET", f"/tasks/{external_id}", params=FIELDS, gone_is=TrackerGone)
        task = reply.get("data") if isinstance(reply, dict) else None
        found = _status(task)
        if found is None:
            raise TrackerError(f"Asana: the reply holds no task state ({str(reply)[:200]})")
        return found

    def update(self, external_id: str, t: DocTicket, current: ExternalStatus | None = None) -> ExternalIssue:
        data = {**_content(t), "completed": t.status in DONE}
        reply = self.http.request("PUT", f"/tasks/{external_id}", {"data": data}, params=FIELDS, gone_is=TrackerGone)
        return self._task(reply)

    def _task(self, reply: Any) -> ExternalIssue:
        task = reply.get("data") if isinstance(reply, dict) else None
        if not isinstance(task, dict) or not task.get("gid"):
            raise TrackerError(f"Asana: the reply holds no task gid ({str(reply)[:200]})")
        gid = str(task["gid"])
        url = str(task.get("permalink_url") or f"https://app.asana.com/0/{self.project}/{gid}")
        return ExternalIssue(gid, url, _status(task))


def _status(task: Any) -> ExternalStatus | None:
    done = task.get("completed") if isinstance(task, dict) else None
    if not isinstance(done, bool):
        return None
    return ExternalStatus("completed", DONE) if done else ExternalStatus("incomplete", ("open", "in_progress"))


def _content(t: DocTicket) -> dict[str, str]:
    return {"name": " ".join(t.title.split()), "html_notes": ticket_html(t)}
