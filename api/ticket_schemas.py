"""Request and response models of the doc-ticket routes (`api.routers.tickets`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from core.models import TICKET_STATUSES, TRACKERS


class TicketPageOut(BaseModel):
    url: str = Field(description="The page's URL as indexed (a path relative to the docs folder, or a full URL).")
    title: str
    section: str = Field(description="The section of its passage closest to the example questions.")
    similarity: float
    reached: int = Field(description="Example questions whose top five passages include this page.")
    top_for: int = Field(description="Example questions for which it is the first result.")
    answered: int = Field(description="Of those, how many it answers (answer confidence at the threshold or above).")
    best_confidence: float
    key_terms: int = Field(description="Distinct key words of the example questions.")
    key_terms_held: int = Field(description="How many of them the page uses anywhere.")
    missing_terms: list[str] = Field(description="Key words the page never mentions.")
    why: str = Field(description="Why it falls short, in one line.")


class TicketExportOut(BaseModel):
    tracker: Literal[TRACKERS]  # type: ignore[valid-type]
    external_id: str = Field(description="Issue number (GitHub), key (Jira), id (Linear), gid (Asana), file name.")
    url: str
    exported_at: str
    updated_at: str
    status: str = Field(default="", description="The external issue's status in the tracker's words at the last "
                        "export (empty for Markdown files).")  # fmt: skip


class TicketOut(BaseModel):
    id: int
    topic_id: int
    title: str
    problem: str = Field(description="The problem in a paragraph: volume, accounts (counted, never named), trend.")
    evidence: dict[str, Any] = Field(
        description="volume, recent_questions, accounts, recent_accounts, growth, first_seen, last_seen, gap_kind, "
        "coverage, gap_reason, staff_answered, examples (five redacted questions), pages (closest pages)."
    )
    outline: list[str]
    outline_mode: Literal["llm", "offline"]
    outline_label: str = Field(description="Who wrote the outline from what, in words.")
    target_page: str = Field(description="The page to improve, or the suggested path of a new one.")
    target_title: str
    target_is_new: bool
    status: Literal[TICKET_STATUSES]  # type: ignore[valid-type]
    created_at: str
    updated_at: str
    created_by: str
    exports: list[TicketExportOut]
    created: bool | None = Field(default=None, description="On create: false when an open ticket was refreshed.")


class ExportRequest(BaseModel):
    tracker: Literal[TRACKERS] = Field(description="github, jira, linear, asana or markdown.")  # type: ignore[valid-type]


class ExportOut(BaseModel):
    ticket_id: int
    tracker: str
    action: Literal["created", "updated", "recreated", "failed"]
    external_id: str
    url: str
    error: str
    topic_id: int
    status: Literal[TICKET_STATUSES] = Field(description="The ticket's status after the export.")  # type: ignore[valid-type]
    status_was: str = Field(description="Its status before, when the export took the external issue's status "
                            "into it (empty when it did not).")  # fmt: skip
    external_status: str = Field(description="The external issue's status in the tracker's words.")
    note: str = Field(description="Why the external issue's status was not taken, when it was not.")


class ExportQueuedOut(BaseModel):
    """202: a queue is configured, so a worker calls the tracker (with retries); follow it at `GET /v1/jobs`."""

    job_id: str
    ticket_id: int
    topic_id: int
    tracker: str
