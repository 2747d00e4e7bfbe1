"""The delivery ledger: each (kind, key, channel) is sent once, a failed send is retried, two senders never race.

A sender first *claims* the item (a row in state "sending"); only the claimant sends, then records "sent" or
"failed" with the error. A second run, another process, or a restart finds the row and sends nothing; a failed
row is claimed again by the next run. A claim left behind by a process that died mid-send is taken over after
`STALE_CLAIM` (the send may or may not have gone out: once-per-week beats never-again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.models import Delivery
from core.runtime import Runtime

STALE_CLAIM = timedelta(minutes=15)
"""Longer than any send takes (a few retries of a 30 s timeout)."""


@dataclass(frozen=True)
class LedgerEntry:
    kind: str
    key: str
    channel: str
    status: str
    attempts: int
    sent_at: datetime | None
    last_attempt_at: datetime | None
    error: str | None


def _find(session: Session, kind: str, key: str, channel: str) -> Delivery | None:
    return session.exec(
        select(Delivery).where(Delivery.kind == kind, Delivery.key == key, Delivery.channel == channel)
    ).first()


def claim(runtime: Runtime, kind: str, key: str, channel: str) -> bool:
    """Take the right to send this item now; False if it was sent or someone else is sending it."""
    now = runtime.clock()
    with Session(runtime.engine) as session:
        row = _find(session, kind, key, channel)
        if row is None:
            session.add(Delivery(kind=kind, key=key, channel=channel, status="sending", attempts=1,
                                 last_attempt_at=now))  # fmt: skip
            try:
                session.commit()
            except IntegrityError:
                return False
            return True
        if row.status == "sent":
            return False
        if row.status == "sending" and row.last_attempt_at and row.last_attempt_at > now - STALE_CLAIM:
            return False
        # Compare-and-set on what we read, so of two runs that both saw "failed" only one sends.
        result = session.exec(  # type: ignore[call-overload]
            update(Delivery)
            .where(col(Delivery.id) == row.id, col(Delivery.status) == row.status)
            .where(col(Delivery.attempts) == row.attempts)
            .values(status="sending", attempts=row.attempts + 1, last_attempt_at=now)
        )
        session.commit()
        return bool(result.rowcount == 1)


def finish(runtime: Runtime, kind: str, key: str, channel: str, error: str | None = None, sent: bool = True) -> None:
    """Record the outcome of a claimed send: sent (perhaps with a note in `error`) or failed with its error."""
    now = runtime.clock()
    with Session(runtime.engine) as session:
        row = _find(session, kind, key, channel)
        if row is None:
            return
        row.status = "sent" if sent else "failed"
        row.sent_at = now if sent else None
        row.error = error
        row.last_attempt_at = now
        session.add(row)
        session.commit()


def entries(runtime: Runtime, kind: str | None = None, key: str | None = None) -> list[LedgerEntry]:
    """The ledger, newest attempt first (all of it, one kind, or one item)."""
    with Session(runtime.engine) as session:
        query = select(Delivery)
        if kind is not None:
            query = query.where(Delivery.kind == kind)
        if key is not None:
            query = query.where(Delivery.key == key)
        rows = session.exec(query.order_by(col(Delivery.last_attempt_at).desc(), col(Delivery.id).desc())).all()
    return [LedgerEntry(r.kind, r.key, r.channel, r.status, r.attempts, r.sent_at, r.last_attempt_at, r.error)
            for r in rows]  # fmt: skip
