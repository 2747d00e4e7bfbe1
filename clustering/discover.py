"""Topic discovery without being told how many topics there are.

Average-linkage agglomerative clustering on cosine distance, cut at a fixed distance: the number of topics
follows from how far apart questions are, not from a k chosen up front. Clusters smaller than `min_size` are
not topics; their questions are then attached to the nearest topic if close enough, else left unassigned (-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering


@dataclass(frozen=True)
class Discovery:
    labels: np.ndarray
    """Cluster index per question, -1 for unassigned."""
    centroids: np.ndarray
    """L2-normalised centroid per cluster index."""
    similarity: np.ndarray
    """Cosine similarity of each question to its cluster's centroid (0 when unassigned)."""


class AgglomerativeDiscoverer:
    def __init__(self, distance_threshold: float = 0.5, min_size: int = 5, attach_similarity: float = 0.5) -> None:
        self.distance_threshold = distance_threshold
        self.min_size = min_size
        self.attach_similarity = attach_similarity

    def discover(self, vectors: np.ndarray) -> Discovery:
        n = len(vectors)
        if n < self.min_size:
            return Discovery(np.full(n, -1), np.zeros((0, vectors.shape[1] if n else 0)), np.zeros(n))
        raw = AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=self.distance_threshold
        ).fit_predict(vectors)
        ids, counts = np.unique(raw, return_counts=True)
        keep = ids[counts >= self.min_size]
        remap = {int(old): new for new, old in enumerate(keep)}
        labels = np.array([remap.get(int(r), -1) for r in raw])
        centroids = _centroids(vectors, labels, len(keep))
        if len(keep):
            sims = vectors @ centroids.T
            orphans = labels == -1
            best = sims.argmax(axis=1)
            attach = orphans & (sims.max(axis=1) >= self.attach_similarity)
            labels[attach] = best[attach]
            centroids = _centroids(vectors, labels, len(keep))
            sims = vectors @ centroids.T
            similarity = np.where(labels >= 0, sims[np.arange(n), np.maximum(labels, 0)], 0.0)
        else:
            similarity = np.zeros(n)
        return Discovery(labels, centroids, similarity)


def _centroids(vectors: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((k, vectors.shape[1]), dtype=np.float32)
    for i in range(k):
        c = vectors[labels == i].mean(axis=0)
        out[i] = c / (np.linalg.norm(c) or 1.0)
    return out
