"""Rate limits counted in the database, so every process that shares it enforces one budget.

A limit is `limit` attempts per `window` seconds per bucket (an API key, a user name, a client address). The window
is fixed and starts at a bucket's first attempt after the previous one ran out: the first attempt of a quiet key
opens a fresh minute, so a burst gets exactly `limit` through, and a client that waits `Retry-After` gets a full
budget back. Each attempt is one statement, `INSERT … ON CONFLICT DO UPDATE … RETURNING`, which SQLite (3.35+) and
PostgreSQL both run atomically: two workers counting the same bucket at once are serialised by the row, never both
told "the 120th". Refused attempts are counted too (they do not extend the window).

The cost is one small write per counted request; `bench/` does not measure it yet.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine

FORGET_AFTER = 3600.0
"""Windows older than this (every limit's window is shorter) are deleted when a bucket opens a new window."""

_HIT = text(
    "INSERT INTO ratewindow (bucket, window_start, count) VALUES (:bucket, :now, 1) "
    "ON CONFLICT (bucket) DO UPDATE SET "
    "window_start = CASE WHEN ratewindow.window_start <= :expired THEN :now ELSE ratewindow.window_start END, "
    "count = CASE WHEN ratewindow.window_start <= :expired THEN 1 ELSE ratewindow.count + 1 END "
    "RETURNING count, window_start"
)


def bucket(kind: str, subject: str) -> str:
    """The stored name of a bucket: its kind and a digest of what it counts (a user name or an address is PII)."""
    return f"{kind}:{hashlib.sha256(subject.encode()).hexdigest()[:32]}"


def _seconds(now: datetime) -> float:
    return (now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp()


def hit(engine: Engine, name: str, limit: int, window: float, now: datetime) -> int:
    """Count one attempt in bucket `name`: 0 when it is within `limit`, else the whole seconds until the window ends.

    `limit` <= 0 means unlimited (nothing is counted).
    """
    if limit <= 0:
        return 0
    t = _seconds(now)
    with engine.begin() as conn:
        count, start = conn.execute(_HIT, {"bucket": name, "now": t, "expired": t - window}).one()
        if count == 1:  # a new window: drop the buckets nobody has used for an hour
            conn.execute(text("DELETE FROM ratewindow WHERE window_start < :old"), {"old": t - FORGET_AFTER})
    return 0 if count <= limit else max(1, math.ceil(start + window - t))


def give_back(engine: Engine, name: str) -> None:
    """Take back one attempt of the current window (a login that succeeded is not a failed attempt)."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE ratewindow SET count = count - 1 WHERE bucket = :bucket AND count > 0"),
                     {"bucket": name})  # fmt: skip


def forget(engine: Engine, name: str) -> None:
    """Start the bucket afresh (a user who logged in has no failed attempts left against them)."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM ratewindow WHERE bucket = :bucket"), {"bucket": name})
