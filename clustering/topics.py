"""Reading topics: the board's list, a topic's detail, the CSV export (writers' changes: `clustering.curation`).

The CLI, the API and the web pages all go through these functions, so they agree on ordering and filters.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, func, select

from clustering.trends import weekly_series
from core.models import Account, Question, Topic
from core.runtime import Runtime


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
    matching: int | None = None
    """With a period/account/language filter: how many of the topic's questions are in that scope."""
    label_source: str = "keywords"
    split_from: int | None = None
    merged_into: int | None = None
    active: bool = True


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
        label_source=t.label_source,
        split_from=t.split_from,
        merged_into=t.merged_into,
        active=t.active,
    )


@dataclass(frozen=True)
class TopicFilter:
    """Which topics a list shows.

    The scope fields (period, account, language) count questions, not topics: a topic is in scope when at least
    one of its questions is, and `TopicSummary.matching` says how many.
    """

    status: str | None = None
    coverage: str | None = None
    """"gaps" (any gap kind), "covered" (none) or None (both)."""
    since: datetime | None = None
    until: datetime | None = None
    """Exclusive upper bound."""
    account_id: int | None = None
    language: str | None = None

    @property
    def scoped(self) -> bool:
        return any(v is not None for v in (self.since, self.until, self.account_id, self.language))


COVERAGE_VIEWS = ("gaps", "covered")


def _select(f: TopicFilter):  # type: ignore[no-untyped-def]
    """(query of Topic — or of (Topic, matching) when scoped —, the matching-count column or None)."""
    conditions = [col(Topic.active).is_(True)]
    if f.status:
        conditions.append(Topic.status == f.status)
    if f.coverage == "gaps":
        conditions.append(col(Topic.gap_kind).is_not(None))
    elif f.coverage == "covered":
        conditions.append(col(Topic.gap_kind).is_(None))
    elif f.coverage is not None:
        raise ValueError(f"coverage must be one of {', '.join(COVERAGE_VIEWS)}")
    if not f.scoped:
        return select(Topic).where(*conditions), None
    scope = select(Question.topic_id, func.count().label("matching")).where(col(Question.topic_id).is_not(None))
    if f.since is not None:
        scope = scope.where(Question.created_at >= f.since)
    if f.until is not None:
        scope = scope.where(Question.created_at < f.until)
    if f.account_id is not None:
        scope = scope.where(Question.account_id == f.account_id)
    if f.language is not None:
        scope = scope.where(Question.language == f.language)
    sub = scope.group_by(col(Question.topic_id)).subquery()
    q = select(Topic, sub.c.matching).join(sub, sub.c.topic_id == Topic.id).where(*conditions)
    return q, sub.c.matching


def list_topics(
    runtime: Runtime, f: TopicFilter = TopicFilter(), limit: int | None = None, offset: int = 0
) -> list[TopicSummary]:
    """Active topics, biggest gap first (then largest); with a scope, most matching questions first."""
    q, matching = _select(f)
    order = [col(Topic.gap_score).desc(), col(Topic.size).desc(), col(Topic.id)]
    q = q.order_by(*([matching.desc()] if matching is not None else []), *order).offset(offset)
    if limit:
        q = q.limit(limit)
    with Session(runtime.engine) as session:
        rows = session.exec(q).all()
    if matching is None:
        return [_summary(t) for t in rows]
    return [replace(_summary(t), matching=int(n)) for t, n in rows]


def count_matching(runtime: Runtime, f: TopicFilter = TopicFilter()) -> int:
    """How many topics `list_topics` would return without a limit (for pagination)."""
    q, _ = _select(f)
    with Session(runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(q.subquery())).one())


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
