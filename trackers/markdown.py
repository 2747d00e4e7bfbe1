"""Markdown files in a folder (`DOCGAP_TICKETS_DIR`, default `<data dir>/tickets`), one per ticket.

A file is rewritten in place when its ticket is exported again: for a docs repository or a wiki that takes files.
The ticket's status is written into the file; a file has none of its own to read back.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from core.models import DocTicket
from core.settings import Settings
from trackers._http import TrackerError
from trackers.base import ExternalIssue
from trackers.render import ticket_markdown

SLUG_WORDS = 8


class MarkdownExporter:
    tracker = "markdown"

    def __init__(self, settings: Settings) -> None:
        self.folder = settings.resolved_tickets_dir

    def create(self, t: DocTicket) -> ExternalIssue:
        words = re.findall(r"[^\W_]+", t.title.lower().removeprefix("document:"))[:SLUG_WORDS]
        return self._write(f"ticket-{t.id}-{'-'.join(words) or 'doc'}.md", t)

    def status(self, external_id: str) -> None:
        """A file has no status of its own: the ticket's stands."""
        return None

    def update(self, external_id: str, t: DocTicket, current: object = None) -> ExternalIssue:
        if Path(external_id).name != external_id or not external_id.endswith(".md"):
            raise TrackerError(f"markdown: {external_id!r} is not a ticket file name")
        return self._write(external_id, t)

    def _write(self, name: str, t: DocTicket) -> ExternalIssue:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".ticket-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(ticket_markdown(t))
            path = self.folder / name
            os.replace(tmp, path)
        except OSError as exc:
            raise TrackerError(f"markdown: cannot write into {self.folder} ({exc}); set DOCGAP_TICKETS_DIR") from exc
        return ExternalIssue(name, path.resolve().as_uri())
