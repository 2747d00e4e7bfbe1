"""Accounts as account managers read them: the portfolio with its leading indicator, and one account's questions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, col, func, select

from clustering.trends import AccountTrend, load_account_trends, weekly_series
from core.models import Account, Question, Topic
from core.runtime import Runtime
from usecases.paging import PAGE_SIZE, paging


@dataclass
class AccountRow:
    id: int
    name: str
    owner: str | None
    segment: str | None
    arr: float | None
    renewal: str | None
    questions: int
    last_90_days: int
    trend: AccountTrend | None = None
    focus: list[tuple[int, str]] = field(default_factory=list)
    """The topics (id, label) of the subject growing fastest for this account."""


def accounts_page(runtime: Runtime) -> list[AccountRow]:
    """Every account with its volume and leading indicator; rising accounts first, then the busiest.

    Rising accounts are ordered by how sure the rise is (its shuffle test's p-value, as the velocity flag's
    severity is), not by the trend's size: eight questions going 0, 1, 2, 2 a week make a steeper trend than
    forty-five going 0 to 11, and are far more likely chance.
    """
    since = runtime.clock() - timedelta(days=90)
    with Session(runtime.engine) as session:
        accounts = session.exec(select(Account).order_by(col(Account.name))).all()
        total = dict(session.exec(select(Question.account_id, func.count()).group_by(Question.account_id)).all())
        recent = dict(
            session.exec(
                select(Question.account_id, func.count())
                .where(Question.created_at >= since)
                .group_by(Question.account_id)
            ).all()
        )
        labels = dict(session.exec(select(Topic.id, Topic.label).where(col(Topic.active).is_(True))).all())
    trends = {t.account_id: t for t in load_account_trends(runtime)}
    rows = [
        AccountRow(
            a.id or 0,
            a.name,
            a.owner,
            a.segment,
            a.arr,
            a.renewal_date.isoformat() if a.renewal_date else None,
            total.get(a.id, 0),
            recent.get(a.id, 0),
            trends.get(a.id or 0),
            [(t, labels.get(t, f"#{t}")) for t in trends[a.id].focus_topics] if a.id in trends else [],
        )
        for a in accounts
    ]

    def order(r: AccountRow) -> tuple[bool, float, int]:
        rising = bool(r.trend and r.trend.rising)
        return (not rising, r.trend.focus_p if r.trend and rising else 1.0, -r.questions)

    return sorted(rows, key=order)


@dataclass
class AccountPage:
    account: Account
    total: int
    weekly: list[tuple[str, int]]
    topics: list[tuple[int, str, int, str | None]]
    questions: list[dict]
    page: int
    pages: int


def account_page(runtime: Runtime, account_id: int, page: int = 1) -> AccountPage | None:
    now = runtime.clock()
    with Session(runtime.engine) as session:
        account = session.get(Account, account_id)
        if account is None:
            return None
        rows = session.exec(
            select(Question, Topic.label, Topic.gap_kind)
            .join(Topic, col(Question.topic_id) == col(Topic.id), isouter=True)
            .where(Question.account_id == account_id)
            .order_by(col(Question.created_at).desc())
        ).all()
    weekly = weekly_series([q.created_at for q, _, _ in rows], now.date() - timedelta(weeks=25), now.date())
    per_topic = Counter((q.topic_id, label, kind) for q, label, kind in rows if q.topic_id)
    pages, page = paging(len(rows), page)
    return AccountPage(
        account=account,
        total=len(rows),
        weekly=[(w.isoformat(), n) for w, n in weekly],
        topics=[(tid, label, n, kind) for (tid, label, kind), n in per_topic.most_common(15)],
        questions=[
            {"text": q.text, "created_at": q.created_at, "topic_id": q.topic_id, "topic": label, "source": q.source}
            for q, label, _ in rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        ],
        page=page,
        pages=pages,
    )


def account_names(runtime: Runtime) -> list[str]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(Account.name).order_by(col(Account.name))).all())


def account_id_named(runtime: Runtime, name: str) -> int | None:
    """The id of the account called `name` (case-insensitive), None when there is none."""
    with Session(runtime.engine) as session:
        return session.exec(select(Account.id).where(func.lower(Account.name) == name.lower())).first()
