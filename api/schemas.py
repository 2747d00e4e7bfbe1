"""Request and response models of the JSON API (they are the OpenAPI schema at /docs)."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
    mode: str = Field(description='"llm" when written by the configured model, "offline" when extracted.')


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
    status: str
    notes: str | None = None
    label: str | None = Field(default=None, max_length=200)
