"""Page contexts: one dataclass per page, built from the use-case functions, rendered by one template each.

Tests can check what a page shows by building its context, without parsing HTML.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import numpy as np
from markdown_it import MarkdownIt
from sqlmodel import Session, col, func, select

from clustering.curation import LineageEntry, lineage
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
from clustering.trends import AccountTrend, load_account_trends, weekly_series
from docgap.models import TOPIC_STATUSES, Account, Chunk, Document, Question, Report, Topic
from docgap.runtime import Runtime
from docgap.vectors import QUESTIONS
from retrieval.centroids import TOPICS
from retrieval.index import Passage, search

PAGE_SIZE = 50


def _paging(total: int, page: int) -> tuple[int, int]:
    """(page count, the asked page clamped into 1..count): an out-of-range ?page= shows the nearest page."""
    pages = max(1, -(-total // PAGE_SIZE))
    return pages, min(max(page, 1), pages)


_md = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_html(text: str) -> str:
    """Markdown to HTML with raw HTML disabled (customer and doc text can never inject markup)."""
    return _md.render(text)


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TABLE_RULE = re.compile(r"\|?(?:\s*:?-{3,}:?\s*\|)+(?:\s*:?-{3,}:?\s*)?")
_PIPES = re.compile(r"(?:\s*\|)+\s*")


def markdown_plain(text: str) -> str:
    """A Markdown excerpt (a snippet, possibly cut mid-table) as plain one-line text.

    Drops `**`, link targets and table rules and separates table cells with " · ". The result is text, to be
    HTML-escaped like any other.
    """
    t = _LINK.sub(r"\1", text)
    t = _TABLE_RULE.sub(" ", t)
    t = t.replace("**", "").replace("__", "").replace("`", "")
    t = _PIPES.sub(" · ", t)
    t = " ".join(t.split())
    return t.removeprefix("· ").removesuffix(" ·").strip()


_CITE_MARK = re.compile(r"\[(\d{1,2})\]")


_DOC_HREF = re.compile(r'href="(?![a-z][a-z0-9+.-]*:|/|#)([^"]+)"', re.I)
"""A link target with no scheme and no leading slash or hash: a doc URL relative to the docs root."""


def answer_html(text: str, citations: int) -> str:
    """An answer's Markdown as HTML, its [n] markers linked to the n-th citation below it.

    Links to doc pages (relative to the docs root, as in citations) open in the doc viewer like citations do.
    """

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f'<a class="cite" href="#cite-{n}">[{n}]</a>' if 1 <= n <= citations else m.group(0)

    return _DOC_HREF.sub(r'href="/kb/\1"', _CITE_MARK.sub(link, markdown_html(text)))


_TOPIC_REF = re.compile(r"(?<![\w&#/])#(\d+)\b")


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(counts: list[int]) -> str:
    """Weekly counts as block characters, scaled to the largest week (readable without a chart library)."""
    top = max(counts, default=0)
    return "".join(
        SPARK[min(len(SPARK) - 1, (n * (len(SPARK) - 1) + top - 1) // top)] if top else SPARK[0] for n in counts
    )


def link_topics(html: str) -> str:
    """Topic references ("#12") in rendered report HTML as links to the topic pages."""
    return _TOPIC_REF.sub(r'<a href="/topics/\1">#\1</a>', html)


PERIODS = ((7, "last 7 days"), (30, "last 30 days"), (90, "last 90 days"))


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

    @property
    def scoped(self) -> bool:
        return any(v is not None for v in (self.days, self.language, self.account_id))

    def link(self, **changes: object) -> str:
        """The board URL with the current filters, some changed (pagination and tabs keep the others)."""
        params = {
            "view": self.view,
            "status": self.status,
            "days": self.days,
            "language": self.language,
            "account": self.account_id,
            "page": None,
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
) -> BoardPage:
    """The gap board; period, language and account narrow it to topics asked about in that scope."""
    since = runtime.clock() - timedelta(days=days) if days else None
    f = TopicFilter(
        status=status,
        coverage=view if view in COVERAGE_VIEWS else None,
        since=since,
        account_id=account_id,
        language=language,
    )
    pages, page = _paging(count_matching(runtime, f), page)
    shown = list_topics(runtime, f, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
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
    )


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
        pages, page = _paging(total, page)
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
    passages = search(runtime, centroid, k=5) if centroid is not None else []
    return TopicPage(detail, passages, lineage(runtime, topic_id), [(i, label) for i, label in targets if i])


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
    """Every account with its volume and leading indicator; rising accounts first (fastest first), then the busiest."""
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
        return (not rising, -(r.trend.focus_growth if r.trend and rising else 0.0), -r.questions)

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
    pages, page = _paging(len(rows), page)
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


@dataclass
class DocSection:
    anchor: str
    section: str
    """The chunk's section path, "Title › Heading › Subheading"."""
    headings: list[tuple[int, str]]
    """(level, text) of the headings that open here: the parts of the path that differ from the section before."""
    html: str


@dataclass
class DocPage:
    document: Document
    sections: list[DocSection] = field(default_factory=list)
    """In page order, one per section of the document."""


def _without_overlap(previous: str, text: str, least: int = 8) -> str:
    """`text` minus its start when that repeats the end of `previous` (chunks of a long section overlap)."""
    for k in range(min(len(previous), len(text)), least - 1, -1):
        if previous.endswith(text[:k]):
            return text[k:].lstrip()
    return text


def _section_parts(section: str, title: str) -> list[str]:
    parts = [s for s in section.split(" › ") if s]
    return parts[1:] if parts and parts[0].strip() == title.strip() else parts


def section_heading(section: str, title: str) -> str:
    """A chunk's section path without the page title it starts with ("Title › How it works" → "How it works")."""
    return " › ".join(_section_parts(section, title))


def doc_page(runtime: Runtime, url: str) -> DocPage | None:
    with Session(runtime.engine) as session:
        doc = session.exec(select(Document).where(Document.url == url.split("#")[0])).first()
        if doc is None:
            return None
        chunks = session.exec(select(Chunk).where(Chunk.document_id == doc.id).order_by(col(Chunk.ordinal))).all()
    # Consecutive chunks of one section are one section on the page (one anchor, no repeated overlap).
    merged: list[tuple[str, str, str]] = []
    for c in chunks:
        if merged and merged[-1][1] == c.section:
            anchor, section, text = merged[-1]
            merged[-1] = (anchor, section, text + "\n\n" + _without_overlap(text, c.text))
        else:
            merged.append((c.anchor, c.section, c.text))
    page = DocPage(doc)
    shown: list[str] = []
    for anchor, section, text in merged:
        parts = _section_parts(section, doc.title)
        same = 0
        while same < min(len(parts), len(shown)) and parts[same] == shown[same]:
            same += 1
        headings = [(min(level + 2, 4), parts[level]) for level in range(same, len(parts))]
        shown = parts
        page.sections.append(DocSection(anchor, section, headings, markdown_html(text)))
    return page


def report_list(runtime: Runtime) -> list[Report]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(Report).order_by(col(Report.period_start).desc()).limit(104)).all())


def account_names(runtime: Runtime) -> list[str]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(Account.name).order_by(col(Account.name))).all())
