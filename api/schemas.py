"""Request and response models of the JSON API (they are the OpenAPI schema at /docs)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from core.models import TOPIC_STATUSES


class AnswerRequest(BaseModel):
    question: str = Field(min_length=1, max_length=4000, description="The customer's question.")
    account: str | None = Field(default=None, max_length=200, description="Name of the asking account (recorded).")
    top_k: int = Field(default=5, ge=1, le=20, description="How many doc passages to retrieve and cite.")


class CitationOut(BaseModel):
    n: int = Field(description="The number used in the answer text, e.g. [1].")
    title: str
    url: str = Field(description="Path of the page relative to its docs folder, with a #section anchor if any.")
    snippet: str
    score: float = Field(description="Cosine similarity of the passage to the question.")


class TopicRef(BaseModel):
    id: int
    label: str


class AnswerResponse(BaseModel):
    answer: str
    citations: list[CitationOut]
    confidence: float = Field(ge=0, le=1)
    covered: bool = Field(description="False when the docs do not seem to answer the question.")
    topic_id: int | None
    topic: TopicRef | None
    mode: str = Field(
        description='"llm" when written by the configured model, "offline" when extracted, "no docs" when no '
        "documentation is indexed yet (the answer then says how to add it)."
    )
    turn_id: int | None = Field(default=None, description="Id for `POST /v1/answers/{turn_id}/feedback`.")
    reason: str | None = Field(
        default=None,
        description='Why the answer abstains (null when it answers): "not covered" when the indexed docs do not '
        'seem to answer the question, "no docs indexed" when there are no docs to answer from yet '
        "(`docgap ingest docs`).",
    )


class FeedbackIn(BaseModel):
    helpful: bool = Field(description="Thumbs up (true) or down (false).")


class FeedbackOut(BaseModel):
    turn_id: int
    feedback: int = Field(description="1 for helpful, -1 for not helpful.")


class TopicOut(BaseModel):
    id: int
    label: str
    keywords: list[str]
    size: int
    account_count: int
    coverage: float | None
    gap_kind: str | None
    gap_score: float
    status: str
    first_seen: str | None
    last_seen: str | None
    gap_reason: str = Field(default="", description="Why it is a gap: the LLM judge's words, or the method used.")
    signals: dict = Field(default_factory=dict, description="Evidence behind the gap score (chat, staff answers, …).")
    matching: int | None = Field(
        default=None, description="With a since/until/account/language filter: the topic's questions in that scope."
    )
    label_source: str = Field(
        default="keywords",
        description='"question" (its most representative real question), "keywords" (c-TF-IDF, when no question '
        'fits), "llm" (a question-form title) or "writer".',
    )
    split_from: int | None = Field(default=None, description="The topic a writer split this one out of.")
    merged_into: int | None = Field(default=None, description="Set when a writer merged this topic into another.")
    active: bool = Field(default=True, description="False once merged away or retired by a full re-cluster.")


class TopicPage(BaseModel):
    items: list[TopicOut]
    limit: int
    offset: int
    total: int


class TopicDetailOut(BaseModel):
    topic: TopicOut
    examples: list[str]
    doc_urls: list[str]
    accounts: list[tuple[str, int]]
    weekly: list[tuple[str, int]]
    questions: list[dict]
    notes: str


class StatusChange(BaseModel):
    status: str = Field(pattern=f"^({'|'.join(TOPIC_STATUSES)})$", description=f"One of {', '.join(TOPIC_STATUSES)}.")
    notes: str | None = None
    label: str | None = Field(default=None, max_length=200)
    doc_url: str | None = Field(
        default=None,
        max_length=2000,
        description="With documented/verified: the page that now answers it (a doc index URL or an http(s) address).",
    )
    documented_on: date | None = Field(
        default=None, description="With documented/verified: the day that page shipped (default: now, the first time)."
    )


class MergeRequest(BaseModel):
    into: int = Field(ge=1, le=2**63 - 1, description="The topic that absorbs this one (and keeps its id).")


class SplitRequest(BaseModel):
    question_ids: list[int] | None = Field(
        default=None,
        min_length=1,
        max_length=10_000,
        description="Question ids (as in the topic's `questions`) to move to the new topic; "
        "omit to cut the topic into its two most distinct halves.",
    )
    label: str | None = Field(default=None, min_length=1, max_length=200, description="Label for the new topic.")


class LineageOut(BaseModel):
    at: str
    kind: str = Field(description="merge, split, retire, rename or status.")
    topic_id: int = Field(description="The topic acted on (merged away, split, renamed…).")
    other_topic_id: int | None = Field(description="Merge: the topic it went into. Split: the new topic.")
    actor: str = Field(description='"writer" for a decision, "recluster" for what a full re-cluster did.')
    detail: dict


class EmergingTopicOut(BaseModel):
    topic_id: int
    label: str
    this_week: int = Field(description="Questions in the last 7 days.")
    weekly_before: float = Field(description="Average per week over the four weeks before.")
    reason: str = Field(description='"new" (first seen in the last 14 days) or "growing" (at least doubled).')


class AccountTrendOut(BaseModel):
    account_id: int
    account: str
    weekly: list[int] = Field(description="Non-critical questions per 7-day window, 13 windows, oldest first.")
    growth: float = Field(description="Fitted growth over the 90 days relative to the mean (1.0 ≈ doubled).")
    last_30_days: int
    previous_60_days: int
    focus_topics: list[int] = Field(
        description="The subject (a topic and its nearest topics) whose questions moved most towards recent weeks."
    )
    focus_weekly: list[int]
    focus_growth: float = Field(description="Fitted growth of focus_weekly relative to its mean (1.0 ≈ doubled).")
    focus_p: float = Field(
        description="Share of shuffles of the account's own weeks in which some subject moved as far (1.0: none)."
    )
    rising: bool = Field(
        description="The leading indicator fired: focus_p ≤ 0.05, focus_growth ≥ 1 and ≥ 6 questions in 4 weeks."
    )


class QuestionIn(BaseModel):
    """One customer question pushed by a helpdesk trigger (`POST /v1/questions`)."""

    text: str = Field(min_length=1, max_length=20_000, description="The message as the customer wrote it.")
    account: str | None = Field(
        default=None, min_length=1, max_length=200, description="Account name; created when unknown."
    )
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Your id for the message (ticket id); with `source` it makes re-posting idempotent. "
        "Default: a hash of text, account and created_at.",
    )
    created_at: datetime | None = Field(
        default=None, description="When it was asked (ISO 8601; naive means UTC). Default: now, or as first stored."
    )
    source: str = Field(
        default="api",
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Where it came from, e.g. `api`, `intercom`.",
    )
    top_k: int = Field(default=5, ge=1, le=20, description="How many doc passages to retrieve and cite.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is blank")
        return value

    @field_validator("created_at")
    @classmethod
    def _naive_utc(cls, value: datetime | None) -> datetime | None:
        """Stored timestamps are naive UTC; an offset that pushes a date out of range is a client error."""
        if value is None or value.tzinfo is None:
            return value
        try:
            return value.astimezone(UTC).replace(tzinfo=None)
        except OverflowError as exc:
            raise ValueError("created_at is out of range") from exc


class QuestionOut(BaseModel):
    question_id: int | None = Field(description="The stored question's id; null when it was skipped.")
    external_id: str = Field(description="The id it is stored under (yours, or the generated one).")
    stored: bool = Field(description="Whether the question is in the database after this call.")
    status: Literal["added", "updated", "unchanged", "skipped"] = Field(
        description='A pushed question is a request and is stored whatever it says; "skipped" only when nothing is'
        " left of it once cleaned, or it is an auto-reply or a bounce (see `skip_reason`)."
    )
    skip_reason: str | None = Field(
        default=None, description='Why it was skipped: "empty", "auto-reply" or "bounce"; null when stored.'
    )
    suggested_answer: AnswerResponse
