"""Questions about the accounts, answered from the account data: what an account asked, a call brief, who asked.

An account manager asks the chat "What is Brightline Logistics asking about this quarter?", "Prepare me for my
call with Vantage Media" or "Which accounts asked about card delivery?". Offline, the question is recognised by
naming an account (its full name, or a first word no other account shares) or by asking "which accounts", with
cue words for the kind of question and a period ("this month", "last 30 days"; 90 days when none is named). The
answer is written from the same data the account pages show, in Markdown with links to the accounts and topics,
so every claim can be checked with one click. Anything else is a question for the docs.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from clustering.trends import AccountTrend, load_account_trends
from core.models import Account, Question, Topic
from core.runtime import Runtime
from reports.actions import Rising, action_markdown, live_tickets, most_asked, pages_to_send, suggest_actions
from retrieval.centroids import TOPICS
from retrieval.embed_cache import QUERIES

DEFAULT_DAYS = 90
TOP_TOPICS = 5
RECENT = 5

_PREP = re.compile(r"\b(prepare|prep|brief(?:ing)?|call with|meeting with|talking points|get ready|before my call)\b",
                   re.I)  # fmt: skip
_WHO = re.compile(r"\b(?:which|what|who(?:\s+else)?)\s+(?:accounts?|customers?|clients?)\b|\bwho\s+(?:else\s+)?"
                  r"(?:has\s+)?(?:asked|asks|is asking|was asking)\b", re.I)  # fmt: skip
_ACTIVITY = re.compile(r"\b(ask\w*|questions?|tickets?|requests?|raised?|going on|topics?|issues?|problems?|"
                       r"struggl\w*|complain\w*|contact\w*|wants?|need\w*|up to)\b", re.I)  # fmt: skip
_ABOUT = re.compile(r"\b(?:about|regarding|on|with)\s+(.+?)\s*\??\s*$", re.I)
_PERIODS = (
    (re.compile(r"\bthis week\b|\blast 7 days\b|\bpast week\b", re.I), 7, "the last 7 days"),
    (re.compile(r"\bthis month\b|\blast month\b|\bpast month\b|\blast 30 days\b", re.I), 30, "the last 30 days"),
    (
        re.compile(r"\bthis quarter\b|\blast quarter\b|\bpast quarter\b|\blast (?:3|three) months\b", re.I),
        90,
        "the last 90 days",
    ),
    (re.compile(r"\bthis year\b|\blast year\b|\bpast year\b|\blast 12 months\b", re.I), 365, "the last 12 months"),
)
_LAST_N = re.compile(r"\b(?:last|past)\s+(\d{1,3})\s+(day|week|month)s?\b", re.I)
_GENERIC = frozenset({"the", "and", "new", "first", "global", "general", "united", "best", "group", "company"})
"""First words too common to name an account alone ("Travel" could be anyone's)."""


@dataclass(frozen=True)
class AccountQuery:
    kind: str
    """"activity" (what an account asked), "prep" (a call brief) or "who" (which accounts asked about a subject)."""
    days: int
    period: str
    account_id: int | None = None
    account: str | None = None
    subject: str | None = None


@dataclass
class AccountAnswer:
    text: str
    """Markdown, with links to /accounts/{id} and /topics/{id}."""
    query: AccountQuery
    links: list[str] = field(default_factory=list)


def _period(text: str) -> tuple[int, str]:
    m = _LAST_N.search(text)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        days = n * {"day": 1, "week": 7, "month": 30}[unit]
        return max(1, min(days, 3650)), f"the last {n} {unit}{'s' if n != 1 else ''}"
    for pattern, days, label in _PERIODS:
        if pattern.search(text):
            return days, label
    return DEFAULT_DAYS, f"the last {DEFAULT_DAYS} days"


def _named_account(text: str, accounts: list[Account]) -> Account | None:
    """The account the text names: its full name, or a distinctive first word that no other account starts with."""
    low = f" {re.sub(r'[^a-z0-9]+', ' ', text.lower())} "
    best: tuple[int, Account] | None = None
    firsts = Counter(a.name.lower().split()[0] for a in accounts if a.name.split())
    for a in accounts:
        name = re.sub(r"[^a-z0-9]+", " ", a.name.lower()).strip()
        if not name:
            continue
        if f" {name} " in low:
            score = len(name) + 100
        else:
            first = name.split()[0]
            if len(first) < 4 or first in _GENERIC or firsts[first] > 1 or f" {first} " not in low:
                continue
            score = len(first)
        if best is None or score > best[0]:
            best = (score, a)
    return best[1] if best else None


def recognise(runtime: Runtime, text: str, selected_account: str | None = None) -> AccountQuery | None:
    """The account question `text` asks, or None when it is a question for the docs.

    `selected_account` is the account picked beside the chat box: with a cue word ("what have they asked this
    month") it stands in for a name the text does not give.
    """
    with Session(runtime.engine) as session:
        accounts = list(session.exec(select(Account)).all())
    days, period = _period(text)
    if _WHO.search(text):
        about = _ABOUT.search(text)
        subject = about.group(1) if about else _WHO.sub(" ", text)
        subject = re.sub(r"\b(this|last|past) (week|month|quarter|year)\b|\blast \d+ \w+\b", " ", subject).strip(" ?.")
        if subject:
            return AccountQuery("who", days, period, subject=subject)
    named = _named_account(text, accounts)
    if named is None and selected_account:
        named = next((a for a in accounts if a.name == selected_account), None)
        if named is not None and not (_PREP.search(text) or _ACTIVITY.search(text)):
            return None
    if named is None:
        return None
    if _PREP.search(text):
        return AccountQuery("prep", days, period, named.id, named.name)
    if _ACTIVITY.search(text):
        return AccountQuery("activity", days, period, named.id, named.name)
    return None


def account_named(runtime: Runtime, name: str) -> Account | None:
    """The account a tool call names: exactly (any case), else by the same rule as in a question."""
    with Session(runtime.engine) as session:
        every = list(session.exec(select(Account)).all())
    exact = next((a for a in every if a.name.lower() == name.strip().lower()), None)
    return exact or _named_account(name, every)


@dataclass(frozen=True)
class _Asked:
    text: str
    created_at: datetime
    topic_id: int | None
    topic: str | None
    gap_kind: str | None
    topic_status: str | None


def _asked(session: Session, account_id: int, since: datetime, until: datetime) -> list[_Asked]:
    rows = session.exec(
        select(Question, Topic.label, Topic.gap_kind, Topic.status)
        .join(Topic, col(Question.topic_id) == col(Topic.id), isouter=True)
        .where(Question.account_id == account_id, Question.created_at >= since, Question.created_at < until)
        .order_by(col(Question.created_at).desc())
    ).all()
    return [_Asked(q.text, q.created_at, q.topic_id, label, kind, status) for q, label, kind, status in rows]


def _topic_link(topic_id: int | None, label: str | None) -> str:
    return f"[{_md(label or f'topic #{topic_id}')}](/topics/{topic_id})" if topic_id else "no topic yet"


def _md(text: str) -> str:
    """Customer or topic text inside Markdown: brackets and emphasis marks escaped, so it stays text."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _change(now: int, before: int) -> str:
    """How `now` compares with the period before, in words that read right when either is zero."""
    if before == 0:
        return "their first this period: none the period before"
    pct = round(100 * (now - before) / before)
    return f"{'+' if pct >= 0 else ''}{pct}% on the {before} of the period before"


def _activity_lines(asked: list[_Asked], previous: int, query: AccountQuery) -> list[str]:
    who = f"**[{_md(query.account or '')}](/accounts/{query.account_id})**"
    if not asked:
        before = f"down from {previous} the period before" if previous else "none the period before either"
        return [f"{who} asked no questions in {query.period} ({before})."]
    n = len(asked)
    lines = [f"{who} asked **{n}** question{'' if n == 1 else 's'} in {query.period} ({_change(n, previous)})."]
    per_topic = Counter((a.topic_id, a.topic, a.gap_kind) for a in asked if a.topic_id)
    if per_topic:
        lines.append("")
        lines.append("Most asked about:")
        for (tid, label, kind), n in per_topic.most_common(TOP_TOPICS):
            gap = f" — docs gap ({kind})" if kind else ""
            lines.append(f"- {_topic_link(tid, label)}: {n}{gap}")
    gaps = sum(1 for a in asked if a.gap_kind)
    if gaps:
        lines.append("")
        lines.append(f"{gaps} of the {len(asked)} fall in topics the docs do not fully answer.")
    lines.append("")
    lines.append("Latest:")
    for a in asked[:RECENT]:
        lines.append(f"- {a.created_at.date().isoformat()}: “{_md(a.text[:160])}” ({_topic_link(a.topic_id, a.topic)})")
    return lines


def _trend_line(trend: AccountTrend | None, labels: dict[int, str]) -> str | None:
    if trend is None or not trend.rising:
        return None
    focus = ", ".join(_topic_link(t, labels.get(t)) for t in trend.focus_topics[:3])
    return (f"**Rising:** its questions about {focus} grew {trend.focus_growth:.1f}x over 13 weeks "
            f"(last 30 days {trend.last_30_days}, the 60 before {trend.previous_60_days}).")  # fmt: skip


def answer(runtime: Runtime, query: AccountQuery) -> AccountAnswer:
    """The answer to a recognised account question, from the stored questions, topics and trends."""
    now = runtime.clock()
    since = now - timedelta(days=query.days)
    with Session(runtime.engine) as session:
        if query.kind == "who":
            return _who(runtime, session, query, since, now)
        assert query.account_id is not None
        account = session.get(Account, query.account_id)
        assert account is not None
        asked = _asked(session, query.account_id, since, now)
        previous = len(_asked(session, query.account_id, since - timedelta(days=query.days), since))
        labels = dict(session.exec(select(Topic.id, Topic.label)).all())
    lines = _activity_lines(asked, previous, query)
    trend = next((t for t in load_account_trends(runtime) if t.account_id == query.account_id), None)
    labels = {k: v for k, v in labels.items() if k is not None}
    rising = _trend_line(trend, labels)
    if query.kind == "prep":
        facts = [f"owner {account.owner}" if account.owner else None, account.segment,
                 f"ARR {account.arr:,.0f}" if account.arr else None,
                 f"renews {account.renewal_date.isoformat()}" if account.renewal_date else None]  # fmt: skip
        head = f"**Call brief: [{_md(account.name)}](/accounts/{account.id})**"
        head += f" ({', '.join(f for f in facts if f)})" if any(facts) else ""
        lines = [head, "", *lines]
        if rising:
            lines += ["", rising]
        lines += ["", "Suggested:", *_actions(runtime, asked, trend, labels)]
    elif rising:
        lines += ["", rising]
    return AccountAnswer("\n".join(lines), query)


def _actions(runtime: Runtime, asked: list[_Asked], trend: AccountTrend | None, labels: dict[int, str]) -> list[str]:
    """What to do about what they asked: the same advice the account brief gives (`reports.actions`)."""
    topics = most_asked(((a.topic_id, a.topic, a.gap_kind, a.topic_status) for a in asked), TOP_TOPICS)
    rising = None
    if trend is not None and trend.rising:
        rising = Rising([(t, labels.get(t, f"topic #{t}")) for t in trend.focus_topics], trend.focus_growth)
    tickets = live_tickets(runtime, [t.topic_id for t in topics if t.gap_kind])
    actions = suggest_actions(topics, rising, pages_to_send(runtime, topics), tickets)
    return [f"- {action_markdown(a)}" for a in actions]


def _who(runtime: Runtime, session: Session, query: AccountQuery, since: datetime, now: datetime) -> AccountAnswer:
    subject = query.subject or ""
    ranked = TOPICS.ranked(runtime, QUERIES.embed(runtime.embedder, subject), 3)
    if not ranked:
        return AccountAnswer("No topics yet: run `docgap cluster` first.", query)
    best = ranked[0][1]
    # The subject's topics: the closest, and the next ones nearly as close (one subject often spans two topics).
    chosen = [tid for tid, sim in ranked if sim >= best - 0.05]
    labels = dict(session.exec(select(Topic.id, Topic.label).where(col(Topic.id).in_(chosen))).all())
    rows = session.exec(
        select(Question.account_id, Account.name, Question.topic_id)
        .join(Account, col(Question.account_id) == col(Account.id))
        .where(col(Question.topic_id).in_(chosen), Question.created_at >= since, Question.created_at < now)
    ).all()
    per_account = Counter((aid, name) for aid, name, _ in rows)
    topics = ", ".join(_topic_link(t, labels.get(t)) for t in chosen)
    if not per_account:
        return AccountAnswer(f"No account asked about {topics} in {query.period}.", query)
    lines = [f"**{len(per_account)}** accounts asked about {topics} in {query.period}:", ""]
    for (aid, name), n in per_account.most_common(20):
        lines.append(f"- [{_md(name)}](/accounts/{aid}): {n}")
    if len(per_account) > 20:
        lines.append(f"- and {len(per_account) - 20} more")
    return AccountAnswer("\n".join(lines), query)
