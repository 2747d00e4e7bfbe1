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
    background volume, so the indicator looks for the subject whose questions come later in the window than the
    account's others (see `account_trends`); that subject is the account's `focus`.
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
    """`trend_slope` of `focus_weekly`."""
    focus_p: float
    """How often a subject shifted as far towards recent weeks when the account's own weeks were shuffled (1: none)."""
    rising: bool


SCALES = (1, 2, 4, 8)
"""A subject is a topic and its nearest topics by centre, at each of these sizes: one subject spans one to several
topics, more the finer the topics are cut. A rank, not a cosine, so it means the same for any embedding model."""
RECENT_WEEKS = 4
RISING_MIN_RECENT = 6
"""Questions in the subject over the last four weeks before a rise counts (so 0 → 2 questions is no alarm)."""
RISING_ALPHA = 0.05
"""Largest `focus_p` that counts as rising: one account in twenty with no real rise would be flagged."""
RISING_MIN_GROWTH = 1.0
"""Smallest `focus_growth` that counts: the subject's fitted weekly rate about doubled over the 13 weeks."""
SHUFFLES = 999
ENOUGH_EXCEEDANCES = 20
"""Shuffling stops once this many beat the account's own subject: its p-value is then plainly not small."""


def _subject_z(weeks: np.ndarray, topic: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    """Per permutation row of `weeks` and per (topic, scale): how much later its questions fall than the account's.

    The z-score of the subject's mean week index against drawing that many of the account's questions at random
    (without replacement), so subjects of every size are on one scale. A subject with fewer than
    `RISING_MIN_RECENT` questions in the last four weeks, or holding all of the account's questions, scores -inf.
    `weeks` is (rows, n), `topic` (n,) with -1 for a question in no topic, `nearest` (topics, max scale).
    """
    rows, n = weeks.shape
    t = nearest.shape[0]
    has = topic >= 0
    offsets = (np.arange(rows)[:, None] * t + topic[has][None, :]).ravel()
    w = weeks[:, has]
    total = np.bincount(offsets, weights=w.ravel(), minlength=rows * t).reshape(rows, t)
    recent = np.bincount(offsets, weights=(w >= TRAILING_WEEKS - RECENT_WEEKS).ravel(), minlength=rows * t)
    recent = recent.reshape(rows, t)
    count = np.bincount(topic[has], minlength=t).astype(np.float64)
    scales = [k for k in SCALES if k <= nearest.shape[1]]
    pick = [k - 1 for k in scales]
    m = np.cumsum(count[nearest], axis=1)[:, pick]  # (topics, scales), the same for every row
    s = np.cumsum(total[:, nearest], axis=2)[:, :, pick]  # (rows, topics, scales)
    r = np.cumsum(recent[:, nearest], axis=2)[:, :, pick]
    mu, var = float(weeks[0].mean()), float(weeks[0].var())
    ok = (m > 0) & (m < n) & (var > 0)
    se = np.sqrt(var / np.maximum(m, 1) * (n - m) / max(n - 1, 1))
    z = (s / np.maximum(m, 1) - mu) / np.where(ok, se, 1.0)
    return np.where(ok[None] & (r >= RISING_MIN_RECENT), z, -np.inf).reshape(rows, -1)


def _focus(account_id: int, weeks: np.ndarray, topic: np.ndarray, nearest: np.ndarray) -> tuple[float, int | None]:
    """(p-value, index of the best (topic, scale) in `_subject_z`'s columns) of an account's strongest subject.

    The null is the account's own weeks shuffled among its questions: the same weekly totals (so the whole account
    growing, or the season, is no signal by itself) with no subject favouring recent weeks. The account's best
    subject is compared with the best subject of each shuffle, which is what makes looking at hundreds of subjects
    at once fair: picking the fastest of a hundred noisy ones no longer passes for a rise. Seeded by the account,
    so a page shows the same figure on every load.
    """
    observed = _subject_z(weeks[None, :], topic, nearest)[0]
    if not len(observed) or not np.isfinite(observed.max()):
        return 1.0, None
    best, rng = float(observed.max()), np.random.default_rng(account_id)
    exceed = done = 0
    while done < SHUFFLES:
        batch = min(100, SHUFFLES - done)
        null = _subject_z(rng.permuted(np.tile(weeks, (batch, 1)), axis=1), topic, nearest).max(axis=1)
        exceed += int((null >= best).sum())
        done += batch
        if exceed >= ENOUGH_EXCEEDANCES:
            return exceed / done, int(observed.argmax())
    return (exceed + 1) / (SHUFFLES + 1), int(observed.argmax())


def account_trends(
    rows: Iterable[tuple[int | None, datetime, str | None, int | None]],
    names: dict[int, str],
    centroids: dict[int, Sequence[float]],
    now: datetime,
) -> list[AccountTrend]:
    """Per account from (account id, created at, priority, topic id) rows; rising first, then the surest.

    An account is rising when one subject (a topic and its nearest topics, `SCALES`) has its questions later in
    the 13 weeks than the account's others by more than the best subject of 95% of shuffles of the account's own
    weeks (`RISING_ALPHA`), at least doubled its fitted weekly rate (`RISING_MIN_GROWTH`) and had
    `RISING_MIN_RECENT` questions in the last four weeks. A bare "fastest-growing subject above a fixed growth"
    flagged accounts whose fastest of a hundred subjects was noise; how many subjects there are depends on the
    topic granularity, which the data decides.
    """
    since = now - timedelta(days=7 * TRAILING_WEEKS)
    ids = sorted(centroids)
    position = {t: i for i, t in enumerate(ids)}
    nearest = np.zeros((0, 0), dtype=np.int64)
    if ids:
        c = np.asarray([centroids[t] for t in ids], dtype=np.float32)
        nearest = np.argsort(-(c @ c.T), axis=1, kind="stable")[:, : max(SCALES)]
    stamps: dict[int, list[tuple[datetime, int]]] = {aid: [] for aid in names}
    for aid, created, priority, tid in rows:
        if aid not in stamps or not since <= created <= now or (priority or "").lower() in CRITICAL_PRIORITIES:
            continue
        stamps[aid].append((created, position.get(tid, -1) if tid is not None else -1))
    out = []
    for aid, asked in stamps.items():
        times = [t for t, _ in asked]
        weekly = trailing_weeks(times, now)
        recent = sum(t >= now - timedelta(days=30) for t in times)
        weeks = np.array([TRAILING_WEEKS - 1 - (now - t).days // 7 for t in times], dtype=np.float64)
        topic = np.array([i for _, i in asked], dtype=np.int64)
        p, best = _focus(aid, weeks, topic, nearest) if len(ids) and len(times) else (1.0, None)
        focus_topics: list[int] = []
        focus_weekly = [0] * TRAILING_WEEKS
        if best is not None:
            scales = [k for k in SCALES if k <= nearest.shape[1]]
            centre, scale = divmod(best, len(scales))
            focus_topics = [ids[j] for j in nearest[centre, : scales[scale]]]
            inside = set(focus_topics)
            focus_weekly = trailing_weeks([t for t, i in asked if i >= 0 and ids[i] in inside], now)
        focus_growth = trend_slope(focus_weekly)
        out.append(
            AccountTrend(
                account_id=aid,
                account=names[aid],
                weekly=weekly,
                growth=round(trend_slope(weekly), 3),
                last_30_days=recent,
                previous_60_days=len(times) - recent,
                focus_topics=focus_topics,
                focus_weekly=focus_weekly,
                focus_growth=round(focus_growth, 3),
                focus_p=round(p, 4),
                rising=best is not None and p <= RISING_ALPHA and focus_growth >= RISING_MIN_GROWTH,
            )
        )
    return sorted(out, key=lambda t: (not t.rising, t.focus_p, -t.focus_growth, -t.growth, t.account))


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
