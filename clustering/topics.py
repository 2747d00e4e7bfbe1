"""Reading and changing topics: the board's list, a topic's detail, a writer's status change, the CSV export.

The CLI, the API and the web pages all go through these functions, so they agree on ordering and filters.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, col, func, select

from clustering.trends import weekly_series
from docgap.models import TOPIC_STATUSES, Account, Question, Topic
from docgap.runtime import Runtime


@dataclass
class TopicSummary:
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
    gap_reason: str = ""
    signals: dict = field(default_factory=dict)


@dataclass
class TopicDetail:
    topic: TopicSummary
    examples: list[str]
    doc_urls: list[str]
    accounts: list[tuple[str, int]]
    weekly: list[tuple[str, int]]
    questions: list[dict]
    notes: str


def _summary(t: Topic) -> TopicSummary:
    return TopicSummary(
        id=t.id or 0,
        label=t.label,
        keywords=t.keywords,
        size=t.size,
        account_count=t.account_count,
        coverage=t.coverage,
        gap_kind=t.gap_kind,
        gap_score=t.gap_score,
        status=t.status,
        first_seen=t.first_seen.isoformat() if t.first_seen else None,
        last_seen=t.last_seen.isoformat() if t.last_seen else None,
        gap_reason=t.gap_reason or "",
        signals=t.signals or {},
    )


def _active(status: str | None, gaps_only: bool):  # type: ignore[no-untyped-def]
    q = select(Topic).where(col(Topic.active).is_(True))
    if status:
        q = q.where(Topic.status == status)
    if gaps_only:
        q = q.where(col(Topic.gap_kind).is_not(None))
    return q


def list_topics(
    runtime: Runtime,
    status: str | None = None,
    gaps_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[TopicSummary]:
    """Active topics, biggest gap first (then largest)."""
    q = _active(status, gaps_only)
    q = q.order_by(col(Topic.gap_score).desc(), col(Topic.size).desc(), col(Topic.id)).offset(offset)
    if limit:
        q = q.limit(limit)
    with Session(runtime.engine) as session:
        return [_summary(t) for t in session.exec(q).all()]


def count_matching(runtime: Runtime, status: str | None = None, gaps_only: bool = False) -> int:
    """How many topics `list_topics` would return without a limit (for pagination)."""
    with Session(runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(_active(status, gaps_only).subquery())).one())


def count_topics(runtime: Runtime) -> dict[str, int]:
    """Active topics per gap kind ("covered" for none), plus the total."""
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(Topic.gap_kind, func.count()).where(col(Topic.active).is_(True)).group_by(Topic.gap_kind)
        ).all()
    counts = {(k or "covered"): int(n) for k, n in rows}
    counts["total"] = sum(counts.values())
    return counts


def topic_detail(runtime: Runtime, topic_id: int, question_limit: int = 50) -> TopicDetail | None:
    now = runtime.clock()
    with Session(runtime.engine) as session:
        t = session.get(Topic, topic_id)
        if t is None:
            return None
        rows = session.exec(
            select(Question, Account.name)
            .join(Account, col(Question.account_id) == col(Account.id), isouter=True)
            .where(Question.topic_id == topic_id)
            .order_by(col(Question.created_at).desc())
        ).all()
    accounts = Counter(name for _, name in rows if name)
    weekly = weekly_series([q.created_at for q, _ in rows], now.date() - timedelta(weeks=25), now.date())
    return TopicDetail(
        topic=_summary(t),
        examples=t.examples,
        doc_urls=t.doc_urls,
        accounts=accounts.most_common(),
        weekly=[(w.isoformat(), n) for w, n in weekly],
        questions=[
            {
                "id": q.id,
                "text": q.text,
                "account": name,
                "created_at": q.created_at.isoformat(),
                "source": q.source,
                "staff_answer": q.staff_answer,
            }
            for q, name in rows[:question_limit]
        ],
        notes=t.notes,
    )


def set_status(
    runtime: Runtime, topic_id: int, status: str, notes: str | None = None, label: str | None = None
) -> Topic:
    """A writer's decision; it is kept on the topic row, so it survives re-clustering."""
    if status not in TOPIC_STATUSES:
        raise ValueError(f"status must be one of {', '.join(TOPIC_STATUSES)}")
    with Session(runtime.engine, expire_on_commit=False) as session:
        t = session.get(Topic, topic_id)
        if t is None:
            raise LookupError(f"no topic {topic_id}")
        t.status = status
        if notes is not None:
            t.notes = notes
        if label:
            t.label, t.label_locked = label, True
        session.commit()
        return t


def export_assignments(runtime: Runtime, path: Path) -> int:
    """CSV contract: question_id (the source's id), topic_id (empty when unassigned), topic_label."""
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(Question.external_id, Question.topic_id, Topic.label)
            .join(Topic, col(Question.topic_id) == col(Topic.id), isouter=True)
            .order_by(col(Question.id))
        ).all()
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["question_id", "topic_id", "topic_label"])
        for ext, tid, label in rows:
            w.writerow([ext, tid if tid is not None else "", label or ""])
    return len(rows)
