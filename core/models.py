"""Database tables (sqlmodel). One module so every stage agrees on the same rows.

Lists and small maps are JSON columns: they are read whole and never queried inside, so a join table would only
add weight. Timestamps are naive UTC throughout (SQLite has no time zones; PostgreSQL gets the same values).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

TOPIC_STATUSES = ("new", "triaged", "in_progress", "documented", "verified", "dismissed")
"""The workflow a docs writer moves a topic through (`merged` is set by merges, not chosen)."""


def _json(default: Any = None) -> Any:
    return Field(default_factory=lambda: default() if callable(default) else default, sa_column=Column(JSON))


class Account(SQLModel, table=True):
    """A customer account, and the identifiers that map incoming messages to it."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    domains: list[str] = _json(list)
    zendesk_org_ids: list[str] = _json(list)
    slack_channel_ids: list[str] = _json(list)
    slack_team_ids: list[str] = _json(list)
    """Slack Connect: the customer's own workspace id, for shared channels not listed by channel id."""
    owner: str | None = None
    segment: str | None = None
    arr: float | None = None
    renewal_date: date | None = None


class Question(SQLModel, table=True):
    """One customer question, unique per (source, external_id) so re-imports are no-ops."""

    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_question_source_external"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    external_id: str
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    account_hint: dict[str, str] = _json(dict)
    author_hash: str | None = None
    channel: str | None = None
    team: str | None = None
    """The customer's own team or department, when the source carries one (`DOCGAP_ZENDESK_TEAM_FIELD`, a CSV's
    `--team-column`); redacted like the text."""
    thread_id: str | None = None
    created_at: NaiveDatetime = Field(index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    """Cleaned and PII-redacted: this is what is embedded, shown and sent to an LLM."""
    redactions: dict[str, int] = _json(dict)
    """How many values of each kind (email, phone, card, …) redaction replaced."""
    language: str | None = Field(default=None, index=True)
    priority: str | None = None
    staff_answer: str | None = Field(default=None, sa_column=Column(Text))
    follow_ups: list[str] = _json(list)
    embedded: bool = Field(default=False, index=True)
    topic_id: int | None = Field(default=None, foreign_key="topic.id", index=True)
    topic_similarity: float | None = None
    unassigned_reason: str | None = Field(default=None, sa_column=Column(Text))
    """Set by the clustering run that left the question out of every topic (None: in a topic, or not yet seen)."""


class Document(SQLModel, table=True):
    """A documentation page; `content_hash` lets re-ingest skip unchanged pages."""

    __table_args__ = (UniqueConstraint("source", "url", name="uq_document_source_url"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    url: str
    title: str
    content_hash: str
    updated_at: NaiveDatetime


class Chunk(SQLModel, table=True):
    """A passage of a document, the unit of retrieval and citation."""

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    ordinal: int
    section: str = ""
    anchor: str = ""
    text: str = Field(sa_column=Column(Text, nullable=False))


class Topic(SQLModel, table=True):
    """A recurring question topic with a stable id; writer decisions (label, status, notes) live here."""

    id: int | None = Field(default=None, primary_key=True)
    label: str
    label_locked: bool = False
    keywords: list[str] = _json(list)
    examples: list[str] = _json(list)
    status: str = Field(default="new", index=True)
    merged_into: int | None = None
    active: bool = Field(default=True, index=True)
    centroid: list[float] = _json(list)
    size: int = 0
    account_count: int = 0
    first_seen: NaiveDatetime | None = None
    last_seen: NaiveDatetime | None = None
    coverage: float | None = None
    gap_kind: str | None = None
    gap_score: float = 0.0
    doc_urls: list[str] = _json(list)
    notes: str = ""
    gap_reason: str = ""
    """Why the topic is (not) a gap: the LLM judge's "missing" text, or how the similarity method decided."""
    signals: dict[str, Any] = _json(dict)
    """The evidence behind kind and score (volume, accounts, growth, chat abstentions, staff answers, judge)."""
    split_from: int | None = None
    """The topic a writer split this one out of; re-clustering keeps the two apart."""
    label_source: str = "keywords"
    """Who wrote the label: "keywords" (c-TF-IDF), "llm" (a question-form title) or "writer" (a rename)."""
    label_basis: list[str] = _json(list)
    """The keywords an LLM title was written from; a new title is asked for only when they change."""
    documented_at: NaiveDatetime | None = None
    """When a writer marked the topic documented (kept while documented or verified); doc impact counts from it."""
    documented_url: str | None = None
    """The page that now answers it: a doc index URL or an external http(s) address, as the writer gave it."""


TOPIC_EVENT_KINDS = ("merge", "split", "retire", "rename", "status")


class TopicEvent(SQLModel, table=True):
    """The lineage of topics: who merged, split, renamed or re-clustered what, and when."""

    id: int | None = Field(default=None, primary_key=True)
    at: NaiveDatetime = Field(index=True)
    kind: str = Field(index=True)
    topic_id: int = Field(index=True)
    """The topic acted on (for a merge: the one merged away; for a split: the original)."""
    other_topic_id: int | None = Field(default=None, index=True)
    """For a merge: the topic it went into; for a split: the new topic."""
    actor: str = "writer"
    detail: dict[str, Any] = _json(dict)


class ChatTurn(SQLModel, table=True):
    """A question asked in chat or through the API and the answer it got (evidence for gap detection)."""

    id: int | None = Field(default=None, primary_key=True)
    asked_at: NaiveDatetime
    question: str = Field(sa_column=Column(Text, nullable=False))
    account_id: int | None = Field(default=None, foreign_key="account.id")
    answer: str = Field(sa_column=Column(Text, nullable=False))
    citations: list[dict[str, Any]] = _json(list)
    confidence: float
    covered: bool
    mode: str
    topic_id: int | None = None
    feedback: int | None = None
    user_id: int | None = Field(default=None, index=True)
    """Who asked in the chat (their history); None for the API and the command line."""


TICKET_STATUSES = ("open", "in_progress", "done", "closed")
"""A doc ticket's life; "open" and "in_progress" are live (creating a ticket again refreshes a live one)."""
LIVE_TICKET_STATUSES = ("open", "in_progress")
_LIVE_TICKET = text("status IN ({})".format(", ".join(f"'{s}'" for s in LIVE_TICKET_STATUSES)))
TRACKERS = ("github", "jira", "linear", "asana", "markdown")


class DocTicket(SQLModel, table=True):
    """A documentation-improvement ticket written from a topic (`reports.tickets`), exportable to trackers.

    Everything in it may leave the building (an issue tracker), so it names no account: `evidence` holds counts
    and dates, five redacted example questions and the closest existing pages with why they fall short.

    A topic has at most one live (open or in progress) ticket: a partial unique index holds it, so two requests
    creating the topic's ticket at once write one row (`usecases.tickets.create_ticket` refreshes the winner's).
    """

    __table_args__ = (
        Index("uq_docticket_live", "topic_id", unique=True, sqlite_where=_LIVE_TICKET, postgresql_where=_LIVE_TICKET),
    )

    id: int | None = Field(default=None, primary_key=True)
    topic_id: int = Field(foreign_key="topic.id", index=True)
    title: str
    problem: str = Field(sa_column=Column(Text, nullable=False))
    evidence: dict[str, Any] = _json(dict)
    """{volume, recent_questions, accounts, recent_accounts, growth, first_seen, last_seen, gap_kind, coverage,
    gap_reason, staff_answered, examples: [str], pages: [{url, title, section, confidence, terms, answered,
    why}]}."""
    outline: list[str] = _json(list)
    outline_mode: str = "offline"
    """"llm" (written by the configured model) or "offline" (extracted from staff answers)."""
    target_page: str = ""
    """The URL of the page to improve, or the suggested path of a new page."""
    target_title: str = ""
    target_is_new: bool = False
    status: str = Field(default="open", index=True)
    created_at: NaiveDatetime
    updated_at: NaiveDatetime
    created_by: str = ""


class TicketExport(SQLModel, table=True):
    """Where a ticket went: one row per (ticket, tracker), so exporting again updates the same external issue."""

    __table_args__ = (UniqueConstraint("ticket_id", "tracker", name="uq_ticket_export_tracker"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="docticket.id", index=True)
    tracker: str
    external_id: str
    """The tracker's handle for updates: GitHub issue number, Jira key, Linear id, Asana gid, Markdown file name."""
    external_url: str
    exported_at: NaiveDatetime
    updated_at: NaiveDatetime
    external_status: str | None = None
    """The external issue's status in the tracker's words after the last export ("In Review"): the next export
    sees from it whether the issue moved since (None: not known, or the tracker has none)."""
    synced_status: str | None = None
    """The ticket's status after the last export (None: exported before statuses were compared)."""


class Report(SQLModel, table=True):
    """A generated report (the weekly recurring-question report), kept as an archive."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    period_start: date = Field(index=True)
    created_at: NaiveDatetime
    mode: str
    markdown: str = Field(sa_column=Column(Text, nullable=False))
    data: dict[str, Any] = _json(dict)


class RiskFlag(SQLModel, table=True):
    """A risk flag on an account (`reports.risk`): raised when a leading indicator fires, cleared when it stops.

    At most one open row (cleared_at None) per (account, kind); a flag that fires again after clearing is a new
    row, so the history shows each episode with its own dates and evidence.
    """

    __table_args__ = (
        Index("uq_riskflag_open", "account_id", "kind", unique=True, sqlite_where=text("cleared_at IS NULL"),
              postgresql_where=text("cleared_at IS NULL")),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(index=True)
    raised_at: NaiveDatetime
    cleared_at: NaiveDatetime | None = Field(default=None, index=True)
    last_checked_at: NaiveDatetime
    severity: float = 0.0
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    """One line, from our own figures and topic labels (already redacted)."""
    evidence: dict[str, Any] = _json(dict)
    """{text, question_ids, weeks (ISO dates), links (relative page links)}."""
    alerted_at: NaiveDatetime | None = None
    """When the Slack alert for this flag was sent (None: not yet, or no webhook configured)."""


class Delivery(SQLModel, table=True):
    """The ledger of what was sent where (`usecases.delivery`, `usecases.alerts`): each item once per channel.

    `key` names the item within its kind (a week's start date, a flag id). A failed send keeps its row with the
    error and is tried again on the next run; a sent one is never sent again.
    """

    __table_args__ = (UniqueConstraint("kind", "key", "channel", name="uq_delivery_kind_key_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    key: str
    channel: str
    status: str = "pending"
    """"sent" or "failed"."""
    attempts: int = 0
    sent_at: NaiveDatetime | None = None
    last_attempt_at: NaiveDatetime | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))


class SyncCursor(SQLModel, table=True):
    """Where a live source sync stopped (e.g. Zendesk's `after_cursor`), committed with the page it follows."""

    source: str = Field(primary_key=True)
    cursor: str
    updated_at: NaiveDatetime


class WebhookEvent(SQLModel, table=True):
    """Event ids already handled, so a webhook provider's retries (Slack's `X-Slack-Retry-Num`) change nothing."""

    source: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    received_at: NaiveDatetime


class ImportRun(SQLModel, table=True):
    """One import (a file, a sync, a webhook batch): what it added and what went wrong, for `docgap sources`.

    A run still marked "running" after its process is gone was interrupted; the next run of the same import
    resumes it (stored questions are recognised, pending embeddings are finished).
    """

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    location: str
    started_at: NaiveDatetime
    finished_at: NaiveDatetime | None = None
    status: str = "running"
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    skipped_reasons: dict[str, int] = _json(dict)
    """This run's skipped messages per reason (`ingest.records.SKIP_REASONS`); `skipped` is their sum."""
    error_count: int = 0
    errors: list[str] = _json(list)


class SkippedMessage(SQLModel, table=True):
    """A message an import read and did not store as a question, and why: counted per source by `docgap sources`.

    Kept per (source, external_id) like questions, so re-importing a file counts each message once, whichever path
    it came by (file, sync, webhook, API); a message that later becomes a question (an edit) leaves this table.
    `preview` is the start of the cleaned, redacted text, so a person can check what was dropped.
    """

    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_skipped_source_external"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    external_id: str
    reason: str = Field(index=True)
    created_at: NaiveDatetime
    """When the message was written (not when it was skipped): re-imports then change nothing."""
    preview: str = ""


class ApiKey(SQLModel, table=True):
    """A scoped key for the JSON API. Only the SHA-256 of the secret is stored: a leaked database leaks no key.

    `prefix` (the first characters of the key) is shown in lists so people can tell keys apart; it is too short to
    authenticate with. `rate_limit_per_minute` None means the `DOCGAP_API_RATE_LIMIT_PER_MINUTE` default.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    prefix: str = Field(index=True)
    key_hash: str = Field(index=True, unique=True)
    scopes: list[str] = _json(list)
    created_at: NaiveDatetime
    last_used_at: NaiveDatetime | None = None
    revoked_at: NaiveDatetime | None = None
    rate_limit_per_minute: int | None = None


ROLES = ("account_manager", "docs_writer", "admin")
"""What a person may do is decided by their role (`usecases.permissions`)."""


class User(SQLModel, table=True):
    """A person who logs in to the pages. Only an argon2 hash of the password is stored."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    role: str
    password_hash: str
    created_at: NaiveDatetime
    disabled_at: NaiveDatetime | None = None


class LoginSession(SQLModel, table=True):
    """A logged-in browser. The cookie carries a random token; the database keeps its SHA-256 (like API keys).

    Sessions live server-side so that logging out, disabling a user or changing a role takes effect at once.
    `csrf_token` is the value every state-changing form of this session must echo back.
    """

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    csrf_token: str
    created_at: NaiveDatetime
    expires_at: NaiveDatetime


class RateWindow(SQLModel, table=True):
    """One rate limit's current window: how many attempts `bucket` made since `window_start` (`core.ratelimit`).

    In the database, not in memory, so every server process sharing it (uvicorn workers, several hosts on one
    PostgreSQL) spends one budget. `bucket` is a digest: the user names and addresses it counts are not kept.
    """

    bucket: str = Field(primary_key=True)
    window_start: float
    """Seconds since the epoch (UTC) of the window's first attempt."""
    count: int = 0
