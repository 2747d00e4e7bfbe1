"""Active topics' centroids, held per process and reloaded only when the topics change.

Matching a question to its nearest topic used to load every topic row (centroids as JSON) on every answer: a
fifth of an offline answer's time, all of it holding the GIL (`bench/answers.py`). The cache is keyed by the
database URL and a cheap version of the active topics (count, highest id, total size, latest question seen),
which every re-clustering changes; labels are read fresh for the one topic that matched, so a writer's rename
shows at once.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, col, select

from core.models import Topic
from core.runtime import Runtime


class CentroidCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple[Any, ...], list[int], np.ndarray]] = {}
        self._lock = threading.Lock()

    def nearest(self, runtime: Runtime, qvec: np.ndarray, min_similarity: float) -> tuple[int | None, str | None]:
        """The active topic whose centroid is closest to `qvec`, if at least `min_similarity`; else (None, None)."""
        with Session(runtime.engine) as session:
            [(topic_id, similarity)] = self._closest(session, str(runtime.engine.url), np.asarray([qvec]))
            if topic_id is None or similarity < min_similarity:
                return None, None
            topic = session.get(Topic, topic_id)
            return (topic.id, topic.label) if topic is not None else (None, None)

    def closest(self, runtime: Runtime, qvecs: np.ndarray) -> list[tuple[int | None, float]]:
        """Each vector's closest active topic and its cosine, however far (None when there are no topics)."""
        with Session(runtime.engine) as session:
            return self._closest(session, str(runtime.engine.url), qvecs)

    def ranked(self, runtime: Runtime, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The `k` active topics closest to `qvec`, closest first, with their cosines."""
        with Session(runtime.engine) as session:
            ids, matrix = self._load(session, str(runtime.engine.url))
        if not ids:
            return []
        sims = matrix @ np.asarray(qvec, dtype=np.float32)
        order = np.argsort(-sims)[:k]
        return [(ids[int(i)], float(sims[i])) for i in order]

    def _closest(self, session: Session, key: str, qvecs: np.ndarray) -> list[tuple[int | None, float]]:
        ids, matrix = self._load(session, key)
        if not ids or len(qvecs) == 0:
            return [(None, 0.0)] * len(qvecs)
        sims = np.asarray(qvecs, dtype=np.float32) @ matrix.T
        best = np.argmax(sims, axis=1)
        return [(ids[int(b)], float(sims[i, b])) for i, b in enumerate(best)]

    def _load(self, session: Session, key: str) -> tuple[list[int], np.ndarray]:
        active = col(Topic.active).is_(True)
        version = tuple(
            session.exec(
                select(func.count(), func.max(Topic.id), func.sum(Topic.size), func.max(Topic.last_seen)).where(active)
            ).one()
        )
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None and cached[0] == version:
            return cached[1], cached[2]
        rows = [(i, c) for i, c in session.exec(select(Topic.id, Topic.centroid).where(active)).all() if c]
        ids = [int(i) for i, _ in rows]  # type: ignore[arg-type]
        matrix = np.asarray([c for _, c in rows], dtype=np.float32) if rows else np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            self._entries[key] = (version, ids, matrix)
        return ids, matrix


TOPICS = CentroidCache()
"""One per process (a cache of what the database holds, validated on every use, not state of its own)."""
