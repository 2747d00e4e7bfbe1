"""The account brief: one account's period on a page, for the account manager before a call or a renewal.

The period ends where the data does (`clustering.trends.data_end`: a pause in imports is not a drop) and is
compared with the period of the same length before it. Everything in the brief is this account's own: its
questions, its chat turns, its flags (their evidence question ids are checked to be its questions), and actions
drawn from its topics. Doc titles are shared; a topic titled by one customer's question is titled here by this
account's own (`clustering.titles.title_for_account`), so the brief never quotes another customer.

The figures are computed here; the summary paragraph is written by the LLM when one is configured (over the
figures only, customer text fenced as data, and kept only where it stays inside them, `reports.grounding`),
otherwise by a template, and `mode` says which.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

import prompts
from clustering.titles import title_for_account
from clustering.trends import (
    CRITICAL_PRIORITIES,
    AccountTrend,
    data_end,
    load_account_trends,
    week_start,
    weekly_series,
)
from core.llm import LLMError
from core.models import Account, ChatTurn, Question, Topic
from core.runtime import Runtime
from reports.actions import (
    CHECK_IN,
    Action,
    Rising,
    TicketRef,
    TopicAsked,
    live_tickets,
    most_asked,
    pages_to_send,
    suggest_actions,
)
from reports.grounding import grounded, plain_prose
from reports.risk import Flag, open_flags
from reports.sentiment import account_sentiment, weekly_means

DEFAULT_DAYS = 90
TOP_TOPICS = 5
GAPS = 6
SHOWN = 5
"""Unanswered questions, requesters, teams and evidence questions listed (the counts say how many in all)."""
SHORT = 160
"""Characters of a question's text shown in the brief."""
SENTIMENT_NOTE = (
    "VADER (a lexicon of English words): only questions detected as English are scored; a shift over weeks "
    "carries the signal, not one question's score."
)


@dataclass(frozen=True)
class QuestionRef:
    id: int
    created_at: datetime
    text: str
    """The stored (cleaned, redacted) text, cut to `SHORT` characters."""
    topic_id: int | None = None
    source: str = ""
    """"zendesk", "slack", … or "chat" for a question asked in docgap's chat about the account."""


@dataclass(frozen=True)
class TopicLine:
    id: int
    label: str
    count: int
    """Questions in the period."""
    previous: int
    """Questions in the period before."""
    gap_kind: str | None
    status: str | None


@dataclass(frozen=True)
class GapLine:
    id: int
    label: str
    gap_kind: str
    count: int
    status: str | None
    gap_score: float
    ticket: TicketRef | None = None


@dataclass(frozen=True)
class Requester:
    """One person (a hash of their address or user id: never the identity) who asked more than once."""

    who: str
    questions: int
    topics: int
    repeats: int
    """Questions on a topic this person had already asked about in the period."""
    channels: list[str]
    top_topic: tuple[int, str] | None = None


@dataclass(frozen=True)
class Team:
    """Who at the customer asks: their own team when the source names one, else the channel it came through."""

    channel: str | None
    """The Slack channel id, or the ticket channel ("email", "web", …); None on a team's row."""
    questions: int
    people: int
    team: str | None = None
    """The customer's team or department (`DOCGAP_ZENDESK_TEAM_FIELD`, a CSV's `--team-column`)."""

    @property
    def name(self) -> str:
        return self.team or self.channel or ""


@dataclass(frozen=True)
class Velocity:
    """The 90-day leading indicator (`clustering.trends.AccountTrend`) with its focus topics named."""

    weekly: list[int]
    growth: float
    last_30_days: int
    previous_60_days: int
    focus_topics: list[tuple[int, str]]
    focus_weekly: list[int]
    focus_growth: float
    focus_p: float
    rising: bool


@dataclass(frozen=True)
class Sentiment:
    weeks: list[tuple[date, float, int]]
    """(week start, mean VADER compound, questions scored); n = 0 means no data that week, not neutral."""
    scored: int
    skipped_language: int
    recent_mean: float | None
    """The last four weeks' mean (None: nothing scored)."""
    earlier_mean: float | None
    method: str = SENTIMENT_NOTE


@dataclass(frozen=True)
class FlagLine:
    id: int
    kind: str
    title: str
    severity: float
    raised_at: datetime
    summary: str
    evidence: str
    question_ids: list[int]
    weeks: list[date]
    links: list[str]
    examples: list[QuestionRef] = field(default_factory=list)


@dataclass
class AccountBrief:
    account_id: int
    account: str
    owner: str | None
    segment: str | None
    arr: float | None
    renewal_date: date | None
    days: int
    period_start: date
    period_end: date
    """Last day of the period (inclusive)."""
    generated_at: datetime
    questions: int
    previous_questions: int
    change: float | None
    """Relative change on the period before (None when there was nothing before)."""
    weekly: list[tuple[date, int]]
    velocity: Velocity | None
    top_topics: list[TopicLine]
    gaps: list[GapLine]
    """The gap topics they asked most (at most `GAPS`); `gap_topics` says how many in all."""
    gap_topics: int
    gap_questions: int
    """The period's questions in topics the docs do not fully answer."""
    unanswered: list[QuestionRef]
    no_topic: int
    chat_not_covered: int
    requesters: list[Requester]
    teams: list[Team]
    sentiment: Sentiment
    flags: list[FlagLine]
    actions: list[Action]
    summary: str = ""
    mode: str = "offline"
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    id: int
    created_at: datetime
    text: str
    source: str
    author: str | None
    channel: str | None
    team: str | None
    topic_id: int | None
    label: str | None
    gap_kind: str | None
    status: str | None
    gap_score: float
    priority: str | None


def _rows(session: Session, account_id: int, since: datetime, until: datetime) -> list[_Row]:
    found = session.exec(
        select(Question, Topic.label, Topic.gap_kind, Topic.status, Topic.gap_score)
        .join(Topic, col(Question.topic_id) == col(Topic.id), isouter=True)
        .where(Question.account_id == account_id, Question.created_at >= since, Question.created_at < until)
        .order_by(col(Question.created_at).desc(), col(Question.id).desc())
    ).all()
    return [_Row(q.id or 0, q.created_at, q.text, q.source, q.author_hash, q.channel, q.team, q.topic_id, label, kind,
                 status, score or 0.0, q.priority) for q, label, kind, status, score in found]  # fmt: skip


def short(text: str) -> str:
    """A question cut to `SHORT` characters at a word, marked as cut."""
    text = " ".join(text.split())
    return text if len(text) <= SHORT else text[:SHORT].rsplit(" ", 1)[0] + " …"


def _ref(r: _Row) -> QuestionRef:
    return QuestionRef(r.id, r.created_at, short(r.text), r.topic_id, r.source)


def _top_topics(asked: list[TopicAsked], before: list[_Row]) -> list[TopicLine]:
    previous = Counter(r.topic_id for r in before if r.topic_id)
    return [TopicLine(t.topic_id, t.label, t.count, previous.get(t.topic_id, 0), t.gap_kind, t.status)
            for t in asked]  # fmt: skip


def _gaps(now: list[_Row], tickets: dict[int, TicketRef]) -> list[GapLine]:
    counts = Counter((r.topic_id, r.label, r.gap_kind, r.status, r.gap_score) for r in now if r.topic_id and r.gap_kind)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], -kv[0][4], kv[0][0]))
    return [GapLine(tid, label or f"topic #{tid}", kind, n, status, round(score, 3), tickets.get(tid))
            for (tid, label, kind, status, score), n in ranked]  # fmt: skip


def _requesters(now: list[_Row]) -> list[Requester]:
    by_person: dict[str, list[_Row]] = defaultdict(list)
    for r in now:
        if r.author:
            by_person[r.author].append(r)
    out = []
    for who, rows in by_person.items():
        if len(rows) < 2:
            continue
        per_topic = Counter((r.topic_id, r.label) for r in rows if r.topic_id)
        top = per_topic.most_common(1)[0][0] if per_topic else None
        out.append(Requester(f"person {who[:6]}", len(rows), len(per_topic), sum(n - 1 for n in per_topic.values()),
                             sorted({r.channel for r in rows if r.channel}),
                             (top[0], top[1] or f"topic #{top[0]}") if top else None))  # fmt: skip
    return sorted(out, key=lambda p: (-p.repeats, -p.questions, p.who))


def _teams(now: list[_Row]) -> list[Team]:
    """Questions by the customer's team where the source named one, the rest by channel."""
    grouped: dict[tuple[str | None, str | None], list[_Row]] = defaultdict(list)
    for r in now:
        if r.team or r.channel:
            grouped[(r.team, None if r.team else r.channel)].append(r)
    teams = [Team(channel, len(rows), len({r.author for r in rows if r.author}), team)
             for (team, channel), rows in grouped.items()]  # fmt: skip
    return sorted(teams, key=lambda t: (-t.questions, t.team is None, t.name))


def _velocity(trend: AccountTrend | None, labels: dict[int, str], rows: list[_Row]) -> Velocity | None:
    """The trend, its focus topics busiest first (non-critical questions, as the trend and its flag count them)."""
    if trend is None:
        return None
    asked = Counter(r.topic_id for r in rows if (r.priority or "").lower() not in CRITICAL_PRIORITIES)
    focus = sorted(trend.focus_topics, key=lambda t: (-asked.get(t, 0), t))
    return Velocity(trend.weekly, trend.growth, trend.last_30_days, trend.previous_60_days,
                    [(t, labels.get(t, f"topic #{t}")) for t in focus], trend.focus_weekly, trend.focus_growth,
                    trend.focus_p, trend.rising)  # fmt: skip


def _sentiment(runtime: Runtime, account_id: int, start: datetime, end: datetime) -> Sentiment:
    found = account_sentiment(runtime, account_id, start, end)
    weeks = weekly_means(found.scored, start.date(), end.date() + timedelta(days=1))
    split = datetime.combine(week_start(end) - timedelta(weeks=3), datetime.min.time())
    recent = [s.compound for s in found.scored if s.created_at >= split]
    earlier = [s.compound for s in found.scored if s.created_at < split]
    return Sentiment(weeks, len(found.scored), found.skipped_language,
                     round(sum(recent) / len(recent), 3) if recent else None,
                     round(sum(earlier) / len(earlier), 3) if earlier else None)  # fmt: skip


def _flags(runtime: Runtime, session: Session, account_id: int) -> list[FlagLine]:
    """The account's open flags; evidence questions that are not this account's are dropped, never shown."""
    flags = [f for f in open_flags(runtime, account_id) if f.account_id == account_id]
    wanted = sorted({i for f in flags for i in f.evidence.question_ids})
    own = {q.id: q for q in session.exec(
        select(Question).where(col(Question.id).in_(wanted), Question.account_id == account_id)).all()}  # fmt: skip
    return [_flag_line(f, own) for f in flags]


def _flag_line(f: Flag, own: dict[int | None, Question]) -> FlagLine:
    ids = [i for i in f.evidence.question_ids if i in own]
    examples = [QuestionRef(i, own[i].created_at, short(own[i].text), own[i].topic_id, own[i].source)
                for i in ids[:3]]  # fmt: skip
    return FlagLine(f.id, f.kind, f.title, f.severity, f.raised_at, f.summary, f.evidence.text, ids,
                    list(f.evidence.weeks), list(f.evidence.links), examples)  # fmt: skip


def _flag_actions(flags: list[FlagLine], account_id: int) -> list[Action]:
    """Flags the topic actions do not already speak to: the same people asking again, and a drop in mood."""
    timeline = f"/accounts/{account_id}/timeline"
    kinds = {f.kind for f in flags}
    out = []
    if "repeat_requesters" in kinds:
        out.append(Action("repeat", "The same people keep asking again: offer them a walkthrough of what they ask "
                          "most, and check the earlier answers helped.", href=timeline))  # fmt: skip
    if "sentiment_drop" in kinds:
        out.append(Action("sentiment", "Their questions read more negative lately: call the account's owner before "
                          "the next renewal step.", href=timeline))  # fmt: skip
    return out


@dataclass(frozen=True)
class _Period:
    account: Account
    start: datetime
    end: datetime
    now: list[_Row]
    before: list[_Row]
    chat: list[QuestionRef]
    """Chat answers about the account that said the docs do not cover it, from the period's start until now (the
    chat is asked today even when the last import is older)."""
    labels: dict[int, str]
    flags: list[FlagLine]


def _load(runtime: Runtime, account_id: int, days: int, now: datetime | None) -> _Period | None:
    with Session(runtime.engine) as session:
        account = session.get(Account, account_id)
        if account is None:
            return None
        clock = now or runtime.clock()
        end = data_end(session, clock)
        start = end - timedelta(days=days)
        rows = _rows(session, account_id, start - timedelta(days=days), end)
        turns = session.exec(
            select(ChatTurn).where(ChatTurn.account_id == account_id, ChatTurn.asked_at >= start,
                                   ChatTurn.asked_at <= clock, col(ChatTurn.covered).is_(False))
            .order_by(col(ChatTurn.asked_at).desc())
        ).all()  # fmt: skip
        labels = {t.id: title_for_account(session, t, account_id) for t in session.exec(select(Topic)).all()
                  if t.id is not None}  # fmt: skip
        rows = [replace(r, label=labels.get(r.topic_id, r.label)) if r.topic_id else r for r in rows]
        flags = _flags(runtime, session, account_id)
    chat = [QuestionRef(t.id or 0, t.asked_at, short(t.question), t.topic_id, "chat") for t in turns]
    return _Period(account, start, end, [r for r in rows if r.created_at >= start],
                   [r for r in rows if r.created_at < start], chat, labels, flags)  # fmt: skip


def _unsorted(actions: list[Action], no_topic: int) -> list[Action]:
    """The actions, where "nothing asked" is not said of an account whose questions are only not in topics yet."""
    if actions != [CHECK_IN] or not no_topic:
        return actions
    asked = f"{no_topic} question{'' if no_topic == 1 else 's'}"
    return [Action("check_in", f"Their {asked} in this period are in no topic yet: read them under “Unanswered” "
                   "before the call.")]  # fmt: skip


def build_account_brief(runtime: Runtime, account_id: int, days: int = DEFAULT_DAYS, now: datetime | None = None,
                        summary: bool = True) -> AccountBrief | None:  # fmt: skip
    """The brief for `account_id` over the `days` ending where the data does; None when there is no such account.

    `summary=False` leaves the summary paragraph out (no LLM call): for callers that use only the figures.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    p = _load(runtime, account_id, days, now)
    if p is None:
        return None
    asked = most_asked(((r.topic_id, r.label, r.gap_kind, r.status) for r in p.now), TOP_TOPICS)
    tickets = live_tickets(runtime, sorted({r.topic_id for r in p.now if r.topic_id and r.gap_kind}))
    trend = next((t for t in load_account_trends(runtime, p.end) if t.account_id == account_id), None)
    velocity = _velocity(trend, p.labels, p.now)
    rising = Rising(velocity.focus_topics, velocity.focus_growth) if velocity and velocity.rising else None
    no_topic = [_ref(r) for r in p.now if r.topic_id is None]
    gaps = _gaps(p.now, tickets)
    a = p.account
    brief = AccountBrief(
        account_id=account_id, account=a.name, owner=a.owner, segment=a.segment, arr=a.arr,
        renewal_date=a.renewal_date, days=days, period_start=p.start.date(),
        period_end=(p.end - timedelta(seconds=1)).date(), generated_at=runtime.clock(),
        questions=len(p.now), previous_questions=len(p.before),
        change=round(len(p.now) / len(p.before) - 1, 3) if p.before else None,
        weekly=weekly_series([r.created_at for r in p.now], p.start.date(), p.end.date()),
        velocity=velocity, top_topics=_top_topics(asked, p.before), gaps=gaps[:GAPS], gap_topics=len(gaps),
        gap_questions=sum(1 for r in p.now if r.gap_kind),
        unanswered=sorted(no_topic + p.chat, key=lambda q: q.created_at, reverse=True)[:SHOWN],
        no_topic=len(no_topic), chat_not_covered=len(p.chat), requesters=_requesters(p.now)[:SHOWN],
        teams=_teams(p.now)[:SHOWN], sentiment=_sentiment(runtime, account_id, p.start, p.end), flags=p.flags,
        actions=_unsorted(suggest_actions(asked, rising, pages_to_send(runtime, asked), tickets), len(no_topic))
        + _flag_actions(p.flags, account_id),
    )  # fmt: skip
    if summary:
        _write_summary(runtime, brief)
    return brief


def _write_summary(runtime: Runtime, brief: AccountBrief) -> None:
    if runtime.llm is not None:
        try:
            written = runtime.llm.chat(prompts.messages("account_brief", brief=brief))
            brief.summary = _grounded(runtime, brief, plain_prose(written))
            brief.mode = "llm"
            if brief.summary:
                return
            brief.notes.append("The LLM's summary went beyond the brief's figures; summary written offline.")
        except LLMError as exc:
            brief.notes.append(f"LLM unavailable ({exc}); summary written offline.")
    brief.summary = prompts.render("account_brief.offline", brief=brief)
    brief.mode = "offline"


def _grounded(runtime: Runtime, brief: AccountBrief, text: str) -> str:
    """Sentences that quote only the brief's topic labels and name no other account."""
    labels = [t.label for t in brief.top_topics] + [g.label for g in brief.gaps]
    labels += [label for _, label in brief.velocity.focus_topics] if brief.velocity else []
    labels += [f.title for f in brief.flags]
    with Session(runtime.engine) as session:
        accounts = list(session.exec(select(Account.name)).all())
    return grounded(text, labels, [brief.account], accounts)
