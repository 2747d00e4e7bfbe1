"""Weekly counts and what they show: emerging topics and each account's leading indicator.

Weeks start on Monday (ISO weeks). Counting happens in Python over (timestamp, key) pairs so SQLite and
PostgreSQL give identical results without dialect-specific date functions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlmodel import Session, col, func, select

from core.models import Account, Question, Topic
from core.runtime import Runtime


def week_start(day: date | datetime) -> date:
    d = day.date() if isinstance(day, datetime) else day
    return d - timedelta(days=d.weekday())


def weekly_series(timestamps: Iterable[datetime], start: date, end: date) -> list[tuple[date, int]]:
    """Counts per week from the week of `start` to the week of `end`, zero weeks included."""
    counts = Counter(week_start(t) for t in timestamps)
    out = []
    w = week_start(start)
    while w <= week_start(end):
        out.append((w, counts.get(w, 0)))
        w += timedelta(days=7)
    return out


def growth(series: list[tuple[date, int]], recent_weeks: int = 4) -> float:
    """Recent weekly rate relative to the weeks before it (0 = flat, 1 = doubled); 1 when it is new."""
    counts = [c for _, c in series]
    recent, before = counts[-recent_weeks:], counts[:-recent_weeks]
    r = sum(recent) / max(len(recent), 1)
    b = sum(before) / max(len(before), 1) if before else 0.0
    if b == 0:
        return 1.0 if r > 0 else 0.0
    return r / b - 1.0


CRITICAL_PRIORITIES = frozenset({"urgent", "high"})
"""Zendesk priorities that mark an incident; everything else (and Slack, email, CSV) counts as non-critical."""
TRAILING_WEEKS = 13
"""The seed's trailing 90 days, as whole weeks."""


def trend_slope(counts: Sequence[int]) -> float:
    """Least-squares growth over the window, relative to its mean.

    1.0 means the fitted weekly rate rose by as much as the average week over the whole window (roughly: it
    doubled from start to end). A fit over all 13 weeks is steadier than comparing two windows.
    """
    y = np.asarray(counts, dtype=np.float64)
    if len(y) < 2 or y.sum() == 0:
        return 0.0
    x = np.arange(len(y), dtype=np.float64)
    slope = float(np.polyfit(x, y, 1)[0])
    return slope * (len(y) - 1) / float(y.mean())


def trailing_weeks(timestamps: Iterable[datetime], now: datetime, weeks: int = TRAILING_WEEKS) -> list[int]:
    """Counts per 7-day window ending at `now`, oldest first; whole windows, so no half-finished current week."""
    out = [0] * weeks
    for t in timestamps:
        k = (now - t).days // 7
        if 0 <= k < weeks and t <= now:
            out[weeks - 1 - k] += 1
    return out


@dataclass(frozen=True)
class AccountTrend:
    """The leading indicator for one account: how fast its non-critical questions grew over the trailing 90 days.

    Overall growth is the seed's figure; an account's rising subject is usually one theme buried in steady
    background volume, so the trend is also computed around each topic (the topic plus its `NEIGHBOURS` nearest
    topics by centre, since one subject often spans two or three topics; a rank, not a cosine, so it means the same
    for any embedding model and topic granularity) and the fastest-growing neighbourhood is the account's `focus`.
    """

    account_id: int
    account: str
    weekly: list[int]
    """Non-critical questions per 7-day window over the trailing 13 weeks, oldest first."""
    growth: float
    """`trend_slope` of `weekly`."""
    last_30_days: int
    previous_60_days: int
    focus_topics: list[int]
    focus_weekly: list[int]
    focus_growth: float
    rising: bool


NEIGHBOURS = 3
"""A subject is a topic and its nearest topics by centre: one subject often spans two or three topics."""
RISING_GROWTH = 2.0
RISING_MIN_RECENT = 6
"""Questions in the focus over the last four weeks before a rise counts (so 0 → 2 questions is no alarm)."""


def account_trends(
    rows: Iterable[tuple[int | None, datetime, str | None, int | None]],
    names: dict[int, str],
    centroids: dict[int, Sequence[float]],
    now: datetime,
) -> list[AccountTrend]:
    """Per account from (account id, created at, priority, topic id) rows; rising first, then fastest focus."""
    since = now - timedelta(days=7 * TRAILING_WEEKS)
    ids = sorted(centroids)
    neighbours: dict[int, list[int]] = {}
    if ids:
        c = np.asarray([centroids[t] for t in ids], dtype=np.float32)
        sims = c @ c.T
        nearest = np.argsort(-sims, axis=1, kind="stable")[:, : NEIGHBOURS + 1]
        neighbours = {t: [ids[j] for j in nearest[i]] for i, t in enumerate(ids)}
    stamps: dict[int, list[datetime]] = {aid: [] for aid in names}
    by_topic: dict[tuple[int, int], list[datetime]] = {}
    for aid, created, priority, tid in rows:
        if aid not in stamps or not since <= created <= now or (priority or "").lower() in CRITICAL_PRIORITIES:
            continue
        stamps[aid].append(created)
        if tid is not None:
            by_topic.setdefault((aid, tid), []).append(created)
    out = []
    for aid, times in stamps.items():
        weekly = trailing_weeks(times, now)
        recent = sum(t >= now - timedelta(days=30) for t in times)
        focus: tuple[float, list[int], list[int]] = (0.0, [], [0] * TRAILING_WEEKS)
        for near in neighbours.values():
            w = trailing_weeks([t for u in near for t in by_topic.get((aid, u), [])], now)
            g = trend_slope(w)
            if sum(w[-4:]) >= RISING_MIN_RECENT and g > focus[0]:
                focus = (g, near, w)
        out.append(
            AccountTrend(
                account_id=aid,
                account=names[aid],
                weekly=weekly,
                growth=round(trend_slope(weekly), 3),
                last_30_days=recent,
                previous_60_days=len(times) - recent,
                focus_topics=focus[1],
                focus_weekly=focus[2],
                focus_growth=round(focus[0], 3),
                rising=focus[0] >= RISING_GROWTH,
            )
        )
    return sorted(out, key=lambda t: (not t.rising, -t.focus_growth, -t.growth, t.account))


@dataclass(frozen=True)
class EmergingTopic:
    topic_id: int
    label: str
    this_week: int
    weekly_before: float
    """Average per week over the four weeks before."""
    reason: str
    """"new" (first seen in the last two weeks) or "growing" (at least double its recent weekly rate)."""


def emerging_topics(
    rows: Iterable[tuple[int, datetime]],
    topics: dict[int, tuple[str, datetime | None]],
    now: datetime,
    min_this_week: int = 3,
) -> list[EmergingTopic]:
    """Topics that are new or fast-growing in the last 7 days, from (topic id, created at) rows.

    `topics` maps id → (label, first seen). Growing means at least `min_this_week` questions and at least twice
    the average week of the four before (plus one, so a topic going from 0 to 2 is not "growing").
    """
    week_ago, before = now - timedelta(days=7), now - timedelta(days=35)
    this_week: Counter[int] = Counter()
    earlier: Counter[int] = Counter()
    for tid, created in rows:
        if tid not in topics or created > now:
            continue
        if created >= week_ago:
            this_week[tid] += 1
        elif created >= before:
            earlier[tid] += 1
    out = []
    for tid, n in this_week.items():
        label, first_seen = topics[tid]
        avg = earlier[tid] / 4
        if first_seen is not None and first_seen >= now - timedelta(days=14):
            out.append(EmergingTopic(tid, label, n, avg, "new"))
        elif n >= min_this_week and n >= 2 * (avg + 1):
            out.append(EmergingTopic(tid, label, n, avg, "growing"))
    return sorted(out, key=lambda e: (-e.this_week, e.topic_id))


def data_end(session: Session, now: datetime) -> datetime:
    """`now`, or the newest question's time if nothing arrived since: trailing windows end where the data does.

    Otherwise a pause in imports (or a demo built on Monday and viewed on Wednesday) shows up as a drop in every
    account's and topic's last week.
    """
    newest = session.exec(select(func.max(Question.created_at)).where(Question.created_at <= now)).one()
    return min(now, newest + timedelta(seconds=1)) if newest else now


def load_account_trends(runtime: Runtime, now: datetime | None = None) -> list[AccountTrend]:
    """`account_trends` over the database, as of `now` (default: the runtime's clock) or the newest question."""
    with Session(runtime.engine) as session:
        now = data_end(session, now or runtime.clock())
        names = {a.id: a.name for a in session.exec(select(Account)).all() if a.id is not None}
        rows = session.exec(
            select(Question.account_id, Question.created_at, Question.priority, Question.topic_id).where(
                Question.created_at >= now - timedelta(days=7 * TRAILING_WEEKS),
                Question.created_at <= now,
                col(Question.account_id).is_not(None),
            )
        ).all()
        centroids = {
            t.id: t.centroid
            for t in session.exec(select(Topic).where(col(Topic.active).is_(True))).all()
            if t.id is not None and t.centroid
        }
    return account_trends(rows, names, centroids, now)


def load_emerging_topics(runtime: Runtime) -> list[EmergingTopic]:
    """`emerging_topics` over the database (dismissed topics left out), as of the clock or the newest question."""
    with Session(runtime.engine) as session:
        now = data_end(session, runtime.clock())
        topics = {
            t.id: (t.label, t.first_seen)
            for t in session.exec(select(Topic).where(col(Topic.active).is_(True), Topic.status != "dismissed")).all()
            if t.id is not None
        }
        rows = session.exec(
            select(Question.topic_id, Question.created_at).where(
                Question.created_at >= now - timedelta(days=35), col(Question.topic_id).is_not(None)
            )
        ).all()
    return emerging_topics(rows, topics, now)  # type: ignore[arg-type]
