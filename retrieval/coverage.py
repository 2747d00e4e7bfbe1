"""How well the docs answer each topic, what kind of gap it is, and how urgent (the gap score).

Coverage is the mean, over a topic's most central questions, of the best doc passage's similarity to the
question: the docs' answer to "would retrieval find something that addresses this?". It is calibrated per
embedding model (thresholds below are for all-MiniLM-L6-v2). Gap score weighs recent volume, distinct accounts
and growth by how uncovered the topic is, so a busy, spreading, undocumented topic rises to the top.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlmodel import Session, col, select

from clustering.trends import growth, weekly_series
from docgap.models import Question, Topic
from docgap.runtime import Runtime
from docgap.vectors import QUESTIONS
from retrieval.index import search

REPRESENTATIVES = 8
RECENT_WEEKS = 8


@dataclass(frozen=True)
class CoverageThresholds:
    covered: float = 0.58
    """At or above: the docs answer it."""
    missing: float = 0.5
    """Below: nothing relevant in the docs. In between: partial."""


def gap_kind(coverage: float, t: CoverageThresholds) -> str | None:
    if coverage < t.missing:
        return "missing"
    if coverage < t.covered:
        return "partial"
    return None


def assess_topics(runtime: Runtime, thresholds: CoverageThresholds | None = None) -> int:
    """Compute coverage, gap kind, linked docs and gap score for every active topic; returns topics assessed."""
    t = thresholds or CoverageThresholds()
    now = runtime.clock()
    with Session(runtime.engine, expire_on_commit=False) as session:
        topics = session.exec(select(Topic).where(col(Topic.active).is_(True))).all()
        rows = session.exec(
            select(
                Question.id, Question.topic_id, Question.created_at, Question.account_id, Question.topic_similarity
            ).where(col(Question.topic_id).is_not(None))
        ).all()
        by_topic: dict[int, list] = defaultdict(list)
        for r in rows:
            by_topic[r[1]].append(r)
        raw: dict[int, tuple[float, float, float]] = {}
        for topic in topics:
            members = by_topic.get(topic.id or -1, [])
            central = sorted(members, key=lambda r: -(r[4] or 0))[:REPRESENTATIVES]
            vectors = runtime.vectors.get_vectors(QUESTIONS, [str(r[0]) for r in central])
            best: list[float] = []
            urls: Counter[str] = Counter()
            for v in vectors:
                passages = search(runtime, v, k=3)
                if passages:
                    best.append(passages[0].score)
                    urls[passages[0].url.split("#")[0]] += 1
            topic.coverage = round(float(np.mean(best)), 4) if best else 0.0
            topic.gap_kind = gap_kind(topic.coverage, t)
            topic.doc_urls = [u for u, _ in urls.most_common(3)]
            series = weekly_series([r[2] for r in members], now.date() - timedelta(weeks=26), now.date())
            recent = sum(c for _, c in series[-RECENT_WEEKS:])
            accounts = len({r[3] for r in members if r[3] and r[2] >= now - timedelta(weeks=RECENT_WEEKS)})
            raw[topic.id or -1] = (recent, accounts, growth(series))
        max_recent = max((v[0] for v in raw.values()), default=1) or 1
        max_accounts = max((v[1] for v in raw.values()), default=1) or 1
        for topic in topics:
            recent, accounts, g = raw[topic.id or -1]
            uncovered = 1.0 - min(max(((topic.coverage or 0) - 0.3) / (t.covered + 0.1 - 0.3), 0.0), 1.0)
            demand = 0.5 * recent / max_recent + 0.35 * accounts / max_accounts + 0.15 * min(max(g, 0.0), 1.0)
            topic.gap_score = round(100 * uncovered * demand, 1)
        session.commit()
        return len(topics)
