"""Response bodies of the brief routes.

The briefs' dataclasses (`reports.account_brief`, `reports.executive_brief`) field for field, read with
`from_attributes`, so the API returns exactly what `docgap brief … --json` prints.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

Stamp = Annotated[
    datetime,
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "description": "ISO 8601 date and time, UTC without an offset."}),
]
"""Stored times are naive UTC; written as `datetime.isoformat()` gives them (as the command line prints them)."""


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class QuestionRefOut(_Out):
    id: int
    created_at: Stamp
    text: str
    topic_id: int | None
    source: str


class TopicLineOut(_Out):
    id: int
    label: str
    count: int
    previous: int
    gap_kind: str | None
    status: str | None


class TicketRefOut(_Out):
    id: int
    status: str
    title: str


class GapLineOut(_Out):
    id: int
    label: str
    gap_kind: str
    count: int
    status: str | None
    gap_score: float
    ticket: TicketRefOut | None


class RequesterOut(_Out):
    who: str
    questions: int
    topics: int
    repeats: int
    channels: list[str]
    top_topic: tuple[int, str] | None


class TeamOut(_Out):
    channel: str | None
    """The channel, on rows of questions whose source named no team."""
    team: str | None = None
    """The customer's own team or department, when the source names one."""
    questions: int
    people: int


class VelocityOut(_Out):
    weekly: list[int]
    growth: float
    last_30_days: int
    previous_60_days: int
    focus_topics: list[tuple[int, str]]
    focus_weekly: list[int]
    focus_growth: float
    focus_p: float
    rising: bool


class SentimentOut(_Out):
    weeks: list[tuple[date, float, int]]
    scored: int
    skipped_language: int
    recent_mean: float | None
    earlier_mean: float | None
    method: str


class FlagLineOut(_Out):
    id: int
    kind: str
    title: str
    severity: float
    raised_at: Stamp
    summary: str
    evidence: str
    question_ids: list[int]
    weeks: list[date]
    links: list[str]
    examples: list[QuestionRefOut]


class ActionOut(_Out):
    kind: str
    text: str
    topic_id: int | None
    topic: str | None
    count: int
    note: str
    page_title: str | None
    page_url: str | None
    ticket_id: int | None
    href: str | None


class AccountBriefOut(_Out):
    account_id: int
    account: str
    owner: str | None
    segment: str | None
    arr: float | None
    renewal_date: date | None
    days: int
    period_start: date
    period_end: date
    generated_at: Stamp
    questions: int
    previous_questions: int
    change: float | None
    weekly: list[tuple[date, int]]
    velocity: VelocityOut | None
    top_topics: list[TopicLineOut]
    gaps: list[GapLineOut]
    gap_topics: int
    gap_questions: int
    unanswered: list[QuestionRefOut]
    no_topic: int
    chat_not_covered: int
    requesters: list[RequesterOut]
    teams: list[TeamOut]
    sentiment: SentimentOut
    flags: list[FlagLineOut]
    actions: list[ActionOut]
    summary: str
    mode: str
    notes: list[str]


class FlagSummaryOut(_Out):
    id: int
    kind: str
    title: str
    severity: float
    raised_at: Stamp
    line: str
    question_ids: list[int]
    weeks: list[date]
    links: list[str]


class PortfolioRowOut(_Out):
    rank: int
    account_id: int
    account: str
    owner: str | None
    segment: str | None
    arr: float | None
    renewal_date: date | None
    days_to_renewal: int | None
    questions_90_days: int
    weekly: list[int]
    rising: bool
    risk: float
    weighted_risk: float
    flags: list[FlagSummaryOut]


class PriorityActionOut(_Out):
    account_id: int
    account: str
    action: ActionOut


class ExecutiveBriefOut(_Out):
    as_of: date
    generated_at: Stamp
    accounts: list[PortfolioRowOut]
    total_arr: float
    flagged_accounts: int
    open_flags: int
    arr_under_flags: float
    arr_renewing_soon_under_flags: float
    actions: list[PriorityActionOut]
    summary: str
    mode: str
    notes: list[str]


class FlagLinkOut(_Out):
    text: str
    href: str
    """A site path; "" when there is nothing to link to (a week with no archived report)."""


class FlagOut(_Out):
    """A risk flag in `GET /v1/flags` (`usecases.flags.FlagRow`)."""

    id: int
    state: str
    account_id: int
    account: str
    kind: str
    title: str
    severity: float
    raised_at: Stamp
    cleared_at: Stamp | None
    last_checked_at: Stamp | None
    alerted_at: Stamp | None
    line: str
    text: str
    question_ids: list[int]
    weeks: list[date]
    questions: list[FlagLinkOut]
    week_links: list[FlagLinkOut]
    topics: list[FlagLinkOut]
    brief: FlagLinkOut
    timeline: FlagLinkOut
