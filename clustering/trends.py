"""Weekly counts: the time axis of topics, accounts and the weekly report.

Weeks start on Monday (ISO weeks). Counting happens in Python over (timestamp, key) pairs so SQLite and
PostgreSQL give identical results without dialect-specific date functions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta


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
