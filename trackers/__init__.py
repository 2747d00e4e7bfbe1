"""Doc-ticket exporters: GitHub Issues, Jira Cloud, Linear, Asana and Markdown files.

`exporter(settings, tracker)` builds the one asked for, failing before any request when a setting it needs is
missing (`TrackerError` names it). Each exporter creates an external issue from a `DocTicket` or updates the one
it created before; `usecases.tickets` remembers which (`TicketExport`), so exporting again never opens a second.
"""

from __future__ import annotations

import time

from core.models import TRACKERS
from core.settings import Settings
from trackers._http import Sleep, TrackerError, TrackerGone
from trackers.asana import AsanaExporter
from trackers.base import Exporter, ExternalIssue, ExternalStatus
from trackers.github import GitHubExporter
from trackers.jira import JiraExporter
from trackers.linear import LinearExporter
from trackers.markdown import MarkdownExporter
from trackers.render import ticket_adf, ticket_html, ticket_markdown

__all__ = [
    "Exporter",
    "ExternalIssue",
    "ExternalStatus",
    "TrackerError",
    "TrackerGone",
    "configured",
    "exporter",
    "ticket_adf",
    "ticket_html",
    "ticket_markdown",
]  # fmt: skip

NEEDS = {
    "github": ("github_repo", "github_token"),
    "jira": ("jira_url", "jira_email", "jira_token", "jira_project"),
    "linear": ("linear_token", "linear_team_id"),
    "asana": ("asana_token", "asana_project"),
    "markdown": (),
}
NAMES = {"github": "GitHub", "jira": "Jira", "linear": "Linear", "asana": "Asana", "markdown": "Markdown files"}


def configured(settings: Settings) -> list[str]:
    """The trackers whose settings are all present (Markdown files always are)."""
    return [t for t in TRACKERS if all(str(getattr(settings, n) or "").strip() for n in NEEDS[t])]


def exporter(settings: Settings, tracker: str, sleep: Sleep = time.sleep) -> Exporter:
    if tracker == "github":
        return GitHubExporter(settings, sleep)
    if tracker == "jira":
        return JiraExporter(settings, sleep)
    if tracker == "linear":
        return LinearExporter(settings, sleep)
    if tracker == "asana":
        return AsanaExporter(settings, sleep)
    if tracker == "markdown":
        return MarkdownExporter(settings)
    raise TrackerError(f"unknown tracker {tracker!r}: one of {', '.join(TRACKERS)}")
