"""The re-cluster use case: discover topics over all embedded questions, keep ids, label, store."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, col, select

from clustering.discover import AgglomerativeDiscoverer
from clustering.identity import match_clusters
from clustering.labels import class_tfidf_keywords, keyword_label
from docgap.models import Question, Topic
from docgap.runtime import Runtime
from docgap.vectors import QUESTIONS

EXAMPLES = 5


@dataclass(frozen=True)
class ClusterResult:
    questions: int
    topics: int
    new_topics: int
    kept_topics: int
    retired_topics: int
    unassigned: int


def recluster(runtime: Runtime, discoverer: AgglomerativeDiscoverer | None = None) -> ClusterResult:
    discoverer = discoverer or AgglomerativeDiscoverer()
    with Session(runtime.engine, expire_on_commit=False) as session:
        questions = session.exec(
            select(Question).where(col(Question.embedded).is_(True)).order_by(col(Question.id))
        ).all()
        vectors = runtime.vectors.get_vectors(QUESTIONS, [str(q.id) for q in questions])
        found = discoverer.discover(vectors)
        k = len(found.centroids)
        mapping = match_clusters(found.labels.tolist(), [q.topic_id for q in questions])
        previous = {t.id: t for t in session.exec(select(Topic).where(col(Topic.merged_into).is_(None))).all()}
        members: list[list[int]] = [[] for _ in range(k)]
        for i, label in enumerate(found.labels):
            if label >= 0:
                members[label].append(i)
        keywords = class_tfidf_keywords([[questions[i].text for i in m] for m in members])
        topics: list[Topic] = []
        for c in range(k):
            topic = previous.get(mapping[c]) if c in mapping else None
            if topic is None:
                topic = Topic(label="")
                session.add(topic)
            idx = members[c]
            closest = sorted(idx, key=lambda i: -float(found.similarity[i]))
            topic.keywords = keywords[c]
            if not topic.label_locked:
                topic.label = keyword_label(keywords[c])
            topic.examples = _diverse_examples([questions[i].text for i in closest])
            topic.centroid = [round(float(x), 6) for x in found.centroids[c]]
            topic.size = len(idx)
            topic.account_count = len({questions[i].account_id for i in idx if questions[i].account_id})
            topic.first_seen = min(questions[i].created_at for i in idx)
            topic.last_seen = max(questions[i].created_at for i in idx)
            topic.active = True
            topics.append(topic)
        kept = {t.id for t in topics if t.id is not None}
        for tid, t in previous.items():
            if tid not in kept:
                t.active, t.size = False, 0
        session.flush()
        for i, q in enumerate(questions):
            label = int(found.labels[i])
            q.topic_id = topics[label].id if label >= 0 else None
            q.topic_similarity = round(float(found.similarity[i]), 4) if label >= 0 else None
        session.commit()
        return ClusterResult(
            questions=len(questions),
            topics=k,
            new_topics=k - len(kept),
            kept_topics=len(kept),
            retired_topics=len(previous) - len(kept),
            unassigned=int(np.sum(found.labels < 0)),
        )


def _diverse_examples(texts_by_closeness: list[str]) -> list[str]:
    """The most central questions, skipping near-verbatim repeats so the examples show the topic's range."""
    out: list[str] = []
    for t in texts_by_closeness:
        norm = " ".join(t.lower().split())
        if all(norm != " ".join(o.lower().split()) for o in out):
            out.append(t)
        if len(out) == EXAMPLES:
            break
    return out
