"""The topics as writers work them: the gap board, a topic with its closest passages, the questions in no topic."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

import numpy as np
from sqlmodel import Session, col, func, select

from clustering.curation import CurationError, LineageEntry, lineage, set_status
from clustering.topics import (
    COVERAGE_VIEWS,
    TopicDetail,
    TopicFilter,
    TopicSummary,
    count_matching,
    count_topics,
    list_topics,
    topic_detail,
)
from clustering.trends import week_start, weekly_series
from core.models import TOPIC_STATUSES, Account, Document, Question, Topic
from core.runtime import Runtime
from core.vectors import QUESTIONS
from reports.impact import DocImpact, topic_impact
from retrieval.centroids import TOPICS
from retrieval.index import Passage, search
from usecases import pipeline
from usecases.paging import PAGE_SIZE, paging
from usecases.permissions import Actor, Permission, require

PERIODS = ((7, "last 7 days"), (30, "last 30 days"), (90, "last 90 days"))
QUEUE = ("new", "triaged", "in_progress", "documented", "verified")
"""The writer's queue, left to right; "dismissed" sits outside it (hidden unless asked for)."""
LAYOUTS = ("queue", "table")
COLUMN_LIMIT = 20
"""Cards per queue column: the rest are a click away in the table layout, which pages through them."""
SPARK_WEEKS = 12


@dataclass
class BoardColumn:
    """One status of the queue: its first cards (biggest gap first) and how many topics it holds in all."""

    status: str
    topics: list[TopicSummary]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.topics)


@dataclass
class BoardPage:
    topics: list[TopicSummary]
    counts: dict[str, int]
    view: str
    status: str | None
    page: int
    pages: int
    days: int | None = None
    language: str | None = None
    account_id: int | None = None
    languages: list[str] = field(default_factory=list)
    accounts: list[tuple[int, str]] = field(default_factory=list)
    statuses: tuple[str, ...] = TOPIC_STATUSES
    periods: tuple[tuple[int, str], ...] = PERIODS
    unassigned: int = 0
    """Embedded questions in no topic (linked from the board, so none is out of a writer's sight)."""
    layout: str = "queue"
    show_dismissed: bool = False
    columns: list[BoardColumn] = field(default_factory=list)
    """The queue layout's columns (the table layout fills `topics` instead)."""
    dismissed: int = 0
    """Dismissed topics under the current filters: the queue hides them, and says how many it hides."""
    weekly: dict[int, list[int]] = field(default_factory=dict)
    """Questions per week over the last `SPARK_WEEKS` weeks, for each topic shown (the cards' sparklines)."""

    @property
    def scoped(self) -> bool:
        return any(v is not None for v in (self.days, self.language, self.account_id))

    def neighbours(self, status: str) -> tuple[str | None, str | None]:
        """The statuses before and after `status` in the queue: where a card's move buttons send it."""
        if status not in QUEUE:
            return None, None
        i = QUEUE.index(status)
        return (QUEUE[i - 1] if i else None), (QUEUE[i + 1] if i + 1 < len(QUEUE) else None)

    def link(self, **changes: object) -> str:
        """The board URL with the current filters, some changed (pagination and tabs keep the others)."""
        params = {
            "view": self.view,
            "status": self.status,
            "days": self.days,
            "language": self.language,
            "account": self.account_id,
            "layout": None if self.layout == "queue" else self.layout,
            "dismissed": 1 if self.show_dismissed else None,
            "page": None,
            "evidence": None,
        }
        params.update(changes)
        return "/?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def board_page(
    runtime: Runtime,
    view: str = "gaps",
    status: str | None = None,
    page: int = 1,
    days: int | None = None,
    language: str | None = None,
    account_id: int | None = None,
    layout: str = "queue",
    show_dismissed: bool = False,
) -> BoardPage:
    """The gap board; period, language and account narrow it to topics asked about in that scope.

    The queue layout shows one column per status (a status filter keeps just that column, which is how a
    dismissed topic is found again); the table layout is the paged list, for reading everything in gap order.
    """
    since = runtime.clock() - timedelta(days=days) if days else None
    f = TopicFilter(
        status=status,
        coverage=view if view in COVERAGE_VIEWS else None,
        since=since,
        account_id=account_id,
        language=language,
    )
    columns = _columns(runtime, f, show_dismissed) if layout == "queue" else []
    if columns:
        shown, pages, page = [], 1, 1
    else:
        pages, page = paging(count_matching(runtime, f), page)
        shown = list_topics(runtime, f, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    dismissed = count_matching(runtime, replace(f, status="dismissed"))
    ids = [t.id for t in shown] + [t.id for c in columns for t in c.topics]
    with Session(runtime.engine) as session:
        languages = sorted(x for x in session.exec(select(Question.language).distinct()).all() if x)
        accounts = [(a.id or 0, a.name) for a in session.exec(select(Account).order_by(col(Account.name))).all()]
        unassigned = session.exec(select(func.count()).where(_UNASSIGNED)).one()
    return BoardPage(
        shown,
        count_topics(runtime),
        view,
        status,
        page,
        pages,
        days,
        language,
        account_id,
        languages,
        accounts,
        unassigned=unassigned,
        layout=layout,
        show_dismissed=show_dismissed,
        columns=columns,
        dismissed=dismissed,
        weekly=_weekly(runtime, ids),
    )


def _columns(runtime: Runtime, f: TopicFilter, show_dismissed: bool) -> list[BoardColumn]:
    """The queue's columns: the filter's status alone, or the queue's statuses (and dismissed, when asked)."""
    wanted = [f.status] if f.status else [*QUEUE, *(["dismissed"] if show_dismissed else [])]
    columns = []
    for s in wanted:
        g = replace(f, status=s)
        columns.append(BoardColumn(s, list_topics(runtime, g, limit=COLUMN_LIMIT), count_matching(runtime, g)))
    return columns


def _weekly(runtime: Runtime, topic_ids: list[int]) -> dict[int, list[int]]:
    """Each topic's questions per week, oldest week first, over the last `SPARK_WEEKS` weeks (this week included)."""
    if not topic_ids:
        return {}
    end = runtime.clock().date()
    start = week_start(end - timedelta(weeks=SPARK_WEEKS - 1))
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(Question.topic_id, Question.created_at).where(
                col(Question.topic_id).in_(topic_ids), Question.created_at >= datetime.combine(start, time())
            )
        ).all()
    asked: dict[int, list[datetime]] = defaultdict(list)
    for tid, at in rows:
        asked[tid or 0].append(at)
    return {tid: [n for _, n in weekly_series(asked[tid], start, end)] for tid in topic_ids}


_UNASSIGNED = col(Question.embedded).is_(True) & col(Question.topic_id).is_(None)
"""Questions clustering has seen and left out of every topic (not yet embedded ones wait for the next run)."""


@dataclass
class UnassignedQuestion:
    id: int
    text: str
    created_at: str
    source: str
    account: str | None
    closest_topic: tuple[int, str] | None
    similarity: float
    """Cosine to that topic's centroid now (centroids move as topics grow)."""
    reason: str
    """Why the clustering run that saw it left it out (`Question.unassigned_reason`)."""


@dataclass
class UnassignedPage:
    questions: list[UnassignedQuestion]
    total: int
    page: int
    pages: int
    min_topic_size: int


def unassigned_page(runtime: Runtime, page: int = 1) -> UnassignedPage:
    """The questions no topic holds, newest first, each with the topic it came closest to.

    They are the few a clustering run leaves out (fewer than the minimum topic size like them, and outside every
    topic's radius); the stored reason and the closest topic let a writer see whether one is a stray of a known
    subject or the start of a new one.
    """
    with Session(runtime.engine) as session:
        total = session.exec(select(func.count()).where(_UNASSIGNED)).one()
        pages, page = paging(total, page)
        rows = session.exec(
            select(Question, Account.name)
            .join(Account, col(Question.account_id) == col(Account.id), isouter=True)
            .where(_UNASSIGNED)
            .order_by(col(Question.created_at).desc(), col(Question.id).desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        vectors = runtime.vectors.get_vectors(QUESTIONS, [str(q.id) for q, _ in rows]) if rows else np.zeros((0, 0))
        closest = TOPICS.closest(runtime, vectors)
        wanted = {t for t, _ in closest if t is not None}
        labels = dict(session.exec(select(Topic.id, Topic.label).where(col(Topic.id).in_(wanted))).all())
    questions = [
        UnassignedQuestion(
            q.id or 0,
            q.text,
            q.created_at.date().isoformat(),
            q.source,
            name,
            (tid, labels.get(tid, f"#{tid}")) if tid is not None else None,
            round(sim, 2),
            q.unassigned_reason or "not clustered yet",
        )
        for (q, name), (tid, sim) in zip(rows, closest, strict=True)
    ]
    return UnassignedPage(questions, total, page, pages, runtime.settings.cluster_min_size)


@dataclass
class TopicPage:
    detail: TopicDetail
    passages: list[Passage]
    history: list[LineageEntry] = field(default_factory=list)
    merge_targets: list[tuple[int, str]] = field(default_factory=list)
    """Other active topics (id, label) this one can be merged into."""
    statuses: tuple[str, ...] = TOPIC_STATUSES
    impact: DocImpact | None = None
    """Weekly volume before and after the page that answers it shipped (once a writer marked it documented)."""
    doc_choices: list[str] = field(default_factory=list)
    """Pages to offer as the one that answers it: the closest passages' pages first, then every other page."""


DOC_CHOICES = 500
"""At most this many pages are offered in the documented-by field's list (any other URL can still be typed)."""


def topic_page(runtime: Runtime, topic_id: int) -> TopicPage | None:
    detail = topic_detail(runtime, topic_id)
    if detail is None:
        return None
    with Session(runtime.engine) as session:
        t = session.get(Topic, topic_id)
        centroid = np.asarray(t.centroid, dtype=np.float32) if t and t.centroid else None
        targets = session.exec(
            select(Topic.id, Topic.label).where(col(Topic.active).is_(True), Topic.id != topic_id).order_by(Topic.label)
        ).all()
        pages = session.exec(select(Document.url).order_by(Document.url).limit(DOC_CHOICES)).all()
    passages = search(runtime, centroid, k=5) if centroid is not None else []
    choices = list(dict.fromkeys([*(p.url for p in passages), *detail.doc_urls, *pages]))
    return TopicPage(detail, passages, lineage(runtime, topic_id), [(i, label) for i, label in targets if i],
                     impact=topic_impact(runtime, topic_id), doc_choices=choices)  # fmt: skip


def change_topic(
    runtime: Runtime,
    actor: Actor,
    topic_id: int,
    status: str,
    notes: str | None = None,
    label: str | None = None,
    doc_url: str | None = None,
    documented_on: date | None = None,
) -> Topic:
    """A writer's decision on a topic: its status, and optionally notes and a new title.

    With "documented" or "verified", `doc_url` names the page that now answers it and `documented_on` the day it
    shipped (default: now, the first time); both feed the doc impact shown on the topic and in the weekly report.
    """
    require(actor, Permission.WRITE_TOPICS)
    return set_status(runtime, topic_id, status, notes, label, doc_url, documented_on)


def change_topics(runtime: Runtime, actor: Actor, topic_ids: Sequence[int], status: str) -> list[Topic]:
    """One status for several topics (the board's bulk action), each a writer's decision like `change_topic`.

    The status and every id are checked before the first change, so a typo or a topic that went away changes
    nothing rather than half of what was ticked.
    """
    require(actor, Permission.WRITE_TOPICS)
    wanted = list(dict.fromkeys(topic_ids))
    if status not in TOPIC_STATUSES:
        raise CurationError(f"status must be one of {', '.join(TOPIC_STATUSES)}")
    with Session(runtime.engine) as session:
        found = set(session.exec(select(Topic.id).where(col(Topic.id).in_(wanted))).all())
    if missing := [t for t in wanted if t not in found]:
        raise LookupError(f"no topic {', '.join(f'#{t}' for t in missing)}")
    return [change_topic(runtime, actor, t, status) for t in wanted]


def merge_topics(runtime: Runtime, actor: Actor, sources: Sequence[int], into: int) -> Topic:
    require(actor, Permission.WRITE_TOPICS)
    return pipeline.merge(runtime, sources, into)


def split_topic(
    runtime: Runtime, actor: Actor, topic_id: int, question_ids: Sequence[int] | None = None, label: str | None = None
) -> Topic:
    require(actor, Permission.WRITE_TOPICS)
    return pipeline.split(runtime, topic_id, question_ids, label)


@dataclass(frozen=True)
class DataCounts:
    questions: int
    topics: int
    gap_topics: int
    """Active topics the docs do not fully cover (missing or partial)."""


def data_counts(runtime: Runtime) -> DataCounts:
    """How much is stored, for `/metrics`: three counts, one round trip each."""
    with Session(runtime.engine) as session:
        questions = session.exec(select(func.count()).select_from(Question)).one()
        active = select(func.count()).select_from(Topic).where(col(Topic.active).is_(True))
        topics = session.exec(active).one()
        gaps = session.exec(active.where(col(Topic.gap_kind).is_not(None))).one()
    return DataCounts(int(questions), int(topics), int(gaps))
