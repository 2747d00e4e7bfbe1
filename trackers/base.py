"""What every exporter is: create an external issue from a ticket, or update the one it created before."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.models import DocTicket

DONE = ("done", "closed")
"""Ticket statuses that close (complete) the external issue when exported again."""


@dataclass(frozen=True)
class ExternalIssue:
    external_id: str
    """What the tracker needs to update it later (issue number, key, id, gid, file name)."""
    url: str


class Exporter(Protocol):
    tracker: str

    def create(self, t: DocTicket) -> ExternalIssue: ...

    def update(self, external_id: str, t: DocTicket) -> ExternalIssue:
        """Rewrite the external issue; `TrackerGone` when it no longer exists."""
        ...
