"""A docs writer's decisions on topics: status, rename, merge, split, and the lineage they leave.

Every decision is stored on the topic rows (and as a `TopicEvent`), which is what lets it survive re-clustering:
ids persist by overlap, a merged topic is `shared` in matching so its parts cannot come apart again, and a split
family keeps its questions divided by the nearest family centroid (see `clustering.service`).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time
from urllib.parse import urlsplit

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sqlmodel import Session, col, or_, select

from clustering.service import refresh_topics
from clustering.titles import retitle
from core.locks import exclusive
from core.models import TOPIC_STATUSES, Document, Question, Topic, TopicEvent
from core.runtime import Runtime
from core.vectors import QUESTIONS


class CurationError(ValueError):
    """A decision that cannot be applied as asked (unknown status, merging a topic into itself, ...)."""


@dataclass
class LineageEntry:
    at: str
    kind: str
    topic_id: int
    other_topic_id: int | None
    actor: str
    detail: dict


DOCUMENTED = ("documented", "verified")
"""The statuses in which a shipped page answers the topic."""


def set_status(
    runtime: Runtime,
    topic_id: int,
    status: str,
    notes: str | None = None,
    label: str | None = None,
    doc_url: str | None = None,
    documented_on: date | None = None,
) -> Topic:
    """A writer's decision; it is kept on the topic row, so it survives re-clustering.

    Marking a topic documented (or verified) stamps when, and optionally the page that now answers it and the
    day it shipped (a writer often marks it after the fact): doc impact compares the weeks before and after that
    day. Moving it back into the queue or dismissing it clears the stamp, since no shipped page counts any more.
    """
    if status not in TOPIC_STATUSES:
        raise CurationError(f"status must be one of {', '.join(TOPIC_STATUSES)}")
    doc_url = (doc_url or "").strip() or None
    if (doc_url or documented_on) and status not in DOCUMENTED:
        raise CurationError("a page and a date are recorded when the topic is marked documented or verified")
    # A rename must not land inside a re-cluster, whose titles (read before it) would be written over it.
    with (
        exclusive(runtime.engine, runtime.settings.topic_wait_seconds) if label else nullcontext(),
        Session(runtime.engine, expire_on_commit=False) as session,
    ):
        t = _get(session, topic_id)
        now = runtime.clock()
        if documented_on is not None and documented_on > now.date():
            raise CurationError(f"the page cannot have shipped in the future ({documented_on.isoformat()})")
        page = _doc_page(session, doc_url) if doc_url else None
        detail: dict[str, str] = {}
        if status in DOCUMENTED and (t.documented_at is None or documented_on or page):
            t.documented_at = datetime.combine(documented_on, time()) if documented_on else t.documented_at or now
            t.documented_url = page or t.documented_url
            detail = {"documented_at": t.documented_at.isoformat(), **({"doc_url": page} if page else {})}
        elif status not in DOCUMENTED:
            t.documented_at = t.documented_url = None
        if t.status != status or detail:
            session.add(
                TopicEvent(at=now, kind="status", topic_id=topic_id, detail={"from": t.status, "to": status, **detail})
            )
            t.status = status
        if notes is not None:
            t.notes = notes
        if label and label != t.label:
            session.add(TopicEvent(at=now, kind="rename", topic_id=topic_id, detail={"from": t.label, "to": label}))
            t.label, t.label_locked, t.label_source = label, True, "writer"
        session.commit()
        return t


def _doc_page(session: Session, url: str) -> str:
    """The page a writer named: an ingested document's URL or an http(s) address.

    A document may be named by its /kb/ viewer link too, and with a section's #anchor. Anything else is refused,
    so a topic never points at a typo.
    """
    wanted = url.removeprefix("/kb/")
    page = wanted.split("#", 1)[0]
    if page and session.exec(select(Document.url).where(Document.url == page)).first() is not None:
        return wanted
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc and not any(c.isspace() for c in url) and len(url) <= 2000:
        return url
    raise CurationError(f"{url!r} is neither an ingested document's URL nor an http(s) address")


def merge_topics(runtime: Runtime, source_ids: Sequence[int], into: int) -> Topic:
    """Move every question of `source_ids` into topic `into`; the sources become "merged into" it for good."""
    sources = [s for s in dict.fromkeys(source_ids) if s != into]
    if not sources:
        raise CurationError("name at least one other topic to merge into this one")
    with (
        exclusive(runtime.engine, runtime.settings.topic_wait_seconds),
        Session(runtime.engine, expire_on_commit=False) as session,
    ):
        target = _get(session, into, active=True)
        rows = [_get(session, s, active=True) for s in sources]
        questions = session.exec(select(Question).where(col(Question.topic_id).in_(sources))).all()
        for q in questions:
            q.topic_id = target.id
        now = runtime.clock()
        for src in rows:
            src.merged_into, src.active, src.size = target.id, False, 0
            for child in session.exec(select(Topic).where(Topic.split_from == src.id)).all():
                child.split_from = target.id
            session.add(TopicEvent(at=now, kind="merge", topic_id=src.id or 0, other_topic_id=target.id, detail={}))
        session.flush()
        _recentre(session, runtime, [target])
        refresh_topics(session, runtime)
        session.commit()
    retitle(runtime)
    return target


def split_topic(
    runtime: Runtime, topic_id: int, question_ids: Sequence[int] | None = None, label: str | None = None
) -> Topic:
    """Move some of a topic's questions to a new topic; without a list, cut the topic in two by its own content.

    The new topic records `split_from`, so later re-clusterings keep the two apart.
    """
    with (
        exclusive(runtime.engine, runtime.settings.topic_wait_seconds),
        Session(runtime.engine, expire_on_commit=False) as session,
    ):
        original = _get(session, topic_id, active=True)
        members = session.exec(select(Question).where(Question.topic_id == topic_id).order_by(col(Question.id))).all()
        if len(members) < 2:
            raise CurationError(f"topic {topic_id} has fewer than two questions; nothing to split")
        if question_ids is None:
            moving = _halves(runtime, members)
        else:
            wanted = set(question_ids)
            moving = [q for q in members if q.id in wanted]
            unknown = wanted - {q.id for q in moving}
            if unknown:
                raise CurationError(f"questions not in topic {topic_id}: {', '.join(map(str, sorted(unknown)))}")
        if not moving or len(moving) == len(members):
            raise CurationError("a split must leave questions on both sides")
        new = Topic(label=label or "", split_from=topic_id)
        if label:
            new.label_locked, new.label_source = True, "writer"
        session.add(new)
        session.flush()
        for q in moving:
            q.topic_id = new.id
        session.add(
            TopicEvent(
                at=runtime.clock(),
                kind="split",
                topic_id=topic_id,
                other_topic_id=new.id,
                detail={"questions": len(moving)},
            )
        )
        session.flush()
        _recentre(session, runtime, [original, new])
        refresh_topics(session, runtime)
        session.commit()
    retitle(runtime)
    return new


def lineage(runtime: Runtime, topic_id: int) -> list[LineageEntry]:
    """Every event that involved the topic, oldest first."""
    with Session(runtime.engine) as session:
        events = session.exec(
            select(TopicEvent)
            .where(or_(TopicEvent.topic_id == topic_id, TopicEvent.other_topic_id == topic_id))
            .order_by(col(TopicEvent.at), col(TopicEvent.id))
        ).all()
    return [
        LineageEntry(e.at.isoformat(), e.kind, e.topic_id, e.other_topic_id, e.actor, e.detail or {}) for e in events
    ]


def _get(session: Session, topic_id: int, active: bool = False) -> Topic:
    t = session.get(Topic, topic_id)
    if t is None:
        raise LookupError(f"no topic {topic_id}")
    if active and not t.active:
        into = f" (merged into {t.merged_into})" if t.merged_into else ""
        raise CurationError(f"topic {topic_id} is no longer active{into}")
    return t


def _halves(runtime: Runtime, members: Sequence[Question]) -> list[Question]:
    """The smaller side of a two-way average-linkage cut of the topic's own questions."""
    vectors = runtime.vectors.get_vectors(QUESTIONS, [str(q.id) for q in members])
    labels = AgglomerativeClustering(n_clusters=2, metric="cosine", linkage="average").fit_predict(vectors)
    smaller = int(np.argmin(np.bincount(labels, minlength=2)))
    return [q for q, lab in zip(members, labels, strict=True) if lab == smaller]


def _recentre(session: Session, runtime: Runtime, topics: Sequence[Topic]) -> None:
    """Recompute the centroid of each topic and its members' similarity to it."""
    for t in topics:
        members = session.exec(select(Question).where(Question.topic_id == t.id)).all()
        if not members:
            continue
        vectors = runtime.vectors.get_vectors(QUESTIONS, [str(q.id) for q in members]).astype(np.float64)
        centroid = vectors.sum(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        t.centroid = [round(float(x), 6) for x in centroid]
        for q, s in zip(members, vectors @ centroid, strict=True):
            q.topic_similarity = round(float(s), 4)
