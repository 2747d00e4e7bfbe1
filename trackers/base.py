"""What every exporter is: create an external issue from a ticket, read its status, or update the one it created.

Exporting again reads the external issue's status first (`status`), so work that moved on in the tracker comes
back to the ticket (`usecases.tickets` decides which side's status stands, from the status both agreed on at the
last export); `update` then rewrites the issue and, when the ticket's status moved instead, sends it (GitHub's
open/closed, Asana's completed, a Jira transition, a Linear workflow state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.models import DocTicket

DONE = ("done", "closed")
"""Ticket statuses that close (complete) the external issue when exported again."""


@dataclass(frozen=True)
class ExternalStatus:
    """An external issue's status in the tracker's words, and the ticket statuses it agrees with."""

    name: str
    """As the tracker says it: "In Review" (Jira), "Todo" (Linear), "closed: completed" (GitHub)."""
    means: tuple[str, ...]
    """The ticket statuses consistent with it, the one a ticket takes from it first; () when it maps to none."""


@dataclass(frozen=True)
class ExternalIssue:
    external_id: str
    """What the tracker needs to update it later (issue number, key, id, gid, file name)."""
    url: str
    status: ExternalStatus | None = None
    """Its status as the reply to the create or update said it (None: the reply does not carry one)."""


class Exporter(Protocol):
    tracker: str

    def create(self, t: DocTicket) -> ExternalIssue: ...

    def status(self, external_id: str) -> ExternalStatus | None:
        """The external issue's status now; `TrackerGone` when it no longer exists.

        None when the tracker has no status (Markdown files).
        """
        ...

    def update(self, external_id: str, t: DocTicket, current: ExternalStatus | None = None) -> ExternalIssue:
        """Rewrite the external issue; `TrackerGone` when it no longer exists.

        Where the tracker takes a status from us and `current` (what `status` read) disagrees with the ticket's,
        the issue is moved to the ticket's status too.
        """
        ...
